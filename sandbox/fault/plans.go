package fault

import (
	"path"
	"strings"
	"sync"
)

// Plans is the set of plans a server consults. It is safe for concurrent
// use, so plans can be changed while connections are served ("make the
// next RCPT fail"). The zero value holds none.
type Plans struct {
	mu    sync.Mutex
	plans []*held
}

type held struct {
	Plan
	seen  int // matching commands so far, for Nth
	fired int
}

// Status is a plan and how often it has failed a command.
type Status struct {
	Plan
	Fired int
	Spent bool // an Nth plan that has fired
}

// Set replaces every plan; counts start again.
func (ps *Plans) Set(plans ...Plan) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.plans = nil
	for _, p := range plans {
		ps.plans = append(ps.plans, &held{Plan: p})
	}
}

// Add adds plans after the ones held.
func (ps *Plans) Add(plans ...Plan) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, p := range plans {
		ps.plans = append(ps.plans, &held{Plan: p})
	}
}

// Clear removes every plan.
func (ps *Plans) Clear() { ps.Set() }

// List returns the plans in order, with their counts.
func (ps *Plans) List() []Status {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	out := make([]Status, len(ps.plans))
	for i, h := range ps.plans {
		out[i] = Status{Plan: h.Plan, Fired: h.fired, Spent: h.Nth > 0 && h.fired > 0}
	}
	return out
}

// Command is what a server is about to answer: its verb (upper case, or
// Message), its argument (the address, for MAIL and RCPT) and the line as
// the transcript shows it.
type Command struct {
	Verb, Arg, Line string
}

// Match counts c against every plan and returns the first that fails it.
// Every plan that matches counts c, so "rcpt#2" and "rcpt:bob@x" keep
// their own counts.
func (ps *Plans) Match(c Command) (Plan, bool) {
	if ps == nil {
		return Plan{}, false
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var hit *held
	for _, h := range ps.plans {
		if !h.matches(c) {
			continue
		}
		h.seen++
		if h.Nth > 0 && h.seen != h.Nth {
			continue
		}
		if hit == nil {
			hit = h
		}
	}
	if hit == nil {
		return Plan{}, false
	}
	hit.fired++
	return hit.Plan, true
}

func (h *held) matches(c Command) bool {
	if h.Pattern != nil {
		return c.Verb != Message && c.Verb != Connect && h.Pattern.MatchString(c.Line)
	}
	if h.Verb != c.Verb {
		return false
	}
	if h.Arg == "" {
		return true
	}
	ok, err := path.Match(strings.ToLower(globEscape(h.Arg)), strings.ToLower(c.Arg))
	return err == nil && ok
}

// globEscape keeps only * special: addresses may hold ? [ ] and \.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
