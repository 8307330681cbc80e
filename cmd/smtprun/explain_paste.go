package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/smtprun/smtprun/explain"
	"github.com/smtprun/smtprun/internal/replies"
	"github.com/smtprun/smtprun/sandbox"
)

// explainExtras answers the forms of `smtprun explain` beyond one query:
// --file BOUNCE (a whole bounce message), --reproduce REPLY... (a script
// that makes the sandbox send the reply), and pasted text with several
// replies or a bounce's fields (Diagnostic-Code, Status, Outlook's
// "Remote Server returned"). handled is false for a plain query.
func explainExtras(inv *invocation, args []string) (code int, handled bool) {
	stdout, stderr := inv.stdout, inv.stderr
	var files, rest []string
	reproduce := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--reproduce" || a == "-reproduce":
			reproduce = true
		case a == "--file" || a == "-file":
			if i+1 == len(args) {
				return inv.usageError("--file needs a file name: smtprun explain --file bounce.eml"), true
			}
			i++
			files = append(files, args[i])
		case strings.HasPrefix(a, "--file="):
			files = append(files, strings.TrimPrefix(a, "--file="))
		default:
			rest = append(rest, a)
		}
	}
	switch {
	case reproduce:
		if len(files) > 0 {
			return inv.usageError("--reproduce takes replies, not --file"), true
		}
		return runReproduce(inv, rest), true
	case len(files) > 0:
		if len(rest) > 0 {
			return inv.usageError("give --file or replies to explain, not both"), true
		}
		return explainFiles(files, stdout, stderr), true
	}
	text := strings.Join(rest, "\n")
	if len(rest) == 1 && explain.IsPaste(text) {
		return explainPasted(explain.FindReplies(text), "", stdout, stderr), true
	}
	return 0, false
}

func explainFiles(files []string, stdout, stderr io.Writer) int {
	code := exitOK
	for i, name := range files {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "smtprun explain: %v\n", err)
			code = exitUsage
			continue
		}
		found, err := explain.ParseBounce(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "smtprun explain: %s: %v\n", name, err)
			code = exitUsage
			continue
		}
		if c := explainPasted(found, name, stdout, stderr); c != exitOK {
			code = c
		}
	}
	return code
}

// explainPasted explains each reply found, saying where it was found.
func explainPasted(found []explain.Found, file string, stdout, stderr io.Writer) int {
	ex := explain.ExplainFound(found)
	if len(ex) == 0 {
		what := "the text"
		if file != "" {
			what = file
		}
		fmt.Fprintf(stderr, "smtprun explain: no server reply found in %s (looked for reply lines, Diagnostic-Code and Status fields, \"Remote Server returned '...'\")\n", what)
		return exitUsage
	}
	for i, e := range ex {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		where := "found in " + e.Where
		if file != "" {
			where = file + ": " + where
		}
		if e.Recipient != "" {
			where += ", for " + e.Recipient
		}
		if e.Status != "" && e.Reply != "" {
			where += " (Status " + e.Status + ")"
		}
		fmt.Fprintf(stdout, "%s:\n", where)
		q := e.Reply
		if q == "" {
			q = "Status: " + e.Status
		}
		printExplained(stdout, q, e.Entries, e.Hints)
	}
	return exitOK
}

// runReproduce writes, for each reply, a script that makes the sandbox
// send it; a reply no scenario sends gets the closest one that does.
func runReproduce(inv *invocation, args []string) int {
	stdout, stderr := inv.stdout, inv.stderr
	if len(args) == 0 {
		return inv.usageError(`--reproduce: which reply? e.g. smtprun explain --reproduce "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant." or a catalogue name (smtprun scenarios --sources lists them)`)
	}
	code := exitOK
	for i, q := range replyQueries(args) {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		script, err := reproduction(q)
		if err != nil {
			fmt.Fprintf(stderr, "smtprun explain --reproduce: %v\n", err)
			code = exitUsage
			continue
		}
		io.WriteString(stdout, script)
	}
	return code
}

// reproduction finds the catalogue reply q is (a name or a reply text)
// and the script that reproduces it.
func reproduction(q string) (string, error) {
	r, ok := replies.Lookup(strings.TrimSpace(q))
	if !ok {
		found := explain.FindReplies(q)
		text := q
		if len(found) > 0 && found[0].Reply != "" {
			text = found[0].Reply
		}
		m := replies.Match(text)
		if len(m) == 0 {
			return "", fmt.Errorf("%q is not a reply of the catalogue; smtprun scenarios --sources lists the replies the sandbox sends", clipText(q, 80))
		}
		r = m[0]
	}
	reps := sandbox.ReproductionsOf(r.Name)
	if len(reps) == 0 {
		// Another provider's copy of the same text (Yahoo's and AOL's).
		for _, other := range replies.All() {
			if other.Template == r.Template && other.Name != r.Name {
				if reps = sandbox.ReproductionsOf(other.Name); len(reps) > 0 {
					break
				}
			}
		}
	}
	if len(reps) == 0 {
		if rp, ok := sandbox.FaultReproduction(r.Name); ok {
			return rp.Script()
		}
		msg := fmt.Sprintf("no scenario of the sandbox sends %s (%s)", r.Name, firstOf(r.Lines))
		if c, ok := closestReproduction(r); ok {
			msg += fmt.Sprintf("; the closest it sends is %s: smtprun explain --reproduce %s", c.Reply, c.Reply)
		}
		return "", errors.New(msg)
	}
	return reps[0].Script()
}

// closestReproduction: a reproducible reply of the same provider for the
// same command, else one with the same code, else the same command.
func closestReproduction(r replies.Reply) (sandbox.Reproduction, bool) {
	all := sandbox.Reproductions()
	tests := []func(o replies.Reply) bool{
		func(o replies.Reply) bool {
			return o.Brand == r.Brand && o.Command == r.Command && o.Code/100 == r.Code/100
		},
		func(o replies.Reply) bool { return o.Brand == r.Brand && o.Code == r.Code },
		func(o replies.Reply) bool { return o.Brand == r.Brand && o.Command == r.Command },
		func(o replies.Reply) bool { return o.Code == r.Code },
		func(o replies.Reply) bool { return o.Brand == r.Brand && o.Code/100 == r.Code/100 },
	}
	for _, test := range tests {
		for _, rp := range all {
			if o, ok := replies.Lookup(rp.Reply); ok && test(o) {
				return rp, true
			}
		}
	}
	return sandbox.Reproduction{}, false
}

func firstOf(lines []string) string {
	if len(lines) > 1 {
		return lines[0] + " ..."
	}
	return lines[0]
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// runScenarioSources lists every reply the sandbox sends with its source.
func runScenarioSources(stdout io.Writer) int {
	fmt.Fprintln(stdout, "Replies the sandbox sends, and where each text comes from (catalogue entries: internal/replies/data):")
	last := ""
	for _, s := range sandbox.ReplySources() {
		head := "profile " + s.Profile
		if head != last {
			fmt.Fprintf(stdout, "\n%s:\n", head)
			last = head
		}
		what := s.Key
		if s.Scenario != "" {
			what = "scenario " + s.Scenario
			if s.Host != "" {
				what += " (" + s.Host + ")"
			}
		}
		src := "written in place in sandbox/profiles or scenarios.yaml (its comment there says verbatim, from memory or not verbatim)"
		if r, ok := replies.Lookup(s.Catalogue); ok {
			src = r.Name + ": " + r.Provenance()
		}
		fmt.Fprintf(stdout, "  %-22s %s\n", what, src)
	}
	return exitOK
}
