package dsl

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/smtprun/smtprun/internal/suggest"
)

// Keywords are the steps of language version 1.
var Keywords = []string{"connect", "send", "expect", "starttls", "auth", "message", "quit", "raw", "note"}

// Mechanisms are the SASL mechanisms the auth step speaks.
var Mechanisms = []string{"plain", "login", "cram-md5"}

var usage = map[string]string{
	"connect":  `connect "HOST:PORT" [tls]`,
	"send":     `send "COMMAND LINE"`,
	"expect":   `expect CODES ["substring" | /regex/]   e.g. expect 250|251 "ok"; or: expect closed`,
	"starttls": `starttls`,
	"auth":     `auth plain|login|cram-md5 "USER" "SECRET"`,
	"message":  "message [binary] \"\"\" (content lines, then \"\"\" alone on a line)  or  message [binary] file \"PATH\"",
	"quit":     `quit`,
	"note":     `note "TEXT"   (narration for the transcript)`,
	"raw":      `raw "BYTES"   (exact bytes, no CRLF added; \r \n \t \xNN allowed)`,
}

// Validate checks what the grammar cannot: known steps, reply codes in
// range, regexes that compile, known mechanisms, literal addresses that
// name a port, and the order of steps, so that a mistake is reported
// before anything is sent. It returns an ErrorList, or nil.
func Validate(s *Script) error {
	var errs ErrorList
	add := func(e *Error) { errs = append(errs, e) }
	for _, st := range s.Steps {
		switch {
		case st.Unknown != nil:
			add(unknownStep(st.Unknown))
		case st.Connect != nil:
			if addr, ok := st.Connect.Address.Static(); ok {
				if e := checkAddress(st.Connect.Address, addr); e != nil {
					add(e)
				}
			}
		case st.Expect != nil:
			for _, c := range st.Expect.Codes {
				if e := checkCode(c); e != nil {
					add(e)
				}
			}
			if err := compileMatcher(st.Expect.Match); err != nil {
				add(err.(*Error))
			}
		case st.Auth != nil:
			if m := strings.ToLower(st.Auth.Mechanism); !contains(Mechanisms, m) {
				e := &Error{Pos: st.Auth.Pos, Span: len(st.Auth.Mechanism), Title: "unsupported SASL mechanism",
					Label: fmt.Sprintf("%q is not one of %s", st.Auth.Mechanism, strings.Join(Mechanisms, ", "))}
				e.Pos.Column += len("auth ")
				if sug := suggest.Closest(m, Mechanisms); sug != "" {
					e.Label += fmt.Sprintf("; did you mean `%s`?", sug)
				} else if strings.Contains(m, "oauth") {
					e.Notes = []string{"help: OAuth (XOAUTH2/OAUTHBEARER) is not supported yet; providers that disabled basic auth need it"}
				}
				add(e)
			}
		}
	}
	if len(errs) == 0 {
		// Order errors after a broken step would only be echoes of it.
		errs = checkOrder(s)
	}
	sortErrors(errs)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func unknownStep(u *Unknown) *Error {
	word := u.Word
	if use, ok := usage[word]; ok {
		// A keyword whose arguments did not parse.
		e := &Error{Pos: u.Pos, Span: len(word), Title: "invalid " + word + " step", Label: "usage: " + use}
		if len(u.Rest) > 0 {
			e.Pos, e.Span = u.Rest[0].Pos, len(u.Rest[0].Value)
			e.Label = fmt.Sprintf("unexpected %s; usage: %s", describeToken(u.Rest[0].Value), use)
		}
		return e
	}
	e := &Error{Pos: u.Pos, Span: len(word), Title: "unknown step", Label: fmt.Sprintf("`%s` is not a step", word)}
	lw := strings.ToLower(word)
	switch sug := suggest.Closest(word, Keywords); {
	case contains(Keywords, lw):
		e.Label = fmt.Sprintf("steps are lower-case: did you mean `%s`?", lw)
	case sug != "":
		e.Label = fmt.Sprintf("did you mean `%s`?", sug)
	}
	if isSMTPVerb(word) {
		e.Notes = append(e.Notes, fmt.Sprintf("help: to send the %s command yourself, write: send \"%s ...\"", strings.ToUpper(word), strings.ToUpper(word)))
	}
	e.Notes = append(e.Notes, "steps are: "+strings.Join(Keywords, ", "))
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

func isSMTPVerb(w string) bool {
	switch strings.ToUpper(w) {
	case "HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "VRFY", "EXPN", "HELP", "BDAT":
		return true
	}
	return false
}

func checkAddress(s *String, addr string) *Error {
	host, port, err := net.SplitHostPort(addr)
	e := &Error{Pos: s.Pos, Span: len(s.Raw), Title: "invalid address"}
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

func checkCode(c *Code) *Error {
	v := strings.ToLower(c.Value)
	e := &Error{Pos: c.Pos, Span: len(c.Value), Title: "invalid reply code"}
	if len(v) != 3 {
		e.Label = fmt.Sprintf("%q: a reply code has three digits, e.g. 250, 2xx or 25x", c.Value)
		return e
	}
	if v[0] < '2' || v[0] > '5' {
		e.Label = fmt.Sprintf("%s is outside 200-599, the reply codes of RFC 5321 4.2", c.Value)
		return e
	}
	for i := 1; i < 3; i++ {
		switch {
		case v[i] == 'x':
		case v[i] >= '0' && v[i] <= '9':
			if i == 2 && v[1] == 'x' {
				e.Label = fmt.Sprintf("%q: a wildcard covers the last digits, e.g. %cxx", c.Value, v[0])
				return e
			}
		default:
			e.Label = fmt.Sprintf("%q: use digits, or x as a wildcard (2xx)", c.Value)
			return e
		}
	}
	return nil
}
