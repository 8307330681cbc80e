package main

import (
	"fmt"
	"io"
	"net/mail"
	"strings"

	"github.com/smtprun/smtprun/cmd/smtprun/internal/present"
	"github.com/smtprun/smtprun/dsl"
)

// unsetAsName looks variables up in vars and stands in for an unset one
// with a mark of its name, so two uses of one unset variable still
// compare equal and a value that depends on one can be told apart.
type unsetAsName struct{ vars dsl.Vars }

func (u unsetAsName) Lookup(name string) (string, bool) {
	if v, ok := u.vars.Lookup(name); ok {
		return v, true
	}
	return "\x00" + name + "\x00", true
}

// expandSome expands with vars where it can (so defaults apply), and
// with marks for the unset variables where it cannot.
func expandSome(expand func(dsl.Vars) (string, error), vars dsl.Vars) (string, error) {
	if s, err := expand(vars); err == nil {
		return s, nil
	}
	return expand(unsetAsName{vars})
}

// identityProviders is what the providers do with a sender that is not
// the account; the sandbox's profiles behave the same (identity.yaml).
const identityProviders = "Office 365 refuses it (550 5.7.60, or 554 5.2.252 SendAsDenied), Yahoo and AOL too (550 Request failed; Mailbox unavailable, or 554 6.6.0 Error sending message for delivery.), and Gmail rewrites From: to the account"

// warnSenderIdentity warns when a script's MAIL FROM or its message's
// From: header is not the AUTH user. It is a warning, not an error: a
// mailbox may have Send As rights or an alias, and where the user name
// is unset here smtprun cannot know the account's address at all.
func warnSenderIdentity(w io.Writer, st present.Style, path string, prog *dsl.Program, vars dsl.Vars) {
	user := ""
	check := func(step dsl.Node) {
		var what, addr string
		switch s := step.(type) {
		case *dsl.Auth:
			user, _ = expandSome(s.User.Expand, vars)
			return
		case *dsl.Send:
			line, err := expandSome(s.Text.Expand, vars)
			rest, ok := cutPrefixFold(strings.TrimSpace(line), "MAIL FROM:")
			if err != nil || !ok {
				return
			}
			what, addr = "MAIL FROM", envelopeAddress(rest)
		case *dsl.Message:
			if s.Inline == nil {
				return
			}
			text, err := expandSome(s.Inline.Expand, vars)
			if err != nil {
				return
			}
			what, addr = "the From: header", fromHeader(text)
		default:
			return
		}
		if user == "" || addr == "" || strings.EqualFold(addr, user) {
			return
		}
		line := step.Pos().Line
		if strings.Contains(user+addr, "\x00") {
			fmt.Fprintf(w, "%s %s:%d: cannot tell whether %s %s is the account that logs in (%s): %s when it is not\n",
				st.ErrTitle.Sprint("warning:"), path, line, what, shown(addr), shown(user), identityProviders)
			return
		}
		fmt.Fprintf(w, "%s %s:%d: %s %s is not the account that logs in (%s): %s; send as the account, or use an address it may send as\n",
			st.ErrTitle.Sprint("warning:"), path, line, what, addr, user, identityProviders)
	}
	dsl.Walk(prog.Script(), func(n dsl.Node) bool { check(n); return true })
}

// shown writes a value with its unset variables as ${NAME}.
func shown(s string) string {
	parts := strings.Split(s, "\x00")
	for i := 1; i < len(parts); i += 2 {
		parts[i] = "${" + parts[i] + "}"
	}
	return strings.Join(parts, "")
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// envelopeAddress is the address of "<addr> PARAMS" (or a bare address).
func envelopeAddress(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "<") {
		if end := strings.IndexByte(s, '>'); end > 0 {
			return s[1:end]
		}
		return ""
	}
	addr, _, _ := strings.Cut(s, " ")
	return addr
}

// fromHeader is the first address of a message's From: header, or "".
func fromHeader(msg string) string {
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			return "" // the end of the header
		}
		if value, ok := cutPrefixFold(line, "From:"); ok {
			list, err := mail.ParseAddressList(strings.ReplaceAll(value, "\x00", "_"))
			if err != nil || len(list) == 0 {
				return ""
			}
			// Put the marks of unset variables back.
			return restoreMarks(list[0].Address, value)
		}
	}
	return ""
}

// restoreMarks gives an address parsed with its marks replaced (mail
// does not take NUL) its marks back, from the raw header value.
func restoreMarks(addr, raw string) string {
	if !strings.Contains(raw, "\x00") {
		return addr
	}
	if i := strings.Index(strings.ReplaceAll(raw, "\x00", "_"), addr); i >= 0 {
		return raw[i : i+len(addr)]
	}
	return addr
}
