package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one subcommand. The dispatcher, the global help's list, the
// "did you mean" for a mistyped subcommand and docs/cli.md all read the
// table below, so a subcommand is added by adding its entry.
type command struct {
	name     string
	synopsis string // how it is called, as the global help lists it
	summary  string // one line
	usage    string // its --help
	// longRunning commands, those that can wait (on the network, or on a
	// FIFO named as an input), run under the interrupt policy: the first
	// Ctrl-C (or SIGTERM) cancels their context so they can end politely,
	// and the second ends the program whatever it is doing. The others
	// keep the signals' default action: Ctrl-C ends them at once.
	longRunning bool
	run         func(inv *invocation, args []string) int
}

// invocation is what a subcommand runs with: its entry in the table, its
// context (cancelled by the first interrupt of a long-running command)
// and the streams.
type invocation struct {
	cmd    *command
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// commands is the table of subcommands, in the order the help lists them.
var commands []*command

func init() {
	commands = []*command{
		{name: "run", synopsis: "smtprun [flags] SCRIPT", summary: "run a .smtp script (also: smtprun run SCRIPT)",
			usage: usageText, longRunning: true, run: runRun},
		{name: "test", synopsis: "smtprun test [flags] PATH...", summary: "run many scripts in parallel, with reports for CI",
			usage: testUsage, longRunning: true, run: runTest},
		{name: "check", synopsis: "smtprun check SCRIPT|DIR...", summary: "parse and validate scripts without connecting",
			usage: checkUsage, longRunning: true, run: runCheck},
		{name: "fmt", synopsis: "smtprun fmt [-w] [-l] FILE|DIR...", summary: "print scripts in canonical form",
			usage: fmtUsage, longRunning: true, run: runFmt},
		{name: "scenarios", synopsis: "smtprun scenarios", summary: "list the emulated providers and failure scenarios",
			usage: scenariosUsage, run: runScenarios},
		{name: "explain", synopsis: "smtprun explain ARG...", summary: "explain a reply code, enhanced code, reply line or EHLO keyword",
			usage: explainUsage, run: runExplain},
		{name: "serve", synopsis: "smtprun serve [flags]", summary: "run an emulated provider as a real server",
			usage: serveUsage, longRunning: true, run: runServe},
		{name: "token", synopsis: "smtprun token PROVIDER", summary: "get an OAuth 2.0 token for XOAUTH2/OAUTHBEARER",
			usage: tokenUsage, longRunning: true, run: runToken},
		{name: "load", synopsis: "smtprun load [flags] SCRIPT", summary: "run a script many times at once and measure it",
			usage: loadUsage, longRunning: true, run: runLoad},
		{name: "grade", synopsis: "smtprun grade RUBRIC -- PROGRAM", summary: "score a student's SMTP client against a rubric",
			usage: gradeUsage, longRunning: true, run: runGrade},
		{name: "version", synopsis: "smtprun version", summary: "print the version (also --version)",
			usage: versionUsage, run: runVersion},
		{name: "help", synopsis: "smtprun help [COMMAND]", summary: "show this help, or a command's",
			usage: helpUsage, run: runHelp},
	}
}

// lookupCommand returns the subcommand named name, or nil.
func lookupCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func commandNames() []string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return names
}

// commandContextHook lets the interrupt tests hide the first interrupt
// from a command, as a wait that cannot be cancelled would, to show that
// the second still ends the program. Nil outside tests.
var commandContextHook func(context.Context) context.Context

// run dispatches to a subcommand; anything else is a script to run.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := lookupCommand("run")
	if len(args) > 0 {
		switch args[0] {
		case "-h", "--help", "-help":
			fmt.Fprint(stdout, globalHelp())
			return exitOK
		}
		if sub := lookupCommand(args[0]); sub != nil {
			c, args = sub, args[1:]
		}
	}
	inv := &invocation{cmd: c, ctx: context.Background(), stdin: stdin, stdout: stdout, stderr: stderr}
	if c.longRunning {
		ctx, stop := interruptContext()
		defer stop()
		inv.ctx = ctx
	}
	if commandContextHook != nil {
		inv.ctx = commandContextHook(inv.ctx)
	}
	return c.run(inv, args)
}

// label is how messages name the command: "smtprun test"; a run is
// plain "smtprun", as it is typed.
func (c *command) label() string {
	if c.name == "run" {
		return "smtprun"
	}
	return "smtprun " + c.name
}

// usageError reports a mistake on the command line, points at the
// command's own help and returns the usage error's exit code. It is the
// only place a usage error is printed.
func (inv *invocation) usageError(msg string) int {
	label := inv.cmd.label()
	fmt.Fprintf(inv.stderr, "%s: %s\nRun '%s --help' for usage.\n", label, msg, label)
	return exitUsage
}

// failf reports an error of the command that is not a usage mistake and
// returns code.
func (inv *invocation) failf(code int, format string, a ...any) int {
	fmt.Fprintf(inv.stderr, "%s: %s\n", inv.cmd.label(), fmt.Sprintf(format, a...))
	return code
}

// parsed ends the command for what parsing its command line can end
// with: --help prints its help (exit 0), anything else is a usage error.
// ok is true when there was no error and the command goes on.
func (inv *invocation) parsed(err error) (code int, ok bool) {
	switch {
	case err == nil:
		return exitOK, true
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(inv.stdout, inv.cmd.usage)
		return exitOK, false
	}
	return inv.usageError(err.Error()), false
}

// noArguments parses the command line of a command that takes no
// arguments and no flags but --help.
func (inv *invocation) noArguments(args []string) (code int, ok bool) {
	rest, err := parseInterspersed(newFlagSet(inv.cmd.label()), args)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q: %s takes none", rest[0], inv.cmd.label())
	}
	return inv.parsed(err)
}

// wantsHelp reports whether args ask for help, for a command whose
// arguments are not flags (explain's are queries).
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

const helpUsage = `Usage: smtprun help [COMMAND]

Prints smtprun's help, or with COMMAND that command's (as smtprun COMMAND --help).
`

// runHelp is `smtprun help [COMMAND]`.
func runHelp(inv *invocation, args []string) int {
	if wantsHelp(args) {
		fmt.Fprint(inv.stdout, helpUsage)
		return exitOK
	}
	switch len(args) {
	case 0:
		fmt.Fprint(inv.stdout, globalHelp())
		return exitOK
	case 1:
		if c := lookupCommand(args[0]); c != nil {
			fmt.Fprint(inv.stdout, c.usage)
			return exitOK
		}
		return inv.usageError(unknownCommandMsg(args[0]))
	}
	return inv.usageError(fmt.Sprintf("one command at a time, got %q", strings.Join(args, " ")))
}

func unknownCommandMsg(name string) string {
	msg := fmt.Sprintf("unknown command %q", name)
	if best := closestCommand(name); best != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	}
	return msg + "; the commands are " + strings.Join(commandNames(), ", ")
}

// globalHelp is `smtprun --help`: what smtprun is, the subcommands from
// the table, the flags of a run and the exit codes.
func globalHelp() string {
	var b strings.Builder
	b.WriteString("smtprun runs scripted SMTP conversations and shows every line on the wire.\n\nUsage:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-34s  %s\n", c.synopsis, c.summary)
	}
	b.WriteString("\nEach command has its own --help (smtprun test --help). Add --sandbox to a run\nto serve it offline by built-in emulations of the providers.\n\n")
	b.WriteString(runFlagsHelp)
	b.WriteString("\n")
	b.WriteString(exitCodesHelp)
	return b.String()
}
