package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/smtprun/smtprun/cmd/smtprun/internal/roff"
	"github.com/smtprun/smtprun/docs"
	"github.com/smtprun/smtprun/internal/suggest"
)

const helpUsage = `Usage:
  smtprun help [TOPIC|COMMAND]
  smtprun help --man > smtprun.1

Without an argument, prints smtprun's help and the list of topics. With a
topic, prints its page of the documentation (the docs/ page of the same
text); with a command, that command's --help, followed by its topic's page
when it has one (as git help does). --man writes the man page, made from
the same text: the commands' help, the exit codes and every topic.

Example:
  smtprun help language
`

// topic is a page of `smtprun help TOPIC` and a section of the man page.
// The text is the docs/ page itself, embedded, so the help, the man page
// and the documentation cannot disagree.
type topic struct {
	name    string
	summary string
	page    string // in docs/; empty for the exit codes, which the program holds
	command string // the subcommand the topic is about, whose --help comes first
}

var topics = []topic{
	{"language", "the .smtp language: every step, check, fmt, include, variables", "language.md", ""},
	{"scenarios", "the sandbox: the emulated providers and their failure scenarios", "sandbox.md", "scenarios"},
	{"serve", "smtprun serve: a practice server, the coach, the recorder", "serve.md", "serve"},
	{"test", "smtprun test: many scripts, JUnit, TAP, JSON and HTML reports", "test-mode.md", "test"},
	{"load", "smtprun load: concurrency, rates, histograms, shards", "load.md", "load"},
	{"oauth", "XOAUTH2, OAUTHBEARER and smtprun token", "oauth.md", "token"},
	{"faults", "fault plans (--fault), sending limits, sender identity, --connect-to", "faults.md", ""},
	{"explain", "smtprun explain: replies, pasted bounces, --reproduce", "explain.md", "explain"},
	{"providers", "the catalogue of real provider replies and their sources", "providers.md", ""},
	{"teaching", "learning SMTP: --explain, --step, the lessons", "teaching.md", ""},
	{"coach", "serve --explain and --record: diagnoses, the report card, recordings", "coach.md", ""},
	{"grade", "smtprun grade: autograding SMTP socket assignments", "grade.md", "grade"},
	{"engine", "what a run guarantees: replies, deadlines, TLS, masking", "engine.md", ""},
	{"security", "what smtprun does with secrets, issuers, files and inputs", "security.md", ""},
	{"completion", "shell completion and the man page", "completion.md", "completion"},
	{"exit-codes", "what each exit code means", "", ""},
}

func lookupTopic(name string) *topic {
	for i := range topics {
		if topics[i].name == name {
			return &topics[i]
		}
	}
	return nil
}

// text is the topic's page.
func (t *topic) text() string {
	if t.page == "" {
		return exitCodesHelp
	}
	b, err := docs.Pages.ReadFile(t.page)
	if err != nil {
		panic("docs/" + t.page + " is not embedded: " + err.Error())
	}
	return string(b)
}

// topicsHelp is the list of topics in the global help.
func topicsHelp() string {
	var b strings.Builder
	b.WriteString("Help topics (smtprun help TOPIC; smtprun help --man writes the man page):\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, t := range topics {
		fmt.Fprintf(tw, "  %s\t%s\n", t.name, t.summary)
	}
	tw.Flush()
	return b.String()
}

// runHelp is `smtprun help [TOPIC|COMMAND|--man]`.
func runHelp(inv *invocation, args []string) int {
	if wantsHelp(args) {
		fmt.Fprint(inv.stdout, helpUsage)
		return exitOK
	}
	switch {
	case len(args) == 0:
		fmt.Fprint(inv.stdout, globalHelp())
		return exitOK
	case len(args) > 1:
		return inv.usageError(fmt.Sprintf("one topic at a time, got %q", strings.Join(args, " ")))
	case args[0] == "--man" || args[0] == "-man":
		fmt.Fprint(inv.stdout, manPage())
		return exitOK
	}
	name := args[0]
	t, c := lookupTopic(name), lookupCommand(name)
	if t != nil && t.command != "" {
		c = lookupCommand(t.command)
	}
	if c != nil {
		fmt.Fprint(inv.stdout, c.usage)
	}
	if t != nil {
		if c != nil {
			fmt.Fprint(inv.stdout, "\n")
		}
		fmt.Fprint(inv.stdout, t.text())
	}
	if c == nil && t == nil {
		return inv.usageError(unknownTopicMsg(name))
	}
	return exitOK
}

func unknownTopicMsg(name string) string {
	var names []string
	for _, t := range topics {
		names = append(names, t.name)
	}
	for _, c := range commands {
		if lookupTopic(c.name) == nil {
			names = append(names, c.name)
		}
	}
	msg := fmt.Sprintf("no topic or command %q", name)
	if best := suggest.Closest(name, names); best != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	}
	return msg + "; the topics are " + strings.Join(names, ", ")
}

// manPage is smtprun.1: the synopsis and commands from the table, the
// exit codes, and every topic's page.
func manPage() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w(`.TH SMTPRUN 1 "" "smtprun %s" "User Commands"`, roff.Escape(versionString()))
	// Left-adjusted and unhyphenated: the pages hold long unbreakable
	// words (URLs, JSON, flags) that justified text cannot fit.
	w(".ad l")
	w(".nh")
	w(".SH NAME")
	w(`smtprun \- run scripted SMTP conversations and show every line on the wire`)
	w(".SH SYNOPSIS")
	for _, c := range commands {
		w(".br")
		w(`\fB%s\fR`, roff.Escape(c.synopsis))
	}
	w(".SH DESCRIPTION")
	w("smtprun runs scripted SMTP conversations (.smtp files) against real servers")
	w("or the built\\-in emulations of the providers (\\fB\\-\\-sandbox\\fR), and shows")
	w("every line on the wire. Each command has its own \\fB\\-\\-help\\fR;")
	w("\\fBsmtprun help TOPIC\\fR prints a section of this page.")
	w(".SH COMMANDS")
	for _, c := range commands {
		w(".SS %s", `"`+roff.Escape(c.label())+`"`)
		w("%s.", roff.Escape(upperFirst(c.summary)))
		writeVerbatim(&b, c.usage)
	}
	w(`.SH "EXIT STATUS"`)
	writeVerbatim(&b, exitCodesHelp)
	for _, t := range topics {
		if t.page == "" {
			continue
		}
		w(`.SH "%s"`, roff.Escape(strings.ToUpper(t.name)))
		w("%s.", roff.Escape(upperFirst(t.summary)))
		b.WriteString(roff.Markdown(t.text()))
	}
	w(`.SH "SEE ALSO"`)
	w("swaks(1), postfix(1)")
	return b.String()
}

func writeVerbatim(w io.Writer, text string) {
	fmt.Fprintln(w, ".PP\n.RS 4\n.nf")
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if l = roff.Escape(l); l == "" {
			l = `\&`
		}
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w, ".fi\n.RE")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
