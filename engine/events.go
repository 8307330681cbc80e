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

// Event is one of the types below. Events carry facts (roles, codes,
// times), not sentences: the words belong to whoever renders them.
//
// Every event leaves the engine through one exit (session.emit) that
// calls redact, so an event type that carries text cannot be added
// without saying how it is masked: without the method it does not compile.
// The one exception, lean mode's ReplyTime handed by value to a
// ReplyTimer (emitReplyTime), is masked by the same method.
type Event interface {
	redact(r *redactor) Event
}

// StepStarted is reported before each step runs.
type StepStarted struct {
	Step   int     // index in the script's steps, from 0
	Pos    dsl.Pos // where the step starts
	Kind   string  // "connect", "send", "expect", ... "note"
	Source string  // the script line, trimmed, for display
}

// Connected is reported once the TCP connection is open.
type Connected struct {
	Step    int
	Address string // as written in the script, after interpolation
	Via     string // the address dialled instead, by a WithConnectTo rule; "" if none
	Remote  string // the peer's address
	At      time.Time
	Took    time.Duration // to open the connection
}

// Role is what a line written to the server is.
type Role int

const (
	RoleCommand         Role = iota // a command the script wrote
	RoleRaw                         // bytes of a raw step, shown escaped, no CRLF appended
	RoleContent                     // a line of message content, inside DATA
	RoleEndOfData                   // the lone dot that ends message content
	RoleAuth                        // the AUTH command (with no initial response, or a non-secret one)
	RoleUsername                    // a SASL response carrying a user name
	RolePassword                    // a SASL response carrying a password
	RoleCredentials                 // a SASL response packing user and password (PLAIN)
	RoleDigest                      // a SASL response carrying a keyed digest (CRAM-MD5)
	RoleCancel                      // "*", cancelling a SASL exchange (RFC 4954 4)
	RoleQuitOnInterrupt             // QUIT said because the run was interrupted
	RoleToken                       // a SASL response packing user and OAuth bearer token (XOAUTH2, OAUTHBEARER)
	RoleAcknowledge                 // the dummy answer to an OAuth error challenge (RFC 7628 3.2.3)
)

var roleNames = [...]string{"command", "raw", "content", "end of data", "auth", "username", "password",
	"credentials", "digest", "cancel", "quit on interrupt", "token", "acknowledge"}

// String is a stable name for reports, not prose.
func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return "unknown"
}

// MarshalText makes a JSON report show the name.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Secret reports whether a line with this role carries a credential; its
// text is then always a mask.
func (r Role) Secret() bool {
	return r == RolePassword || r == RoleCredentials || r == RoleDigest || r == RoleToken
}

// Sent is one line written to the server, without its CRLF, masked and
// escaped for display like every text an event carries (see Escape).
type Sent struct {
	Step int
	Line string
	TLS  bool
	Role Role
	// Mechanism is the SASL mechanism of an AUTH exchange ("PLAIN"), for
	// the lines of that exchange.
	Mechanism string
	// At is when the line was handed to the connection; pipelined lines go
	// out together at the next read (see Received.Asked).
	At time.Time
}

// DataSummary follows the content lines of a message.
type DataSummary struct {
	Step  int
	Lines int
	Bytes int64 // on the wire, with CRLFs and dot-stuffing
	TLS   bool
	// Binary marks content sent as is with BDAT; Lines is then zero.
	Binary bool
}

// Received is one complete reply.
type Received struct {
	Step  int
	Reply *Reply
	TLS   bool
	// Masked marks a reply whose text was masked because it echoed a secret.
	Masked bool
	// Answers is the command line this reply answers, matched in order
	// (RFC 2920): smtp.Greeting after connect, smtp.Message after content,
	// "" when it cannot be known (after raw bytes).
	Answers string
	ReplyTiming
}

// ReplyTiming says when a reply came, measured from the command it
// answers, so neither pipelining nor a pause between steps inflates it.
type ReplyTiming struct {
	// Asked is when the command this reply answers went out on the wire
	// (for the greeting, when the connection opened); zero after raw bytes.
	Asked time.Time
	// First and Last are when the reply's first and last bytes were read
	// from the connection.
	First, Last time.Time
}

// Elapsed is the time from the command to the whole reply, or zero when
// the command is unknown.
func (t ReplyTiming) Elapsed() time.Duration {
	if t.Asked.IsZero() || t.Last.Before(t.Asked) {
		return 0
	}
	return t.Last.Sub(t.Asked)
}

