package engine

import "github.com/smtprun/smtprun/internal/smtp"

// Reply is one complete SMTP reply (RFC 5321 4.2), possibly multi-line; the
// protocol core defines it, and its reader, for the engine, the sandbox and
// the knowledge base alike.
type Reply = smtp.Reply

// Limits on what a server may send (see smtp.MaxReplyLine): a flooding
// server ends in a ProtocolError, not in unbounded memory.
const (
	MaxReplyLine  = smtp.MaxReplyLine
	MaxReplyLines = smtp.MaxReplyLines
	MaxReplyBytes = smtp.MaxReplyBytes
)

// Escape makes server bytes safe to print: valid printable UTF-8 passes,
// everything else becomes \xNN, so a hostile server cannot reach the
// terminal.
func Escape(b []byte) string { return smtp.Escape(b) }
