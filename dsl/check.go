package dsl

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/smtprun/smtprun/internal/smtp"
	"github.com/smtprun/smtprun/internal/suggest"
)

// Check checks what the grammar cannot: known steps, reply codes in
// range, regexes that compile, known mechanisms, literal addresses that
// name a port, and the order of steps, so that a mistake is reported
// before anything is sent. It returns an ErrorList, or the checked
// Program with everything derived computed once (see Program).
//
// With WithLoader, include steps are replaced first by the steps of the
// scripts they name, and everything after sees the spliced steps.
func Check(s *Script, opts ...CheckOption) (*Program, error) {
	var cfg checkConfig
	for _, o := range opts {
		o(&cfg)
	}
	sp := &splicer{load: cfg.load}
	p, errs := check(sp.splice(s), sp)
	sp.placeErrors(s.File, errs)
	errs = dedupe(errs)
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

func check(s *Script, sp *splicer) (*Program, ErrorList) {
	errs := sp.errs
	add := func(e *Error) { errs = append(errs, e) }
	p := &Program{file: s.File, source: s.Source, header: maps.Clone(s.Header), sources: sp.sources, origins: sp.origins}
	p.steps = checkSteps(s.Steps, add, false)
	checkExpansion(p, add)
	checkRepeatVar(s, add)
	if len(errs) == 0 {
		var cerrs ErrorList
		p.captures, cerrs = checkCaptures(p)
		errs = append(errs, cerrs...)
	}
	if len(errs) == 0 {
		// Order errors after a broken step would only be echoes of it.
		errs = checkOrder(s)
	}
	sortErrors(errs)
	if len(errs) > 0 {
		return nil, errs
	}
	p.vars = collectVariables(s)
	return p, nil
}

// checkSteps checks each step and returns the Program's copies: an
// expect with its patterns compiled, a repeat with its block checked.
func checkSteps(steps []Step, add func(*Error), inBlock bool) []Step {
	out := make([]Step, 0, len(steps))
	for _, st := range steps {
		switch st := st.(type) {
		case *Unknown:
			add(unknownStep(st))
		case *Connect:
			if addr, ok := st.Address.Static(); ok {
				if e := checkAddress(st.Address, addr); e != nil {
					add(e)
				}
			}
		case *Expect:
			x, xerrs := checkExpect(st)
			for _, e := range xerrs {
				add(e)
			}
			out = append(out, x)
			continue
		case *Auth:
			if m := strings.ToLower(st.Mechanism.Text); !slices.Contains(mechanisms, m) {
				add(unknownMechanism(st.Mechanism))
			}
		case *Repeat:
			cp := *st
			if n, ok := st.Count.Static(); ok {
				if _, err := RepeatCount(n); err != nil {
					add(&Error{Pos: st.Count.Pos(), Span: st.Count.Span(), Title: "invalid repeat count", Label: err.Error(),
						Notes: []string{"help: write a whole number, e.g. repeat 10 {, or a variable: repeat ${COUNT} {"}})
				}
			}
			if len(st.Steps) == 0 {
				add(&Error{Pos: st.Open.Pos(), Span: st.Open.Span(), Title: "empty repeat",
					Label: "the block has no steps", Notes: []string{"help: put the steps to repeat on the lines between { and }"}})
			}
			cp.Steps = checkSteps(st.Steps, add, true)
			out = append(out, &cp)
			continue
		case *Include:
			// At the top level the splicer has replaced it (one left here
			// had an error there); in a block it is not spliced.
			if inBlock {
				add(&Error{Pos: st.Kw.Pos(), Span: st.Kw.Span(), Title: "include inside a repeat block",
					Label: "an include is spliced once, before the script runs, so it cannot be part of a block",
					Notes: []string{"help: put the repeat block in the included script, or write the block's steps here"}})
			}
			continue
		case *Send, *StartTLS, *Message, *Quit, *Raw, *Note:
		default:
			panic(fmt.Sprintf("dsl.Check: unhandled step %T", st))
		}
		out = append(out, st)
	}
	return out
}

// checkRepeatVar refuses ${REPEAT} outside every repeat block, where the
// engine has no value for it (a default makes it fine). A block's own
// count is read before the block runs, so it is outside that block.
func checkRepeatVar(s *Script, add func(*Error)) {
	varRefs(s, func(_ Node, r *ref) {
		if r != nil && r.Var == VarRepeat && r.Default == nil && r.blocks == 0 {
			add(&Error{Pos: r.Pos, Span: len("${" + VarRepeat + "}"), Title: "${REPEAT} outside a repeat block",
				Label: "REPEAT is the iteration of the enclosing repeat block, and there is none here",
				Notes: []string{"help: move this step into a repeat block, use ${ITERATION} (the script's run), or give a default: ${REPEAT:-1}"}})
		}
	})
}

// MaxRepeat bounds a repeat count, so a typo cannot run a block for ever.
const MaxRepeat = 10_000_000

// RepeatCount reads a repeat block's count as written or as a variable's
// value: a whole number from 1 to MaxRepeat.
func RepeatCount(text string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(text))
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is not a whole number", text)
	case n < 1 || n > MaxRepeat:
		return 0, fmt.Errorf("%d is not from 1 to %d", n, MaxRepeat)
	}
	return n, nil
}

