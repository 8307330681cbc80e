package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/smtprun/smtprun/explain"
)

const explainUsage = `Usage:
  smtprun explain ARG...
  smtprun explain --file BOUNCE.eml
  smtprun explain --reproduce REPLY...

Explains, offline, a reply code (535), an enhanced status code (5.7.8), a
whole reply line ("535 5.7.8 Username and Password not accepted"), an EHLO
keyword (PIPELINING, "SIZE 35882577"), a command (MAIL) or an AUTH
mechanism (PLAIN), with its source (RFC section or provider document) and
the known fixes. Each argument is explained on its own, except a reply
line typed without quotes. Pasted text with several replies or a bounce's
fields is searched for the server's replies.

Flags:
  --file FILE     explain the replies found in a whole bounce message or log
  --reproduce     print, for each REPLY, a script that makes the sandbox send it

Example:
  smtprun explain 535 5.7.139

Exit codes: 0 ok; 1 nothing known matches an argument.
`

// runExplain answers `smtprun explain ARG...` offline.
func runExplain(inv *invocation, args []string) int {
	stdout := inv.stdout
	if wantsHelp(args) {
		fmt.Fprint(stdout, explainUsage)
		return exitOK
	}
	if len(args) == 0 {
		return inv.usageError(`what should be explained? e.g. smtprun explain 535 5.7.139, smtprun explain "530 5.7.0 Must issue a STARTTLS command first", smtprun explain PIPELINING, smtprun explain --file bounce.eml, smtprun explain --reproduce REPLY`)
	}
	if code, handled := explainExtras(inv, args); handled {
		return code
	}
	code := exitOK
	for i, q := range replyQueries(args) {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		entries, hints, err := explain.Lookup(q)
		if err != nil {
			code = inv.failf(exitUsage, "%s", notFound(err))
			continue
		}
		printExplained(stdout, q, entries, hints)
	}
	return code
}

// notFound says what Lookup could not explain; the command's name is
// already in front of it, so the query is not prefixed with "explain"
// again.
func notFound(err error) string {
	var nf *explain.NotFoundError
	if !errors.As(err, &nf) {
		return err.Error()
	}
	msg := fmt.Sprintf("%q: %s", nf.Arg, nf.Reason)
	if nf.Suggestion != "" {
		msg += fmt.Sprintf("; closest known topic: %q", nf.Suggestion)
	}
	return msg
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
