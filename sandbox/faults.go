package sandbox

import (
	"errors"
	"fmt"

	"github.com/smtprun/smtprun/internal/smtp"
	"github.com/smtprun/smtprun/sandbox/fault"
)

// faulted answers a command a fault plan (Options.Faults) or a magic
// recipient fails; true if it did. shown is the line as the transcript
// shows it, so a pattern never sees a credential.
func (ss *session) faulted(verb, arg, shown string) bool {
	c := fault.Command{Verb: verb, Arg: arg, Line: shown}
	switch verb {
	case smtp.CmdMAIL, smtp.CmdRCPT:
		prefix := "FROM:"
		if verb == smtp.CmdRCPT {
			prefix = "TO:"
		}
		if addr, _, ok := parsePath(arg, prefix, true, true); ok {
			c.Arg = addr
			ss.cmdVars["addr"] = replySafe(addr)
		}
	}
	p, ok := ss.sb.opts.Faults.Match(c)
	if !ok && verb == smtp.CmdRCPT {
		p, ok = fault.Magic(c.Arg)
	}
	if !ok {
		return false
	}
	ss.failBy(p)
	return true
}

// faultedMessage answers the end of a message a plan fails.
func (ss *session) faultedMessage(size int64) bool {
	p, ok := ss.sb.opts.Faults.Match(fault.Command{Verb: fault.Message, Arg: fmt.Sprint(size)})
	if ok {
		ss.failBy(p)
	}
	return ok
}

// faultedGreeting answers the greeting a plan refuses; true if it did. A
// 421 hangs up; after a 554 the connection stays open and every command
// but QUIT gets a 503, as RFC 5321 3.1 has a server that refuses a
// session in its greeting do.
func (ss *session) faultedGreeting() bool {
	p, ok := ss.sb.opts.Faults.Match(fault.Command{Verb: fault.Connect})
	if ok {
		ss.greetingRefused = true
		ss.co.line = smtp.Greeting // what the report card says was refused
		ss.failBy(p)
	}
	return ok
}

// refusedSession answers a command after a refused greeting.
var refusedSession = replyTemplate{code: 503, lines: []string{"5.5.1 Bad sequence of commands: this server refused the session in its greeting; only QUIT is accepted"}}

func (ss *session) failBy(p fault.Plan) {
	ss.emit(Note, "fault plan "+p.Source)
	// The reply's text may use the profile's placeholders ({track},
	// {addr}); it is the user's own, so it is sent as given otherwise.
	ss.send(replyTemplate{code: p.Reply.Code, lines: p.Reply.Lines}, "fault")
	if p.Close {
		ss.hangUp(errors.New("closed by fault plan " + p.Source))
	}
}
