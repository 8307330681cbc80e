package smtp

import "fmt"

// CodePattern is a reply code or a family of them, as a script's expect or
// the knowledge base writes it: "250", "25x" or "2xx" (RFC 5321 4.2.1
// gives the digits their meaning from left to right, so a wildcard only
// makes sense at the end).
type CodePattern struct {
	text string // lower-case, three characters
}

// PatternError says why a text is not a code pattern, in words a script's
// author can act on.
type PatternError struct {
	Text   string
	Reason string
}

func (e *PatternError) Error() string { return e.Reason }

// ParseCodePattern reads "250", "2xx" or "25x" (X in either case).
func ParseCodePattern(s string) (CodePattern, error) {
	v := []byte(s)
	for i, c := range v {
		if c == 'X' {
			v[i] = 'x'
		}
	}
	bad := func(format string, a ...any) (CodePattern, error) {
		return CodePattern{}, &PatternError{Text: s, Reason: fmt.Sprintf(format, a...)}
	}
	if len(v) != 3 {
		return bad("%q: a reply code has three digits, e.g. 250, 2xx or 25x", s)
	}
	if v[0] < '2' || v[0] > '5' {
		return bad("%s is outside 200-599, the reply codes of RFC 5321 4.2", s)
	}
	for i := 1; i < 3; i++ {
		switch {
		case v[i] == 'x':
		case v[i] >= '0' && v[i] <= '9':
			if i == 2 && v[1] == 'x' {
				return bad("%q: a wildcard covers the last digits, e.g. %cxx", s, v[0])
			}
		default:
			return bad("%q: use digits, or x as a wildcard (2xx)", s)
		}
	}
	return CodePattern{text: string(v)}, nil
}

// MustCodePattern is ParseCodePattern for patterns written in code.
func MustCodePattern(s string) CodePattern {
	p, err := ParseCodePattern(s)
	if err != nil {
		panic(err)
	}
	return p
}

// Matches reports whether a reply code belongs to the pattern.
func (p CodePattern) Matches(code int) bool {
	if len(p.text) != 3 || code < 0 || code > 999 {
		return false
	}
	got := [3]byte{byte('0' + code/100), byte('0' + code/10%10), byte('0' + code%10)}
	for i := range 3 {
		if p.text[i] != 'x' && p.text[i] != got[i] {
			return false
		}
	}
	return true
}

// String is the canonical spelling: lower-case x.
func (p CodePattern) String() string { return p.text }
