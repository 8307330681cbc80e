package engine

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/smtprun/smtprun/dsl"
)

// AssertError: a reply did not match an expect step: the server answered,
// and not as the script said it would.
type AssertError struct {
	Pos  dsl.Pos
	Span int
	Want string // the expectation as written, e.g. "235" or `250 "queued"`
	Got  *Reply // nil when no reply came
	// Reason is what did not match: "code" or "text"; with no reply (Got
	// nil, for expect closed) it says what was seen instead.
	Reason string
	// OAuth is set when the reply ends an AUTH exchange in which the
	// server refused the OAuth token with a JSON challenge.
	OAuth *OAuthError
}

func (e *AssertError) Error() string {
	if e.Got == nil {
		return fmt.Sprintf("%s: expectation failed: want %s, but the connection is %s", dsl.Where(e.Pos), e.Want, e.Reason)
	}
	return fmt.Sprintf("%s: expectation failed: want %s, server replied %s", dsl.Where(e.Pos), e.Want, e.Got.Summary())
}

// Diagnostic implements dsl.Diagnoser.
func (e *AssertError) Diagnostic() *dsl.Error {
	d := &dsl.Error{Pos: e.Pos, Span: e.Span, Title: "expectation failed"}
	if e.Got == nil {
		d.Label = "the connection is " + e.Reason
		return d
	}
	lines := e.Got.Lines
	if e.Reason == "text" {
		d.Label = "reply text did not match; server replied "
	} else {
		d.Label = "server replied "
	}
	// The reply's other lines go under its first, as the server sent them.
	d.ContinueAt = len(d.Label)
	d.Label += lines[0]
	d.Continued = lines[1:]
	if o := e.OAuth; o != nil {
		n := "the server refused the OAuth token: status " + o.Status
		if o.Scope != "" {
			n += ", scope " + o.Scope
		}
		d.Notes = append(d.Notes, n)
	}
	return d
}

// ProtocolError: the server broke the protocol, e.g. a malformed reply or
// bytes injected after the 220 to STARTTLS: the script may be right, the
// server is not.
type ProtocolError struct {
	Pos  dsl.Pos
	Span int
	Msg  string
	// Detail is the offending data, escaped for display.
	Detail string
	// received are the offending bytes as read, when the engine has them:
	// Detail is made from them on the way out, masked before it is
	// escaped and cut.
	received []byte
}

