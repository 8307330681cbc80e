package dsl

import (
	"regexp"
	"strings"
)

// CodeMatches reports whether a reply code satisfies one of the
// alternatives: exact ("250"), class ("2xx") or two digits ("25x"). Only
// a checked Program's expects know their patterns.
func (x *Expect) CodeMatches(code int) bool {
	for _, c := range x.Codes {
		if c.pattern.Matches(code) {
			return true
		}
	}
	return false
}

// String is the expectation as written: `250|251 "queued"`.
func (x *Expect) String() string {
	if x.Closed != nil {
		return "closed"
	}
	codes := make([]string, len(x.Codes))
	for i, c := range x.Codes {
		codes[i] = c.Text
	}
	s := strings.Join(codes, "|")
	if x.Match != nil {
		if x.Match.Regex != nil {
			s += " " + x.Match.Regex.Text
		} else {
			s += " " + x.Match.Substring.Raw
		}
	}
	return s
}

// CodesSpan is where the codes (or "closed") are written: the span an
// error about the reply code underlines.
func (x *Expect) CodesSpan() (Pos, int) {
	if x.Closed != nil {
		return x.Closed.Pos(), x.Closed.Span()
	}
	first, last := x.Codes[0], x.Codes[len(x.Codes)-1]
	return first.Pos(), span{first.Pos(), last.End()}.Span()
}

// regexBody strips the slashes of /regex/ and unescapes \/.
func regexBody(lit string) string {
	return strings.ReplaceAll(lit[1:len(lit)-1], `\/`, `/`)
}

func compileMatcher(m *Matcher) *Error {
	if m == nil || m.Regex == nil {
		return nil
	}
	re, err := regexp.Compile(regexBody(m.Regex.Text))
	if err != nil {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "error parsing regexp: ")
		return &Error{Pos: m.Pos(), Span: m.Span(), Title: "invalid regular expression", Label: msg,
			Notes: []string{"help: the syntax is Go's RE2 (https://golang.org/s/re2syntax); use (?i) for case-insensitive"}}
	}
	m.re = re
	return nil
}
