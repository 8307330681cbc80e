package smtp

import (
	"errors"
	"fmt"
	"strings"
)

// EnhancedCode is an RFC 3463 enhanced status code, "5.7.8": a class (2
// success, 4 persistent transient failure, 5 permanent failure), a subject
// and a detail.
type EnhancedCode struct {
	Class, Subject, Detail int
}

// ParseEnhancedCode reads an enhanced status code by RFC 3463 2's grammar:
//
//	status-code = class "." subject "." detail
//	class       = "2" / "4" / "5"
//	subject     = 1*3digit
//	detail      = 1*3digit
//
// and its rule that "each numeric sub-code within the status-code MUST be
// expressed without leading zero digits": "5.07.8" is not a code.
func ParseEnhancedCode(s string) (EnhancedCode, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return EnhancedCode{}, fmt.Errorf("%q: an enhanced status code is class.subject.detail, e.g. 5.7.8", s)
	}
	if p := parts[0]; len(p) != 1 || p[0] != '2' && p[0] != '4' && p[0] != '5' {
		return EnhancedCode{}, fmt.Errorf("%q: the class must be 2, 4 or 5 (RFC 3463 2)", s)
	}
	c := EnhancedCode{Class: int(parts[0][0] - '0')}
	for i, dst := range []*int{&c.Subject, &c.Detail} {
		n, err := subCode(parts[i+1])
		if err != nil {
			return EnhancedCode{}, fmt.Errorf("%q: %w (RFC 3463 2)", s, err)
		}
		*dst = n
	}
	return c, nil
}

func subCode(p string) (int, error) {
	if p == "" || len(p) > 3 {
		return 0, errors.New("subject and detail have one to three digits")
	}
	if len(p) > 1 && p[0] == '0' {
		return 0, errors.New("subject and detail have no leading zeros")
	}
	n := 0
	for _, c := range []byte(p) {
		if c < '0' || c > '9' {
			return 0, errors.New("subject and detail are digits")
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// String is the code as written on the wire: "5.7.8".
func (c EnhancedCode) String() string {
	return fmt.Sprintf("%d.%d.%d", c.Class, c.Subject, c.Detail)
}

// IsZero reports whether c is the zero value (no code).
func (c EnhancedCode) IsZero() bool { return c == EnhancedCode{} }

// LeadingEnhancedCode reads the enhanced code a reply text starts with
// (RFC 3463 and RFC 2034 3: the code comes first, followed by a space):
// "5.7.8 Username and Password not accepted". The word may also end the
// text or be followed by punctuation, as some servers write it.
func LeadingEnhancedCode(text string) (EnhancedCode, bool) {
	text = strings.TrimLeft(text, " \t")
	end := strings.IndexFunc(text, func(r rune) bool {
		return r == ' ' || r == '\t' || r == ',' || r == ';' || r == ':'
	})
	if end < 0 {
		end = len(text)
	}
	word := strings.TrimSuffix(text[:end], ".")
	c, err := ParseEnhancedCode(word)
	return c, err == nil
}

// Enhanced returns the enhanced status code at the start of the first
// line's text. RFC 2034 3 requires the code's class to agree with the
// reply code's first digit; a code that does not is not taken for one.
func (r *Reply) Enhanced() (EnhancedCode, bool) {
	if r == nil || len(r.Text) == 0 {
		return EnhancedCode{}, false
	}
	c, ok := LeadingEnhancedCode(r.Text[0])
	if !ok || c.Class != r.Code/100 {
		return EnhancedCode{}, false
	}
	return c, true
}

// EnhancedCode is Enhanced as text ("5.7.8"), or "" when there is none.
func (r *Reply) EnhancedCode() string {
	if c, ok := r.Enhanced(); ok {
		return c.String()
	}
	return ""
}
