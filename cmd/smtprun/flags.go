package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/suggest"
)

// options are the parsed command line.
type options struct {
	vars          dsl.MapVars
	caFiles       []string
	insecure      bool
	plaintextAuth bool
	timeout       time.Duration
	noColor       bool
	quiet         bool
	sandbox       bool
	scenario      string
	explain       bool
	step          bool
	version       bool
	oauth         string // --oauth PROVIDER: SMTP_TOKEN from the token cache
	connectTo     []engine.ConnectTo
	faults        []string // --fault PLAN, under --sandbox
	noLimits      bool     // --no-limits: the sandbox's providers enforce no sending limits
	args          []string

	// Test mode and reports (test.go).
	jobs          int
	failFast      bool
	reportJUnit   string
	reportTAP     string
	reportJSON    string
	reportHTML    string
	variableFiles []string
}

type varFlag struct{ m dsl.MapVars }

func (v varFlag) String() string { return "" }
func (v varFlag) Set(s string) error {
	name, val, ok := strings.Cut(s, "=")
	switch {
	case ok && name != "":
		v.m[name] = val
		return nil
	case dsl.ValidName(s):
		return fmt.Errorf("--var %s: want NAME=VALUE", s)
	}
	// Not shown: a mistyped --var may well hold the value, a password.
	return errors.New("--var: want NAME=VALUE; the argument (not shown, it may hold a secret) has no name before an =")
}

func (varFlag) errorsNameTheFlag() {}

type listFlag struct{ l *[]string }

func (f listFlag) String() string     { return "" }
func (f listFlag) Set(s string) error { *f.l = append(*f.l, s); return nil }

// durationFlag parses a duration itself so that a bare number gets a
// message that names the missing unit: the flag package says only "parse
// error" for `--timeout 5`.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string { return "" }
func (f durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	switch {
	case err == nil:
		*f.d = d
		return nil
	case isNumber(s):
		return fmt.Errorf("a duration needs a unit, as in %ss or %sms", s, s)
	}
	return errors.New("not a duration; write it as 30s, 500ms or 1m30s")
}

// valueError keeps the first error of a flag's value as the help writes
// the flag ("--var FOO: want NAME=VALUE"): the flag package would wrap it
// as `invalid value "FOO" for flag -var: ...`, with one dash and the value
// twice.
type valueError struct {
	flag.Value
	name  string
	first *error
}

func (v valueError) Set(s string) error {
	err := v.Value.Set(s)
	if err == nil || *v.first != nil {
		return nil
	}
	if _, ok := v.Value.(interface{ errorsNameTheFlag() }); ok {
		*v.first = err
	} else {
		*v.first = fmt.Errorf("%s %s: %v", flagName(v.name), s, err)
	}
	return nil
}

func (v valueError) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// newFlagSet makes a flag set that reports nothing itself: every usage
// error is printed once, by usageError, with a pointer to the right help.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

func newOptions() *options { return &options{vars: dsl.MapVars{}, timeout: 30 * time.Second} }

// conversationFlags registers the flags every command that holds
// conversations takes (a run, a test, a load): variables, variables files
// and --oauth, trust and plaintext auth, the timeout, output and the
// sandbox. newConversation applies them.
func (o *options) conversationFlags(fs *flag.FlagSet) {
	fs.Var(varFlag{o.vars}, "var", "")
	fs.Var(listFlag{&o.variableFiles}, "variables-file", "")
	fs.Var(listFlag{&o.caFiles}, "ca", "")
	fs.BoolVar(&o.insecure, "insecure", false, "")
	fs.BoolVar(&o.plaintextAuth, "allow-plaintext-auth", false, "")
	fs.StringVar(&o.oauth, "oauth", "", "")
	fs.Var(durationFlag{&o.timeout}, "timeout", "")
	fs.BoolVar(&o.noColor, "no-color", false, "")
	fs.BoolVar(&o.quiet, "quiet", false, "")
	fs.BoolVar(&o.quiet, "q", false, "")
	fs.BoolVar(&o.sandbox, "sandbox", false, "")
	fs.StringVar(&o.scenario, "scenario", "", "")
	fs.Var(connectToFlag{&o.connectTo}, "connect-to", "")
	fs.Var(listFlag{&o.faults}, "fault", "")
	fs.BoolVar(&o.noLimits, "no-limits", false, "")
}

// checkConversation checks what the conversation flags were given.
func (o *options) checkConversation() error {
	switch {
	case o.scenario != "" && !o.sandbox:
		return errors.New("--scenario needs --sandbox")
	case len(o.faults) > 0 && !o.sandbox:
		return errors.New("--fault needs --sandbox (or serve --fault)")
	case o.timeout <= 0:
		return fmt.Errorf("--timeout must be positive, got %s", o.timeout)
	}
	return nil
}

