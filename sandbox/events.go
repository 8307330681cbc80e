package sandbox

import "time"

// EventKind says what an Event reports.
type EventKind int

const (
	// ConnOpened: a client connected. Line describes the profile and mode.
	ConnOpened EventKind = iota + 1
	// LineReceived: a command line, or an AUTH response line (Secret),
	// without its CRLF. Message content is not reported line by line (but
	// see MessageLine, with Options.Explain): the end of DATA is one event
	// with Line "." and Bytes the message size, a BDAT chunk one with Bytes
	// its size.
	LineReceived
	// ReplySent: one whole reply: Code, Lines (as sent, without CRLF) and
	// Reason, why the session chose it.
	ReplySent
	// TLSStarted: the TLS handshake finished; Line names version and cipher.
	TLSStarted
	// MessageReceived: a message was accepted. Bytes is its size, Line its
	// queue ID, Path the .eml file when Options.SaveDir is set.
	MessageReceived
	// Note: something worth telling the person watching (a scenario that
	// does not apply to this provider, a message dropped on purpose, ...).
	Note
	// ConnClosed: the connection ended. Err says why when it was not a
	// QUIT (client vanished, idle timeout, too many errors, ...).
	ConnClosed
	// DiagnosisMade: the coach (Options.Explain) saw a client mistake or
	// something worth a warning; Diagnosis says which, and its Severity.
	DiagnosisMade
	// ReportCardMade: the coach's summary of a session, just before
	// ConnClosed; Report holds it.
	ReportCardMade
	// MessageLine: with Options.Explain, a line of the message being
	// received (every header line, the first and last body lines; a Note
	// counts the others), dot-unstuffed, without its line ending.
	MessageLine
	// DiagnosisWithdrawn: the coach takes back an earlier diagnosis of
	// the same rule (Diagnosis), which later events proved wrong: a
	// message said to be stuck in DATA that did end. The report card does
	// not count it.
	DiagnosisWithdrawn
)

func (k EventKind) String() string {
	switch k {
	case ConnOpened:
		return "opened"
	case LineReceived:
		return "received"
	case ReplySent:
		return "sent"
	case TLSStarted:
		return "tls"
	case MessageReceived:
		return "message"
	case Note:
		return "note"
	case ConnClosed:
		return "closed"
	case DiagnosisMade:
		return "diagnosis"
	case ReportCardMade:
		return "report"
	case MessageLine:
		return "message-line"
	case DiagnosisWithdrawn:
		return "diagnosis-withdrawn"
	}
	return "unknown"
}

// Event is one entry of the server-side transcript, for `smtprun serve`.
// Calls to Options.Observer are serialized: an observer needs no locking
// of its own, but it should return quickly, since connections wait for it.
type Event struct {
	Time    time.Time // from Options.Clock
	Conn    int64     // connection number, from 1, unique within a Sandbox
	Kind    EventKind
	Profile string // profile name
	Host    string // the host name the connection is for
	Remote  string // the client's address, as the server sees it
	Line    string // what happened, for every kind but ReplySent
	// Secret: the line carried credentials (an AUTH response, or an AUTH
	// command with one), which Line shows masked: the session never
	// reports a credential, in any encoding.
	Secret bool
	// For ReplySent: the reply code, the lines as sent, and the reason the
	// session chose the reply: a key of the profile's replies ("auth_failed",
	// see the profiles' README), a scenario's name for the scenario's own
	// reply ("greylisted"), or "auth_challenge_cram_md5".
	Code   int
	Lines  []string
	Reason string

	Bytes int64
	Path  string
	Err   error

	// With Options.Explain: the AUTH user name, decoded, of a LineReceived
	// that carried one (the password stays masked); the coach's Diagnosis
	// and ReportCard.
	User      string
	Diagnosis *Diagnosis
	Report    *ReportCard
}
