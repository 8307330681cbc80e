package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
)

const usageText = `smtprun runs scripted SMTP conversations and shows every line on the wire.

Usage:
  smtprun [flags] SCRIPT          run a .smtp script
  smtprun --sandbox SCRIPT        run it offline against built-in emulations of the providers
  smtprun check SCRIPT...         parse and validate scripts without connecting
  smtprun fmt [-w] [-l] FILE...   print scripts in canonical form (see fmt --help)
  smtprun scenarios               list the emulated providers and failure scenarios
  smtprun explain ARG...          explain a reply code, enhanced code, reply line or EHLO keyword
  smtprun serve [flags]           run an emulated provider as a real server (see serve --help)
  smtprun help                    show this help

Flags:
  --var NAME=VALUE        set a script variable (repeatable; wins over the environment)
  --ca FILE               also trust the CA certificates in FILE (PEM)
  --insecure              skip TLS certificate verification (the transcript says so)
  --allow-plaintext-auth  allow auth over an unencrypted connection to a non-loopback host
  --timeout DURATION      deadline for connecting, each reply and each handshake (default 30s)
  --no-color              plain output (also NO_COLOR=1, or when stdout is not a terminal)
  -q, --quiet             print nothing but the failure report
  --sandbox               serve every connect in-process by an emulated provider (no network)
  --scenario NAME         with --sandbox: make the server fail as real ones do (smtprun scenarios)
  --explain               explain every command and reply in the transcript
  --step                  pause before each step: Enter runs it, c continues, q sends QUIT and stops

Exit codes:
  0  every expectation held
  1  usage error (bad flags, unreadable file)
  2  script error (syntax, validation, unset variable, CR/LF in a command)
  3  runtime error (connect, DNS, TLS, timeout, protocol violation, connection closed)
  4  an expectation failed
  130 interrupted (Ctrl-C, or q at a --step prompt)
`

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
	args          []string
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

// parseFlags accepts flags before and after positional arguments, as users
// type them (`smtprun x.smtp --var A=B`).
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{vars: dsl.MapVars{}}
	fs := flag.NewFlagSet("smtprun", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(varFlag{o.vars}, "var", "")
	fs.Var(listFlag{&o.caFiles}, "ca", "")
	fs.BoolVar(&o.insecure, "insecure", false, "")
	fs.BoolVar(&o.plaintextAuth, "allow-plaintext-auth", false, "")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "")
	fs.BoolVar(&o.noColor, "no-color", false, "")
	fs.BoolVar(&o.quiet, "quiet", false, "")
	fs.BoolVar(&o.quiet, "q", false, "")
	fs.BoolVar(&o.sandbox, "sandbox", false, "")
	fs.StringVar(&o.scenario, "scenario", "", "")
	fs.BoolVar(&o.explain, "explain", false, "")
	fs.BoolVar(&o.step, "step", false, "")
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" {
			o.args = append(o.args, rest[1:]...)
			break
		}
		o.args = append(o.args, rest[0])
		args = rest[1:]
	}
	if o.scenario != "" && !o.sandbox {
		return nil, fmt.Errorf("--scenario needs --sandbox")
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("--timeout must be positive, got %s", o.timeout)
	}
	return o, nil
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "help", "-h", "--help", "-help":
			fmt.Fprint(stdout, usageText)
			return exitOK
		case "check":
			return runCheck(args[1:], stdout, stderr)
		case "fmt":
			return runFmt(args[1:], stdout, stderr)
		case "scenarios":
			return runScenarios(stdout)
		case "explain":
			return runExplain(args[1:], stdout, stderr)
		case "serve":
			stop, cancel := signalStop()
			defer cancel()
			return runServe(args[1:], stdout, stderr, stop)
		}
	}
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	if err != nil {
		return usageError(stderr, err.Error())
	}
	if len(o.args) != 1 {
		if len(o.args) == 0 {
			return usageError(stderr, "no script given")
		}
		return usageError(stderr, fmt.Sprintf("one script at a time, got %d (%s)", len(o.args), strings.Join(o.args, " ")))
	}
	st := newStyle(stdout, o.noColor)
	est := newStyle(stderr, o.noColor)
	script, code := load(o.args[0], stderr, est)
	if script == nil {
		return code
	}
	var vars dsl.Vars = dsl.Chain{o.vars, dsl.EnvVars{}}
	engOpts := []engine.Option{
		engine.WithTimeout(o.timeout),
		engine.WithInsecure(o.insecure),
		engine.WithPlaintextAuth(o.plaintextAuth),
	}
	tr := newTranscript(stdout, st, o.quiet)
	if o.explain {
		tr.teach = &teacher{}
	}
	if o.step {
		gate, err := newStepper(stdin, stdout, st, script)
		if err != nil {
			return usageError(stderr, err.Error())
		}
		engOpts = append(engOpts, engine.WithBeforeStep(gate.before))
	}
	if o.sandbox {
		sr, err := setupSandbox(o, script, vars)
		if err != nil {
			return usageError(stderr, err.Error())
		}
		defer sr.sb.Close()
		vars = sr.vars
		engOpts = append(engOpts, sr.opts...)
		for _, n := range sr.notes {
			tr.note(n)
		}
	} else if len(o.caFiles) > 0 {
		pool, err := loadCAs(o.caFiles)
		if err != nil {
			return usageError(stderr, err.Error())
		}
		engOpts = append(engOpts, engine.WithRootCAs(pool))
	}
	engOpts = append(engOpts, engine.WithObserver(tr), engine.WithVars(vars))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := engine.New(engOpts...).Run(ctx, script)
	tr.finish(res, err)
	if err != nil {
		// The report quotes the script; a secret written into it (which
		// it should not be) is masked there too.
		report(stderr, est, []byte(res.Redact(string(script.Source()))), err, tr.host)
	}
	return exitCode(err)
}

func usageError(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "smtprun: %s\nRun 'smtprun --help' for usage.\n", msg)
	return exitUsage
}

// load reads, parses and checks a script, reporting any problem.
func load(path string, stderr io.Writer, st style) (*dsl.Program, int) {
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "smtprun: cannot read script: %v\n", err)
		return nil, exitUsage
	}
	script, err := dsl.Parse(path, src)
	var prog *dsl.Program
	if err == nil {
		prog, err = dsl.Check(script)
	}
	if err != nil {
		reportErr(stderr, st, src, err)
		return nil, exitScript
	}
	return prog, exitOK
}

func loadCAs(files []string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, f := range files {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--ca: %v", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca %s: no PEM certificate found in the file", f)
		}
	}
	return pool, nil
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return usageError(stderr, err.Error())
	}
	if len(o.args) == 0 {
		return usageError(stderr, "check: no script given")
	}
	st := newStyle(stderr, o.noColor)
	worst := exitOK
	for _, path := range o.args {
		script, code := load(path, stderr, st)
		if script == nil {
			worst = max(worst, code)
			continue
		}
		if !o.quiet {
			fmt.Fprintf(stdout, "%s: ok (%d steps)\n", path, script.Len())
			variablesNote(stderr, st, path, script, dsl.Chain{o.vars, dsl.EnvVars{}})
		}
	}
	return worst
}
