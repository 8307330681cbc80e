package dsl

import (
	"regexp"
	"strings"
)

// CodeMatches reports whether a reply code satisfies one of the
// alternatives: exact ("250"), class ("2xx") or two digits ("25x").
func (x *Expect) CodeMatches(code int) bool {
	got := []byte{byte('0' + code/100%10), byte('0' + code/10%10), byte('0' + code%10)}
	for _, c := range x.Codes {
		v := strings.ToLower(c.Value)
		if len(v) != 3 {
			continue
		}
		ok := true
		for i := 0; i < 3; i++ {
			if v[i] != 'x' && v[i] != got[i] {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// String is the expectation as written: `250|251 "queued"`.
func (x *Expect) String() string {
	if x.Closed {
		return "closed"
	}
	codes := make([]string, len(x.Codes))
	for i, c := range x.Codes {
		codes[i] = c.Value
	}
	s := strings.Join(codes, "|")
	if x.Match != nil {
		if x.Match.Regex != nil {
			s += " " + *x.Match.Regex
		} else {
			s += " " + x.Match.Substring.Raw
		}
	}
	return s
}

// Span is how many columns the codes (or "closed") take in the source.
func (x *Expect) Span() int {
	if x.Closed || len(x.Codes) == 0 {
		return len("closed")
	}
	last := x.Codes[len(x.Codes)-1]
	return last.Pos.Column + len(last.Value) - x.Codes[0].Pos.Column
}

// Span is how many columns the matcher takes in the source.
func (m *Matcher) Span() int {
	if m.Regex != nil {
		return len(*m.Regex)
	}
	return len(m.Substring.Raw)
}

// regexBody strips the slashes of /regex/ and unescapes \/.
func regexBody(lit string) string {
	return strings.ReplaceAll(lit[1:len(lit)-1], `\/`, `/`)
}

func compileMatcher(m *Matcher) error {
	if m == nil || m.Regex == nil {
		return nil
	}
	re, err := regexp.Compile(regexBody(*m.Regex))
	if err != nil {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "error parsing regexp: ")
		return &Error{Pos: m.Pos, Span: m.Span(), Title: "invalid regular expression", Label: msg,
			Notes: []string{"help: the syntax is Go's RE2 (https://golang.org/s/re2syntax); use (?i) for case-insensitive"}}
	}
	m.Re = re
	return nil
}
