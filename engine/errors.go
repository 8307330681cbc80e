package engine

import (
	"errors"
	"fmt"
	"time"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/smtprun/smtprun/dsl"
)

// Diagnoser is implemented by every error Run returns that points at a
// script line; cmd renders the diagnostic with the source line.
type Diagnoser interface {
	Diagnostic() *dsl.Error
}

// AssertError: a reply did not match an expect step (exit code 4).
type AssertError struct {
	Pos  lexer.Position
	Span int
	Want string // the expectation as written, e.g. "235" or `250 "queued"`
	Got  *Reply // nil when no reply came
	// Reason is what did not match: "code" or "text"; with no reply (Got
	// nil, for expect closed) it says what was seen instead.
	Reason string
}

func (e *AssertError) Error() string {
	if e.Got == nil {
		return fmt.Sprintf("%s: expectation failed: want %s, but the connection is %s", dsl.Where(e.Pos), e.Want, e.Reason)
	}
	return fmt.Sprintf("%s: expectation failed: want %s, server replied %s", dsl.Where(e.Pos), e.Want, e.Got.Summary())
}

// Diagnostic implements Diagnoser.
func (e *AssertError) Diagnostic() *dsl.Error {
	d := &dsl.Error{Pos: e.Pos, Span: e.Span, Title: "expectation failed"}
	if e.Got == nil {
		d.Label = "the connection is " + e.Reason
		return d
	}
	lines := e.Got.Lines
	if e.Reason == "text" {
		d.Label = "reply text did not match; server replied " + lines[0]
	} else {
		d.Label = "server replied " + lines[0]
	}
	if len(lines) > 1 {
		d.Notes = append(d.Notes, lines[1:]...)
	}
	return d
}

// ProtocolError: the server broke the protocol, e.g. a malformed reply or
// bytes injected after the 220 to STARTTLS (exit code 3).
type ProtocolError struct {
	Pos  lexer.Position
	Span int
	Msg  string
	// Detail is the offending data, escaped for display.
	Detail string
}

func (e *ProtocolError) Error() string {
	s := fmt.Sprintf("%s: protocol error: %s", dsl.Where(e.Pos), e.Msg)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Diagnostic implements Diagnoser.
func (e *ProtocolError) Diagnostic() *dsl.Error {
	d := &dsl.Error{Pos: e.Pos, Span: e.Span, Title: "protocol error", Label: e.Msg}
	if e.Detail != "" {
		d.Notes = []string{"received: " + e.Detail}
	}
	return d
}

// TimeoutError: the server did not answer within the deadline (exit code 3).
type TimeoutError struct {
	Pos   lexer.Position
	Span  int
	Op    string // what was waited for: "connect", "reply", "TLS handshake", ...
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s: timeout: no %s within %s", dsl.Where(e.Pos), e.Op, e.After)
}

// Diagnostic implements Diagnoser.
func (e *TimeoutError) Diagnostic() *dsl.Error {
	return &dsl.Error{Pos: e.Pos, Span: e.Span, Title: "timeout",
		Label: fmt.Sprintf("no %s within %s", e.Op, e.After),
		Notes: []string{"help: a slow server may need a longer --timeout"}}
}

// NetError: connecting, the TLS handshake, or the connection itself failed
// (exit code 3).
type NetError struct {
	Pos  lexer.Position
	Span int
	Op   string // "connect to smtp.gmail.com:587", "TLS handshake", "read", ...
	Err  error
	Help string
}

func (e *NetError) Error() string {
	return fmt.Sprintf("%s: %s: %v", dsl.Where(e.Pos), e.Op, e.Err)
}

func (e *NetError) Unwrap() error { return e.Err }

// Diagnostic implements Diagnoser.
func (e *NetError) Diagnostic() *dsl.Error {
	d := &dsl.Error{Pos: e.Pos, Span: e.Span, Title: e.Op + " failed", Label: e.Err.Error()}
	if e.Help != "" {
		d.Notes = []string{"help: " + e.Help}
	}
	return d
}

// PolicyError: the engine refused to do something unsafe that the script
// asked for, such as sending credentials without TLS (exit code 3).
type PolicyError struct {
	Pos  lexer.Position
	Span int
	Msg  string
	Help string
}

func (e *PolicyError) Error() string { return fmt.Sprintf("%s: refused: %s", dsl.Where(e.Pos), e.Msg) }

// Diagnostic implements Diagnoser.
func (e *PolicyError) Diagnostic() *dsl.Error {
	d := &dsl.Error{Pos: e.Pos, Span: e.Span, Title: "refused", Label: e.Msg}
	if e.Help != "" {
		d.Notes = []string{"help: " + e.Help}
	}
	return d
}

// ErrClosed is wrapped in a NetError when the server closed the connection
// while a reply was awaited.
var ErrClosed = errors.New("connection closed by server")

// ErrNotConfirmed is wrapped (with ErrClosed) when the connection closed
// after message content was sent and before the server's verdict on it:
// the message may or may not have been accepted.
var ErrNotConfirmed = errors.New("message not confirmed: the connection closed before the server replied to the final dot, so it may or may not have been accepted")

// ErrStopped is returned by a WithBeforeStep function, and then by Run,
// when the user ends the run early.
var ErrStopped = errors.New("stopped by the user")