// checkExpect returns the Program's copy of an expect, with its code
// patterns parsed and its regex compiled: the Script's node is not
// written, so checking a script twice, or from two goroutines, is safe.
func checkExpect(x *Expect) (*Expect, []*Error) {
	var errs []*Error
	cp := *x
	cp.Codes = make([]*Code, len(x.Codes))
	for i, c := range x.Codes {
		cc := *c
		pat, err := smtp.ParseCodePattern(c.Text)
		if err != nil {
			errs = append(errs, &Error{Pos: c.Pos(), Span: c.Span(), Title: "invalid reply code", Label: err.Error()})
		}
		cc.pattern = pat
		cp.Codes[i] = &cc
	}
	if x.Closed != nil && x.Match != nil {
		// The engine would never look at it: a closed connection has no
		// reply text to match.
		errs = append(errs, &Error{Pos: x.Match.Pos(), Span: x.Match.Span(), Title: "text after expect closed",
			Label: "a closed connection sends no reply, so there is no text to match",
			Notes: []string{"help: write `expect closed` alone; to check the reply before the close, `expect 421 \"...\"` then `expect closed`"}})
	}
	if x.Match != nil {
		m := *x.Match
		if e := compileMatcher(&m); e != nil {
			errs = append(errs, e)
		}
		cp.Match = &m
	}
	return &cp, errs
}

func unknownMechanism(w Word) *Error {
	e := &Error{Pos: w.Pos(), Span: w.Span(), Title: "unsupported SASL mechanism",
		Label: fmt.Sprintf("%q is not one of %s", w.Text, strings.Join(mechanisms, ", "))}
	m := strings.ToLower(w.Text)
	if sug := suggest.Closest(m, mechanisms); sug != "" {
		e.Label += fmt.Sprintf("; did you mean `%s`?", sug)
	}
	if strings.Contains(m, "oauth") {
		e.Notes = []string{"help: OAuth 2.0 logins are `auth xoauth2` (Google's and Microsoft's form) or `auth oauthbearer` (RFC 7628), with an access token as the secret; `smtprun token PROVIDER` gets one"}
	}
	return e
}

func unknownStep(u *Unknown) *Error {
	word := u.Word.Text
	if use, ok := usageOf(word); ok {
		// A keyword whose arguments did not parse.
		e := &Error{Pos: u.Word.Pos(), Span: u.Word.Span(), Title: "invalid " + word + " step", Label: "usage: " + use}
		if bad, ok := failingToken(u); ok {
			e.Pos, e.Span = bad.Pos(), bad.Span()
			e.Label = fmt.Sprintf("unexpected %s; usage: %s", describeToken(bad.Text), use)
			for i := range u.Rest {
				if v := variableAt(u.Rest[i:]); v != nil {
					return variableNotAllowed(word, i == 0, v)
				}
			}
		}
		return e
	}
	e := &Error{Pos: u.Word.Pos(), Span: u.Word.Span(), Title: "unknown step", Label: fmt.Sprintf("`%s` is not a step", word)}
	lw := strings.ToLower(word)
	keywords := Keywords()
	switch sug := suggest.Closest(word, keywords); {
	case slices.Contains(keywords, lw):
		e.Label = fmt.Sprintf("steps are lower-case: did you mean `%s`?", lw)
	case sug != "":
		e.Label = fmt.Sprintf("did you mean `%s`?", sug)
	}
	if isSMTPVerb(word) {
		e.Notes = append(e.Notes, fmt.Sprintf("help: to send the %s command yourself, write: send \"%s ...\"", strings.ToUpper(word), strings.ToUpper(word)))
	}
	e.Notes = append(e.Notes, "steps are: "+strings.Join(keywords, ", "))
	return e
}

