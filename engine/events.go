package engine

import (
	"time"

	"github.com/smtprun/smtprun/dsl"
)

// Observer receives the events of a run, in order, from the goroutine that
// called Run. Secrets are already masked in everything it receives.
type Observer interface {
	Event(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// Event implements Observer.
func (f ObserverFunc) Event(e Event) { f(e) }

// Event is one of the types below.
type Event interface{ isEvent() }

// StepStarted is reported before each step runs.
type StepStarted struct {
	Step dsl.Step
	Line string // the script line, for display
}

// Connected is reported once the TCP connection is open.
type Connected struct {
	Address string // as written in the script, after interpolation
	Remote  string // the peer's address
}

// Sent is one line written to the server, without its CRLF.
type Sent struct {
	Line string
	TLS  bool
	// Masked is set when Line is a placeholder for a credential-bearing
	// line; Note then says what was sent ("password, base64").
	Masked bool
	Note   string
	// Data marks a line of message content (inside DATA).
	Data bool
	// Raw marks bytes from a raw step, shown escaped (\r\n), exactly as
	// written: no CRLF was appended.
	Raw bool
}

// DataSummary follows the content lines of a message.
type DataSummary struct {
	Lines int
	Bytes int64 // on the wire, with CRLFs and dot-stuffing
	TLS   bool
	// Binary marks content sent as is with BDAT; Lines is then zero.
	Binary bool
}

// Received is one complete reply.
type Received struct {
	Reply   *Reply
	TLS     bool
	Elapsed time.Duration // since the last flush of commands to the server
	// Masked marks a reply whose text was masked because it echoed a secret.
	Masked bool
	// Answers is the command line this reply answers, matched in order
	// (RFC 2920): "(greeting)" after connect, "(message)" after content,
	// "" when it cannot be known (after raw bytes).
	Answers string
}

// TLSEstablished follows a successful handshake.
type TLSEstablished struct {
	Version     string // "TLS 1.3"
	CipherSuite string
	ServerName  string
	// Verified is false only with WithInsecure.
	Verified bool
	// Implicit is true for `connect ... tls`, false after STARTTLS.
	Implicit bool
}

// Notice is something the user should know that is not on the wire, such
// as "the server's capabilities from before TLS are forgotten".
type Notice struct {
	Text string
}

// Narration is the text of a note step, the script's own words.
type Narration struct {
	Text string
}

// ExpectPassed reports that an expect step held.
type ExpectPassed struct {
	Step *dsl.Expect
	// Held is set when the reply was read by the auth step before it, and
	// so was reported there.
	Held *Reply
}

// Closed is reported when the connection ends.
type Closed struct {
	ByServer bool
}

func (StepStarted) isEvent()    {}
func (Connected) isEvent()      {}
func (Sent) isEvent()           {}
func (DataSummary) isEvent()    {}
func (Received) isEvent()       {}
func (TLSEstablished) isEvent() {}
func (Notice) isEvent()         {}
func (Narration) isEvent()      {}
func (ExpectPassed) isEvent()   {}
func (Closed) isEvent()         {}
