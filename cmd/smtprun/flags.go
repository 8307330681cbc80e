package main

import (
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
	if !ok || name == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	v.m[name] = val
	return nil
}

type listFlag struct{ l *[]string }

func (f listFlag) String() string     { return "" }
func (f listFlag) Set(s string) error { *f.l = append(*f.l, s); return nil }

// durationFlag parses a duration itself so that a bare number gets a
// message that names the missing unit: the flag package says only "parse
// error" for `--timeout 5`. The error waits in err, because the flag
// package would wrap it in its own single-dash wording.
type durationFlag struct {
	name string
	d    *time.Duration
	err  error
}

func (f *durationFlag) String() string { return "" }
func (f *durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	switch {
	case err == nil:
		*f.d = d
	case isNumber(s):
		f.err = fmt.Errorf("--%s %s: a duration needs a unit, as in %ss or %sms", f.name, s, s, s)
	default:
		f.err = fmt.Errorf("--%s %s: not a duration; write it as 30s, 500ms or 1m30s", f.name, s)
	}
	return nil
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
// conversations takes (a run, a test, a load): variables, trust, the
// timeout, output and the sandbox. It returns the timeout flag, whose
// error the caller reports after parsing.
func (o *options) conversationFlags(fs *flag.FlagSet) *durationFlag {
	fs.Var(varFlag{o.vars}, "var", "")
	fs.Var(listFlag{&o.caFiles}, "ca", "")
	fs.BoolVar(&o.insecure, "insecure", false, "")
	timeout := &durationFlag{name: "timeout", d: &o.timeout}
	fs.Var(timeout, "timeout", "")
	fs.BoolVar(&o.noColor, "no-color", false, "")
	fs.BoolVar(&o.quiet, "quiet", false, "")
	fs.BoolVar(&o.quiet, "q", false, "")
	fs.BoolVar(&o.sandbox, "sandbox", false, "")
	fs.StringVar(&o.scenario, "scenario", "", "")
	// Its error waits with the timeout's, which every caller reports.
	fs.Var(connectToFlag{&o.connectTo, &timeout.err}, "connect-to", "")
	fs.Var(listFlag{&o.faults}, "fault", "")
	fs.BoolVar(&o.noLimits, "no-limits", false, "")
	return timeout
}

// connectToFlag collects curl's --connect-to HOST:PORT:HOST2:PORT2. As
// with durationFlag, the error waits in err, unwrapped.
type connectToFlag struct {
	rules *[]engine.ConnectTo
	err   *error
}

func (f connectToFlag) String() string { return "" }
func (f connectToFlag) Set(s string) error {
	r, err := engine.ParseConnectTo(s)
	switch {
	case err == nil:
		*f.rules = append(*f.rules, r)
	case *f.err == nil:
		*f.err = err
	}
	return nil
}

// parseFlags accepts flags before and after positional arguments, as users
// type them (`smtprun x.smtp --var A=B`).
func parseFlags(args []string) (*options, error) {
	o := newOptions()
	fs := newFlagSet("smtprun")
	timeout := o.conversationFlags(fs)
	fs.BoolVar(&o.plaintextAuth, "allow-plaintext-auth", false, "")
	fs.BoolVar(&o.explain, "explain", false, "")
	fs.BoolVar(&o.step, "step", false, "")
	fs.BoolVar(&o.version, "version", false, "")
	fs.StringVar(&o.oauth, "oauth", "", "")
	fs.IntVar(&o.jobs, "jobs", 0, "")
	fs.BoolVar(&o.failFast, "fail-fast", false, "")
	fs.StringVar(&o.reportJUnit, "report-junit", "", "")
	fs.StringVar(&o.reportTAP, "report-tap", "", "")
	fs.StringVar(&o.reportJSON, "report-json", "", "")
	fs.StringVar(&o.reportHTML, "report-html", "", "")
	fs.Var(listFlag{&o.variableFiles}, "variables-file", "")
	var err error
	if o.args, err = parseInterspersed(fs, args); err != nil {
		return nil, err
	}
	if timeout.err != nil {
		return nil, timeout.err
	}
	if o.scenario != "" && !o.sandbox {
		return nil, fmt.Errorf("--scenario needs --sandbox")
	}
	if len(o.faults) > 0 && !o.sandbox {
		return nil, fmt.Errorf("--fault needs --sandbox (or serve --fault)")
	}
	if o.jobs < 0 {
		return nil, fmt.Errorf("--jobs must be at least 1, got %d", o.jobs)
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("--timeout must be positive, got %s", o.timeout)
	}
	return o, nil
}

// unknownFlag returns an error for the first flag in args that fs does not
// define, suggesting the closest one that it does. It walks args as
// flag.Parse does: "--" ends the flags, and a flag that is not boolean
// and has no "=" takes the next argument as its value. Positional
// arguments are stepped over, since smtprun takes flags after them too.
// parseInterspersed parses flags that may come before or after the
// arguments (`smtprun SCRIPT -q`), as the help promises, and returns the
// arguments. An unknown flag gets a suggestion first.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := checkFlags(fs, args); err != nil {
		return nil, err
	}
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
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
			if best := suggest.Closest(name, flagNames(fs)); best != "" {
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
