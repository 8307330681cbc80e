package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/explain"
	"github.com/smtprun/smtprun/sandbox"
)

// teacher produces the --explain lines: what each command asks and what
// each reply means, from the knowledge base in explain.
type teacher struct {
	host string // the host connected to, for provider-specific meanings
}

// sent explains a command line.
func (t *teacher) sent(ev engine.Sent) []string {
	switch ev.Role {
	case engine.RoleRaw:
		return helpLines("explain-raw")
	case engine.RoleEndOfData:
		return helpLines("explain-end-of-data")
	case engine.RoleUsername:
		// The user name is not secret; the password line is masked and
		// never decoded.
		if b, err := base64.StdEncoding.DecodeString(ev.Line); err == nil {
			return helpLines("explain-username", "encoded", strconv.Quote(ev.Line), "decoded", strconv.Quote(string(b)))
		}
		return nil
	case engine.RoleCommand, engine.RoleAuth, engine.RoleToken:
		// A token line is "AUTH XOAUTH2 ********": the command and its
		// mechanism are explained, the masked response is not.
	default:
		return nil // content, or AUTH responses the role note describes
	}
	var out []string
	if e, ok := explain.Command(ev.Line); ok {
		out = append(out, entryLine(e))
	}
	for _, p := range explain.Parameters(ev.Line) {
		out = append(out, entryLine(p))
	}
	return out
}

// received explains a reply: its code, its enhanced status code, each EHLO
// keyword, a decoded 334 challenge, and a hint for a known error.
func (t *teacher) received(ev engine.Received) []string {
	rep := ev.Reply
	var out []string
	r := explain.Reply(rep.Code)
	out = append(out, fmt.Sprintf("%d %s: %s (%s)", rep.Code, r.Title, r.Text, r.Source))
	// A success code's generic detail (2.0.0, 2.1.0) says nothing the
	// reply code has not said already.
	if enh := rep.EnhancedCode(); enh != "" && !(enh[0] == '2' && strings.HasSuffix(enh, ".0")) {
		if e, ok := explain.EnhancedFor(enh, t.host); ok {
			out = append(out, fmt.Sprintf("%s %s: %s (%s)", enh, e.Title, e.Text, e.Source))
		}
	}
	verb, _, _ := strings.Cut(ev.Answers, " ")
	switch {
	case rep.Code == 250 && strings.EqualFold(verb, "EHLO") && len(rep.Text) > 1:
		for _, kw := range rep.Text[1:] {
			if e, ok := explain.Keyword(kw); ok {
				out = append(out, fmt.Sprintf("%s: %s (%s)", strings.Fields(kw + " ")[0], e.Text, e.Source))
			}
		}
	case rep.Code == 334 && len(rep.Text) > 0:
		text := strings.TrimSpace(rep.Text[0])
		if decoded, e, ok := explain.Challenge(text); ok {
			out = append(out, fmt.Sprintf("%q is base64 for %q: %s (%s)", text, decoded, e.Text, e.Source))
		}
	}
	if rep.Code >= 400 {
		if hints := explain.HintsFor(rep.Code, rep.Text, t.host); len(hints) > 0 {
			// The most specific one; the rest say it more generally.
			out = append(out, "hint: "+hints[0].Text)
		}
	}
	return out
}

func entryLine(e explain.Entry) string {
	return fmt.Sprintf("%s (%s): %s (%s)", e.Topic, e.Title, e.Text, e.Source)
}

// hintsFor returns the known-error hint for a failed run, if the error
// carries the server's reply.
func hintsFor(err error, host string) []string {
	var ae *engine.AssertError
	if !errors.As(err, &ae) || ae.Got == nil || ae.Got.Code < 400 {
		return nil
	}
	if ae.OAuth != nil {
		return []string{"hint: " + oauthHint(*ae.OAuth, host)}
	}
	if hints := explain.HintsFor(ae.Got.Code, ae.Got.Text, host); len(hints) > 0 {
		return []string{"hint: " + hints[0].Text}
	}
	return nil
}

// oauthHint says what to do about a token the server refused with a JSON
// challenge: a 401 or invalid_token is a token that expired or was
// revoked; otherwise, most often, one issued for the wrong scope.
func oauthHint(o engine.OAuthError, host string) string {
	provider := sandbox.ProfileForHost(host)
	switch o.Status {
	case "401", "invalid_token":
		if provider == "office365" || provider == "gmail" {
			return fmt.Sprintf("the access token has expired or was revoked: refresh it with `smtprun token %s` (or run with --oauth %s)", provider, provider)
		}
		return "the access token has expired or was revoked: get a fresh one (`smtprun token PROVIDER` refreshes a cached one)"
	}
	scope := o.Scope
	if scope == "" {
		scope = "the provider's mail scope"
	}
	return fmt.Sprintf("the token was refused (status %s); it must be a current access token issued with the scope %s (`smtprun token --scope`), for the same account as the user name", o.Status, scope)
}

// runExplain answers `smtprun explain ARG...` offline.
func runExplain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return usageError(stderr, `explain: what should be explained? e.g. smtprun explain 535 5.7.139, smtprun explain "530 5.7.0 Must issue a STARTTLS command first", smtprun explain PIPELINING, smtprun explain --file bounce.eml, smtprun explain --reproduce REPLY`)
	}
	if code, handled := explainExtras(args, stdout, stderr); handled {
		return code
	}
	code := exitOK
	for i, q := range replyQueries(args) {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		entries, hints, err := explain.Lookup(q)
		if err != nil {
			fmt.Fprintf(stderr, "smtprun explain: %v\n", err)
			code = exitUsage
			continue
		}
		printExplained(stdout, q, entries, hints)
	}
	return code
}

// printExplained prints a query and its explanation.
func printExplained(stdout io.Writer, q string, entries []explain.Entry, hints []explain.Hint) {
	fmt.Fprintf(stdout, "%s\n", q)
	for _, e := range entries {
		fmt.Fprintf(stdout, "  %s  %s\n", e.Topic, e.Title)
		fmt.Fprintf(stdout, "      %s\n", e.Text)
		fmt.Fprintf(stdout, "      source: %s\n", e.Source)
	}
	for _, h := range hints {
		fmt.Fprintf(stdout, "  hint: %s\n", h.Text)
		fmt.Fprintf(stdout, "      source: %s\n", h.Source)
	}
}

// replyQueries: each argument is explained on its own ("535 5.7.139"
// gives the code and the enhanced code), except a reply line typed
// without quotes: a code followed by words is one reply.
func replyQueries(args []string) []string {
	if len(args) > 2 && looksLikeReply(args[0]) && !looksLikeCode(args[len(args)-1]) {
		return []string{strings.Join(args, " ")}
	}
	return args
}

// looksLikeCode: a reply code or an enhanced status code.
func looksLikeCode(s string) bool {
	return s != "" && strings.Trim(s, "0123456789.") == ""
}

func looksLikeReply(s string) bool {
	return len(s) >= 3 && s[0] >= '2' && s[0] <= '5' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'
}
