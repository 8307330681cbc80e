package engine

import (
	"context"
	"crypto/tls"
	"strings"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/internal/smtp"
)

// WithLean runs without a transcript, for load mode: no per-line events
// (no StepStarted, Sent, DataSummary, ExpectPassed, Narration or Notice),
// no Result.Outcomes, and ReplyTime in place of Received, so nothing is
// rendered, escaped or copied for a reader who is not there. Connected,
// TLSEstablished and Closed still come, with their times. A function
// given to WithBeforeStep is not called.
func WithLean(on bool) Option { return func(e *Engine) { e.lean = on } }

// WithTLSSessionCache resumes TLS sessions across connections to the same
// server (RFC 8446 2.2, RFC 5077): a cache shared by the runs of one
// Engine saves a full handshake on each connection after the first. Nil
// (the default) means a full handshake every time.
func WithTLSSessionCache(c tls.ClientSessionCache) Option {
	return func(e *Engine) { e.sessions = c }
}

// ReplyTime is what lean mode reports of a reply: the verb of the command
// it answers ("EHLO", smtp.Greeting, smtp.Message; "" after raw bytes), its
// code, and the time from the command to the whole reply.
type ReplyTime struct {
	Step int
	Verb string
	Code int
	Took time.Duration
}

func (ev ReplyTime) redact(r *redactor) Event { return ev.masked(r) }

func (ev ReplyTime) masked(r *redactor) ReplyTime { ev.Verb = r.maskString(ev.Verb); return ev }

// ReplyTimer is an Observer that takes lean mode's ReplyTime events by
// value: they come one per reply, and each passed as an Event would be an
// allocation of its own. They are masked as every event is.
type ReplyTimer interface {
	Observer
	ReplyTime(ReplyTime)
}

// emitReplyTime is emit for the one lean event that comes per reply.
func (ss *session) emitReplyTime(ev ReplyTime) {
	if rt, ok := ss.e.observer.(ReplyTimer); ok {
		rt.ReplyTime(ev.masked(&ss.red))
		return
	}
	ss.emit(ev)
}

// verbOf is the first word of a command line, upper-cased only when it
// is not already (the usual case allocates nothing).
func verbOf(line string) string {
	verb, _, _ := strings.Cut(line, " ")
	if verb == smtp.Greeting || verb == smtp.Message {
		return verb // not a command
	}
	for i := 0; i < len(verb); i++ {
		if c := verb[i]; c >= 'a' && c <= 'z' {
			return strings.ToUpper(verb)
		}
	}
	return verb
}

// runLean is runStep without a transcript: no StepStarted, no outcome.
func (ss *session) runLean(ctx context.Context, st dsl.Step) error {
	if r, block := st.(*dsl.Repeat); block {
		return ss.repeat(ctx, r) // its steps count themselves
	}
	if err := ss.exec(ctx, st); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			ss.quitOnInterrupt()
			return ctxErr
		}
		return err
	}
	ss.res.Steps++
	return nil
}
