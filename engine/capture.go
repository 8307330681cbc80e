package engine

import (
	"fmt"
	"strings"

	"github.com/smtprun/smtprun/dsl"
)

// Captured reports a value a named regex group took from a reply: the
// variable is set for the rest of the run.
type Captured struct {
	Step  int
	Name  string
	Value string
}

func (ev Captured) redact(r *redactor) Event {
	ev.Name, ev.Value = r.maskString(ev.Name), r.maskString(ev.Value)
	return ev
}

// CaptureError: a named group of an expect's regex did not take part in
// the match, so the variable it defines has no value. The reply matched
// the expect otherwise; the run stops rather than send an empty value in
// a later step.
type CaptureError struct {
	Pos  dsl.Pos
	Span int
	Name string
	Got  *Reply
}

func (e *CaptureError) Error() string {
	return fmt.Sprintf("%s: capture failed: the group (?P<%s>...) did not match any text of the reply", dsl.Where(e.Pos), e.Name)
}

// Diagnostic implements dsl.Diagnoser.
func (e *CaptureError) Diagnostic() *dsl.Error {
	d := &dsl.Error{Pos: e.Pos, Span: e.Span, Title: "capture failed",
		Label: fmt.Sprintf("the group %q did not take part in the match, so ${%s} has no value", e.Name, e.Name)}
	if e.Got != nil {
		d.Notes = append(d.Notes, "server replied "+e.Got.Lines[0])
		d.Notes = append(d.Notes, e.Got.Lines[1:]...)
	}
	d.Notes = append(d.Notes, "help: make the group required (drop the ? or | around it), or capture it in an expect of its own")
	return d
}

// capture sets the variables the named groups of a matching regex define
// (dsl.Check has already made sure no step uses one before this expect).
// The values live in this run's own layer over the engine's variables:
// the Program is never written.
func (ss *session) capture(x *dsl.Expect, rep *Reply) error {
	if x.Match == nil || x.Match.Regexp() == nil {
		return nil
	}
	re := x.Match.Regexp()
	names := re.SubexpNames()
	if slicesAllEmpty(names) {
		return nil
	}
	text := strings.Join(rep.Text, "\n")
	idx := re.FindStringSubmatchIndex(text)
	if idx == nil {
		return nil
	}
	for i, name := range names {
		if name == "" {
			continue
		}
		if idx[2*i] < 0 {
			return &CaptureError{Pos: x.Match.Pos(), Span: x.Match.Span(), Name: name, Got: rep}
		}
		v := text[idx[2*i]:idx[2*i+1]]
		ss.captured[name] = v
		ss.emit(Captured{Step: ss.step, Name: name, Value: v})
	}
	return nil
}

func slicesAllEmpty(s []string) bool {
	for _, x := range s {
		if x != "" {
			return false
		}
	}
	return true
}

func (e *CaptureError) redact(r *redactor) error {
	c := *e
	c.Got, _ = r.maskReply(e.Got)
	return &c
}