// TLSEstablished follows a successful handshake.
type TLSEstablished struct {
	Step        int
	Version     string // "TLS 1.3"
	CipherSuite string
	ServerName  string
	// Verified is false only with WithInsecure.
	Verified bool
	// Implicit is true for `connect ... tls`, false after STARTTLS.
	Implicit bool
	Took     time.Duration // the handshake
	// Resumed: the handshake resumed an earlier session
	// (WithTLSSessionCache) instead of a full one.
	Resumed bool
}

// Notice is something the user should know that is not on the wire. Code
// names it; the words are the renderer's.
type Notice struct {
	Step int
	Code NoticeCode
}

// NoticeCode names a Notice.
type NoticeCode string

// NoticeCapabilitiesForgotten: after STARTTLS, what EHLO said before is
// discarded and EHLO must be sent again (RFC 3207 4.2).
const NoticeCapabilitiesForgotten NoticeCode = "starttls-forgets-capabilities"

// NoticeShortSecret: a secret is shorter than ShortSecret bytes. It is
// masked all the same, so the same letters are masked inside other words
// (STARTTLS for "TLS"), which mangles the transcript and hints at it.
const NoticeShortSecret NoticeCode = "short-secret"

// NoticePipeliningUnannounced: the script sent a command before reading
// the reply to the one before, and the server's EHLO did not announce
// PIPELINING (or there was no EHLO): RFC 2920 3.1 allows that only when
// it did.
const NoticePipeliningUnannounced NoticeCode = "pipelining-not-announced"

// Narration is the text of a note step, the script's own words.
type Narration struct {
	Step int
	Text string
}

// ExpectPassed reports that an expect step held.
type ExpectPassed struct {
	Step int
	// Held is set when the reply was read by the auth step before it, and
	// so was reported there.
	Held *Reply
}

// OAuthRefused reports the JSON error a server sent as a 334 challenge
// when it refused an OAuth token (RFC 7628 3.2.2; Gmail's XOAUTH2 too),
// decoded from its base64.
type OAuthRefused struct {
	Step      int
	Mechanism string
	JSON      string // the decoded challenge, as sent
	OAuthError
}

// OAuthError is what the server said about a refused token: an HTTP-like
// status ("400", "401", "invalid_token"), the schemes it takes and the
// scope the token needs.
type OAuthError struct {
	Status, Schemes, Scope string
}

func (o OAuthError) masked(r *redactor) OAuthError {
	return OAuthError{r.maskString(o.Status), r.maskString(o.Schemes), r.maskString(o.Scope)}
}

// Closed is reported when the connection ends.
type Closed struct {
	Step     int
	ByServer bool
}

// Every text field is masked, even those that hold names the engine chose
// (a kind, a cipher suite): the rule stays simple to check, and a test
// fills each string field of each event with a secret.

func (ev StepStarted) redact(r *redactor) Event {
	ev.Kind, ev.Source = r.show(ev.Kind), r.showSource(ev.Source)
	return ev
}
func (ev Connected) redact(r *redactor) Event {
	ev.Address, ev.Via, ev.Remote = r.show(ev.Address), r.show(ev.Via), r.show(ev.Remote)
	return ev
}
func (ev Sent) redact(r *redactor) Event {
	ev.Line, ev.Mechanism = r.show(ev.Line), r.show(ev.Mechanism)
	if ev.Role.Secret() {
		// Whatever the redactor knows, a credential line shows nothing of
		// its response.
		ev.Line = maskResponse(ev.Line)
	}
	return ev
}
func (ev DataSummary) redact(*redactor) Event { return ev } // numbers only
func (ev Received) redact(r *redactor) Event {
	ev.Reply, ev.Masked = r.maskReply(ev.Reply)
	ev.Answers = r.show(ev.Answers)
	return ev
}
func (ev TLSEstablished) redact(r *redactor) Event {
	ev.Version, ev.CipherSuite = r.show(ev.Version), r.show(ev.CipherSuite)
	ev.ServerName = r.show(ev.ServerName)
	return ev
}
func (ev Notice) redact(r *redactor) Event {
	ev.Code = NoticeCode(r.show(string(ev.Code)))
	return ev
}
func (ev Narration) redact(r *redactor) Event    { ev.Text = r.show(ev.Text); return ev }
func (ev ExpectPassed) redact(r *redactor) Event { ev.Held, _ = r.maskReply(ev.Held); return ev }
func (ev Closed) redact(*redactor) Event         { return ev } // a flag only
func (ev OAuthRefused) redact(r *redactor) Event {
	ev.Mechanism, ev.JSON = r.maskString(ev.Mechanism), r.maskString(ev.JSON)
	ev.OAuthError = ev.OAuthError.masked(r)
	return ev
}