// connectToFlag collects curl's --connect-to HOST:PORT:HOST2:PORT2. The
// engine's error names the flag and the value itself.
type connectToFlag struct{ rules *[]engine.ConnectTo }

func (f connectToFlag) String() string { return "" }
func (f connectToFlag) Set(s string) error {
	r, err := engine.ParseConnectTo(s)
	if err != nil {
		return err
	}
	*f.rules = append(*f.rules, r)
	return nil
}

func (connectToFlag) errorsNameTheFlag() {}

// parseFlags accepts flags before and after positional arguments, as users
// type them (`smtprun x.smtp --var A=B`).
func parseFlags(args []string) (*options, error) {
	o := newOptions()
	fs := newFlagSet("smtprun")
	o.conversationFlags(fs)
	fs.BoolVar(&o.explain, "explain", false, "")
	fs.BoolVar(&o.step, "step", false, "")
	fs.BoolVar(&o.version, "version", false, "")
	fs.IntVar(&o.jobs, "jobs", 0, "")
	fs.BoolVar(&o.failFast, "fail-fast", false, "")
	fs.StringVar(&o.reportJUnit, "report-junit", "", "")
	fs.StringVar(&o.reportTAP, "report-tap", "", "")
	fs.StringVar(&o.reportJSON, "report-json", "", "")
	fs.StringVar(&o.reportHTML, "report-html", "", "")
	var err error
	if o.args, err = parseInterspersed(fs, args); err != nil {
		return nil, err
	}
	if err := o.checkConversation(); err != nil {
		return nil, err
	}
	if o.jobs < 0 {
		return nil, fmt.Errorf("--jobs must be at least 1, got %d", o.jobs)
	}
	return o, nil
}

// parseInterspersed parses flags that may come before or after the
// arguments (`smtprun SCRIPT -q`), as the help promises, and returns the
// arguments. An unknown flag gets a suggestion first, and a bad value is
// reported as the help writes the flag.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := checkFlags(fs, args); err != nil {
		return nil, err
	}
	var valueErr error
	fs.VisitAll(func(f *flag.Flag) { f.Value = valueError{f.Value, f.Name, &valueErr} })
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if valueErr != nil {
			return nil, valueErr
		}
		left := fs.Args()
		if len(left) == 0 {
			return rest, nil
		}
		if left[0] == "--" {
			return append(rest, left[1:]...), nil
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
}

// checkFlags returns an error for the first flag in args that fs does not
// define, suggesting the one it likely meant. It walks args as flag.Parse
// does: "--" ends the flags, and a flag that is not boolean and has no
// "=" takes the next argument as its value. Positional arguments are
// stepped over, since smtprun takes flags after them too.

func checkFlags(fs *flag.FlagSet, args []string) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return nil
		}
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		dashes := "-"
		if strings.HasPrefix(a, "--") {
			dashes = "--"
		}
		name, _, hasValue := strings.Cut(a[len(dashes):], "=")
		if name == "h" || name == "help" {
			continue // flag.ErrHelp, handled by the caller
		}
		f := fs.Lookup(name)
		if f == nil {
			msg := "unknown flag " + dashes + name
			if best := suggestFlag(name, flagNames(fs)); best != "" {
				msg += fmt.Sprintf(" (did you mean %s?)", flagName(best))
			}
			return fmt.Errorf("%s", msg)
		}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !hasValue && !(ok && b.IsBoolFlag()) {
			if i++; i == len(args) { // the value, which may itself start with a dash
				return fmt.Errorf("%s needs a value", dashes+name)
			}
		}
	}
	return nil
}

// suggestFlag is the flag an unknown one likely meant: the only one it
// begins (--prof for --profile), else the closest long one. A one-letter
// flag is never "corrected" to another letter (-x is no typo of -q), only
// to itself in the other case (-Q to -q).
func suggestFlag(name string, names []string) string {
	if len([]rune(name)) == 1 {
		for _, n := range names {
			if strings.EqualFold(n, name) {
				return n
			}
		}
		return ""
	}
	var long, begun []string
	for _, n := range names {
		if len(n) > 1 {
			long = append(long, n)
			if strings.HasPrefix(n, name) {
				begun = append(begun, n)
			}
		}
	}
	if len(begun) == 1 {
		return begun[0]
	}
	return suggest.Closest(name, long)
}

func flagNames(fs *flag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// flagName writes a flag as the help text does: --long, -q.
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}
