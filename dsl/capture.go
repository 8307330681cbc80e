package dsl

import (
	"fmt"
)

// Capture is a variable a named regex group defines: expect 250
// /queued as (?P<qid>[0-9A-F]+)/ sets ${qid} for the steps after it.
type Capture struct {
	Name string
	Step int // the expect's index
	Pos  Pos // where the regex starts
}

// Captures lists the variables the script's expects capture, in order;
// the slice is a copy.
func (p *Program) Captures() []Capture { return append([]Capture(nil), p.captures...) }

// IsCapture reports whether a step of the program captures name.
func (p *Program) IsCapture(name string) bool {
	for _, c := range p.captures {
		if c.Name == name {
			return true
		}
	}
	return false
}

// checkCaptures finds the captures and refuses a reference to one before
// the expect that defines it: it could only ever be unset there (or, worse,
// silently take a same-named --var or environment value).
func checkCaptures(p *Program) ([]Capture, ErrorList) {
	var caps []Capture
	first := map[string]Capture{}
	for i, st := range p.steps {
		x, ok := st.(*Expect)
		if !ok || x.Match == nil || x.Match.re == nil {
			continue
		}
		for _, name := range x.Match.re.SubexpNames() {
			if name == "" {
				continue
			}
			c := Capture{Name: name, Step: i, Pos: x.Match.Pos()}
			caps = append(caps, c)
			if _, seen := first[name]; !seen {
				first[name] = c
			}
		}
	}
	var errs ErrorList
	for i, st := range p.steps {
		for _, pt := range stepParts(st) {
			c, ok := first[pt.Var]
			if pt.Var == "" || !ok || c.Step < i {
				continue
			}
			errs = append(errs, &Error{Pos: pt.Pos, Span: span{pt.Pos, pt.End}.Span(),
				Title: "capture used before it is defined",
				Label: fmt.Sprintf("${%s} is captured by the expect at %s, which runs later", pt.Var, Where(c.Pos)),
				Notes: []string{fmt.Sprintf("help: use ${%s} after line %d, or rename the group if this is another variable", pt.Var, c.Pos.Line)}})
		}
	}
	return caps, errs
}

// stepParts are the interpolated pieces of a step's strings.
func stepParts(st Step) []Part {
	switch st := st.(type) {
	case *Connect:
		return st.Address.Parts
	case *Send:
		return st.Text.Parts
	case *Expect:
		if st.Match != nil && st.Match.Substring != nil {
			return st.Match.Substring.Parts
		}
	case *Auth:
		return append(append([]Part(nil), st.User.Parts...), st.Secret.Parts...)
	case *Message:
		if st.File != nil {
			return st.File.Parts
		}
		return st.Inline.Parts
	case *Raw:
		return st.Text.Parts
	case *Note:
		return st.Text.Parts
	case *StartTLS, *Quit, *Unknown, *Include:
	}
	return nil
}