// failingToken finds where a step's arguments stop matching its grammar,
// by parsing the line again with that step's rule alone: `auth plain`
// fails at the end of the line, not at "plain". The end of the line is a
// Word with no text.
func failingToken(u *Unknown) (Word, bool) {
	parse, ok := stepRules()[u.Word.Text]
	if !ok || len(u.Rest) == 0 {
		return Word{}, false
	}
	var perr participle.Error
	if err := parse(u.line); !errors.As(err, &perr) {
		return u.Rest[0], true
	}
	col := perr.Position().Column
	for _, w := range u.Rest {
		if w.Pos().Column >= col {
			return w, true
		}
	}
	end := u.End()
	return Word{span: span{end, end}}, true
}

// variableAt returns the span of a ${NAME} written where the step wants a
// bare word, or nil. The lexer splits it into $ { NAME }.
func variableAt(rest []Word) *Word {
	if len(rest) < 4 || rest[0].Text != "$" || rest[1].Text != "{" {
		return nil
	}
	for i := 2; i < len(rest); i++ {
		if rest[i].Text == "}" {
			text := ""
			for _, w := range rest[:i+1] {
				text += w.Text
			}
			return &Word{span: span{rest[0].Pos(), rest[i].End()}, Text: text}
		}
	}
	return nil
}

// variableNotAllowed explains a ${NAME} outside a string. `auth ${MECH}`
// and `expect ${CODE}` are refused because the check must know the
// mechanism and the codes before the run, to verify them and to count the
// replies the script reads; elsewhere the quotes are missing.
func variableNotAllowed(word string, first bool, v *Word) *Error {
	e := &Error{Pos: v.Pos(), Span: v.Span(), Title: "variable not allowed here"}
	switch {
	case !first || word != "auth" && word != "expect":
		e.Title = "variable outside a string"
		e.Label = "variables are interpolated in double-quoted strings only"
		e.Notes = []string{fmt.Sprintf("help: write \"%s\"", v.Text)}
	case word == "auth":
		e.Label = "the mechanism cannot be a variable"
		e.Notes = []string{"help: write it literally, one of: " + strings.Join(mechanisms, ", ") + "; only the user and the secret can be variables"}
	default:
		e.Label = "reply codes cannot be variables"
		e.Notes = []string{"help: write the code literally, e.g. expect 250, or a family: expect 2xx"}
	}
	return e
}

func describeToken(v string) string {
	if strings.HasPrefix(v, `"`) {
		return "`" + v + "`"
	}
	if len(v) > 0 && v[0] >= '0' && v[0] <= '9' {
		return fmt.Sprintf("%s (strings need double quotes)", v)
	}
	if v == "\n" || v == "" {
		return "end of line"
	}
	return fmt.Sprintf("%q", v)
}

// isSMTPVerb reports a command verb that is not also a step (starttls,
// auth and quit are): written as a step, it was meant to be sent.
func isSMTPVerb(w string) bool {
	return smtp.IsCommand(strings.ToUpper(w)) && !slices.Contains(Keywords(), strings.ToLower(w))
}

func checkAddress(s *String, addr string) *Error {
	host, port, err := net.SplitHostPort(addr)
	e := &Error{Pos: s.Pos(), Span: s.Span(), Title: "invalid address"}
	switch {
	case err != nil && strings.Contains(err.Error(), "missing port"):
		e.Label = fmt.Sprintf("%q has no port", addr)
		e.Notes = []string{fmt.Sprintf("help: add one: \"%s:587\" (submission, STARTTLS), \"%s:465\" (implicit TLS) or \"%s:25\" (relay)", addr, addr, addr)}
	case err != nil:
		e.Label = fmt.Sprintf("%q is not HOST:PORT (%v)", addr, err)
	case host == "":
		e.Label = "the host is empty"
	default:
		n, perr := strconv.Atoi(port)
		if perr != nil || n < 1 || n > 65535 {
			e.Label = fmt.Sprintf("port %q is not a number from 1 to 65535", port)
		} else {
			return nil
		}
	}
	return e
}