func (e *ProtocolError) Error() string {
	s := fmt.Sprintf("%s: protocol error: %s", dsl.Where(e.Pos), e.Msg)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Diagnostic implements dsl.Diagnoser.
func (e *ProtocolError) Diagnostic() *dsl.Error {
	d := &dsl.Error{Pos: e.Pos, Span: e.Span, Title: "protocol error", Label: e.Msg}
	if e.Detail != "" {
		d.Notes = []string{"received: " + e.Detail}
	}
	return d
}

// TimeoutError: the server did not answer within the deadline, which
// says nothing of whether the script is right.
type TimeoutError struct {
	Pos   dsl.Pos
	Span  int
	Op    string // what was waited for: "connect", "reply", "TLS handshake", ...
	After time.Duration
	// Greeting is set when the wait was for the greeting on a connection
	// without TLS, on the script's Port: a server that speaks TLS from the
	// first byte (port 465) says nothing until the client's handshake.
	Greeting bool
	Port     string
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s: timeout: no %s within %s", dsl.Where(e.Pos), e.Op, e.After)
}

// Diagnostic implements dsl.Diagnoser.
func (e *TimeoutError) Diagnostic() *dsl.Error {
	return &dsl.Error{Pos: e.Pos, Span: e.Span, Title: "timeout",
		Label: fmt.Sprintf("no %s within %s", e.Op, e.After)}
}

// NetError: connecting, the TLS handshake, or the connection itself
// failed: the network's doing, not the script's. Err is the cause as the network or crypto/tls gave it
// (*net.DNSError, x509.HostnameError, ...) or one of the Err* values of
// this package, for errors.Is and errors.As.
type NetError struct {
	Pos  dsl.Pos
	Span int
	Op   string // "connect to smtp.gmail.com:587", "TLS handshake", "read", ...
	Err  error
	// Address is the HOST:PORT dialled, for a failed connect.
	Address string
}

func (e *NetError) Error() string {
	return fmt.Sprintf("%s: %s: %v", dsl.Where(e.Pos), e.Op, e.Err)
}

func (e *NetError) Unwrap() error { return e.Err }

// Diagnostic implements dsl.Diagnoser.
func (e *NetError) Diagnostic() *dsl.Error {
	return &dsl.Error{Pos: e.Pos, Span: e.Span, Title: e.Op + " failed", Label: e.Err.Error()}
}

// PolicyError: the engine refused to do something unsafe that the script
// asked for, such as sending credentials without TLS; the script runs
// with an option that allows it, or on a connection where it is safe.
type PolicyError struct {
	Pos  dsl.Pos
	Span int
	Rule Rule
	Msg  string
}

// Rule names the safety rule behind a PolicyError.
type Rule string

const (
	// RulePlaintextAuth: no credentials over an unencrypted connection to
	// a peer that is not loopback (WithPlaintextAuth lifts it).
	RulePlaintextAuth Rule = "plaintext-auth"
	// RuleOneTLS: one TLS negotiation per connection (RFC 3207).
	RuleOneTLS Rule = "already-tls"
	// RuleBinaryNeedsExtensions: binary content needs CHUNKING and
	// BINARYMIME announced (RFC 3030).
	RuleBinaryNeedsExtensions Rule = "binary-needs-extensions"
)

func (e *PolicyError) Error() string { return fmt.Sprintf("%s: refused: %s", dsl.Where(e.Pos), e.Msg) }

// Diagnostic implements dsl.Diagnoser.
func (e *PolicyError) Diagnostic() *dsl.Error {
	return &dsl.Error{Pos: e.Pos, Span: e.Span, Title: "refused", Label: e.Msg}
}

// InputError is a script error found only at run time, once variables are
// expanded: an address without a port, a line break in a command. It is a
// *dsl.Error to errors.As, so it is shown and classed as the script's
// mistake like any found by dsl.Check, and Code names it so the command
// can give help.
type InputError struct {
	Diag *dsl.Error
	Code InputCode
}

// InputCode names an InputError.
type InputCode string

const (
	InputAddressWithoutPort InputCode = "address-without-port"
	InputLineBreak          InputCode = "line-break-in-command"
	InputRepeatCount        InputCode = "repeat-count"
	// InputTooManySteps: a repeat count read from a variable makes the
	// run longer than dsl.MaxSteps; nothing of the block was run.
	InputTooManySteps InputCode = "too-many-steps"
)

func (e *InputError) Error() string { return e.Diag.Error() }
func (e *InputError) Unwrap() error { return e.Diag }

// ErrClosed is wrapped in a NetError when the server closed the connection
// while a reply was awaited.
var ErrClosed = errors.New("connection closed by server")

// ErrNotConfirmed is wrapped (with ErrClosed) when the connection closed
// after message content was sent and before the server's verdict on it:
// the message may or may not have been accepted.
var ErrNotConfirmed = errors.New("message not confirmed: the connection closed before the server replied to the final dot, so it may or may not have been accepted")

// ErrNotConnected is wrapped in a NetError when a step needs a connection
// and there is none.
var ErrNotConnected = errors.New("not connected")

// ErrSTARTTLSRefused is wrapped in a NetError when the server answers
// STARTTLS with anything but 220; nothing more was sent.
var ErrSTARTTLSRefused = errors.New("STARTTLS refused")

// errTLSIncomplete: a write was asked for on a connection whose TLS
// handshake began and did not finish; it would go out in plaintext.
var errTLSIncomplete = errors.New("the TLS handshake did not complete; nothing is sent in plaintext on this connection")

// ErrStopped is returned by a WithBeforeStep function, and then by Run,
// when the user ends the run early.
var ErrStopped = errors.New("stopped by the user")

// redactable is every error type the engine builds: each says how its
// text is masked, as each Event does. A test holds every type with an
// Error method in this package to it.
type redactable interface {
	error
	redact(r *redactor) error
}

// maskErr is the one point where an error leaves Run. An engine error
// masks itself (redactable); a script error is masked field by field;
// anything else (context.Canceled, an error from a dialer) is wrapped so
// its message is shown masked while errors.Is and errors.As still see it.
func (r *redactor) maskErr(err error) error {
	if err == nil {
		// before the targets of errors.As, which escape: every
		// successful run passes here
		return nil
	}
	var (
		rd redactable
		de *dsl.Error
		dl dsl.ErrorList
	)
	switch {
	case errors.As(err, &rd):
		return rd.redact(r)
	case errors.As(err, &dl):
		c := make(dsl.ErrorList, len(dl))
		for i, e := range dl {
			c[i] = r.maskDiag(e)
		}
		return c
	case errors.As(err, &de):
		return r.maskDiag(de)
	}
	if msg := err.Error(); r.show(msg) != msg {
		return &maskedError{msg: r.show(msg), err: err}
	}
	return err
}

func (r *redactor) maskDiag(de *dsl.Error) *dsl.Error {
	c := *de
	c.Label, c.Title = r.show(de.Label), r.show(de.Title)
	c.Notes = make([]string, len(de.Notes))
	for i, n := range de.Notes {
		c.Notes[i] = r.show(n)
	}
	return &c
}

func (e *InputError) redact(r *redactor) error {
	return &InputError{Diag: r.maskDiag(e.Diag), Code: e.Code}
}

func (e *AssertError) redact(r *redactor) error {
	c := *e
	c.Got, _ = r.maskReply(e.Got)
	c.Want, c.Reason = r.show(e.Want), r.show(e.Reason)
	if e.OAuth != nil {
		o := e.OAuth.masked(r)
		c.OAuth = &o
	}
	return &c
}

// maxDetail bounds the received bytes a ProtocolError quotes; the bytes
// are masked whole before they are cut, so a secret that straddles the
// cut is not half shown.
const maxDetail = 80

func (e *ProtocolError) redact(r *redactor) error {
	c := *e
	c.Msg, c.Detail = r.show(e.Msg), r.show(e.Detail)
	if e.received != nil {
		c.received = nil
		c.Detail = truncateShown(r.show(string(e.received)), maxDetail)
	}
	return &c
}

// truncateShown cuts escaped text at about n bytes without splitting a
// rune or an escape.
func truncateShown(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	// Back off to before a partial \xNN, \uNNNN or \UNNNNNNNN.
	if i := strings.LastIndexByte(s[:cut], '\\'); i >= 0 && cut-i < 10 {
		cut = i
	}
	return s[:cut] + "..."
}

func (e *NetError) redact(r *redactor) error {
	c := *e
	c.Op, c.Address = r.show(e.Op), r.show(e.Address)
	if msg := e.Err.Error(); r.show(msg) != msg {
		c.Err = &maskedError{msg: r.show(msg), err: e.Err}
	}
	return &c
}

func (e *PolicyError) redact(r *redactor) error {
	c := *e
	c.Msg = r.show(e.Msg)
	return &c
}

func (e *TimeoutError) redact(r *redactor) error {
	c := *e
	c.Op = r.show(e.Op)
	return &c
}

func (e *maskedError) redact(r *redactor) error {
	return &maskedError{msg: r.show(e.msg), err: e.err}
}

func (e *shortError) redact(r *redactor) error {
	return &shortError{msg: r.show(e.msg), err: e.err}
}

// maskedError shows a masked message for an error whose own text held a
// secret.
type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }
