package dsl

import (
	"fmt"
	"strings"
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

// checkCaptures finds the captures, everywhere in the program (in repeat
// blocks too, and in the scripts includes spliced in), and refuses:
//   - a reference to one before the expect that defines it, in the order
//     the steps run: it could only ever be unset there (or, worse,
//     silently take a same-named --var or environment value); in a repeat
//     block the first iteration runs before any capture of the block, and
//     a block's count is read before its block runs;
//   - a capture named like a variable an auth secret uses: the server's
//     text would silently replace the user's password for every step
//     after it, and the masking that hides the password would not know the
//     new value.
func checkCaptures(p *Program) ([]Capture, ErrorList) {
	type use struct {
		ref
		seq int
	}
	var (
		caps    []Capture
		first   = map[string]int{} // name -> index in caps of its first capture
		capSeq  []int              // per capture, where in the walk its expect stands
		groups  []*Word            // per capture, the group's name in the regex
		uses    []use
		secrets = map[string]bool{}
		seq     int
	)
	for i, st := range p.steps {
		varRefs(st, func(n Node, r *ref) {
			seq++
			if r != nil {
				uses = append(uses, use{*r, seq})
				if r.secret {
					secrets[r.Var] = true
				}
				return
			}
			x, ok := n.(*Expect)
			if !ok || x.Match == nil || x.Match.re == nil {
				return
			}
			for _, name := range x.Match.re.SubexpNames() {
				if name == "" {
					continue
				}
				if _, seen := first[name]; !seen {
					first[name] = len(caps)
				}
				caps = append(caps, Capture{Name: name, Step: i, Pos: x.Match.Pos()})
				capSeq = append(capSeq, seq)
				groups = append(groups, groupName(x.Match.Regex, name))
			}
		})
	}
	var errs ErrorList
	for _, u := range uses {
		k, ok := first[u.Var]
		if !ok || capSeq[k] < u.seq {
			continue
		}
		c := caps[k]
		e := &Error{Pos: u.Pos, Span: span{u.Pos, u.End}.Span(),
			Title: "capture used before it is defined",
			Label: fmt.Sprintf("${%s} is captured by the expect at %s, which runs later", u.Var, Where(c.Pos)),
			Notes: []string{fmt.Sprintf("help: use ${%s} after line %d, or rename the group if this is another variable", u.Var, c.Pos.Line)}}
		switch {
		case u.count:
			e.Notes = append(e.Notes, "a repeat's count is read before its block runs, so a capture inside the block cannot set it")
		case u.blocks > 0:
			e.Notes = append(e.Notes, "a repeat block runs its steps in order each time: its first iteration reaches this line before any capture")
		}
		errs = append(errs, e)
	}
	reported := map[string]bool{}
	for k, c := range caps {
		if !secrets[c.Name] || reported[c.Name] {
			continue
		}
		reported[c.Name] = true
		errs = append(errs, &Error{Pos: groups[k].Pos(), Span: groups[k].Span(), Title: "capture shadows a secret",
			Label: fmt.Sprintf("the group (?P<%s>...) would replace ${%s}, which an auth step uses as its secret", c.Name, c.Name),
			Notes: []string{fmt.Sprintf("help: rename the group, e.g. (?P<%s_REPLY>...), and use that name where the reply's text is wanted", c.Name)}})
	}
	return caps, errs
}

// groupName is where a named group's name is written in a regex literal,
// for a caret under it; the whole literal if it cannot be found.
func groupName(lit *Word, name string) *Word {
	for _, open := range []string{"(?P<", "(?<"} {
		if i := strings.Index(lit.Text, open+name+">"); i >= 0 {
			pos := advance(lit.Pos(), lit.Text[:i+len(open)])
			return &Word{span: span{pos, advance(pos, name)}, Text: name}
		}
	}
	return lit
}
