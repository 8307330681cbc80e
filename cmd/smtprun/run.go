package main

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/suggest"
)

const usageText = `smtprun runs scripted SMTP conversations and shows every line on the wire.

Usage:
  smtprun [flags] SCRIPT          run a .smtp script (also: smtprun run SCRIPT)
  smtprun test [flags] PATH...    run many scripts in parallel, with reports for CI (see test --help)
  smtprun --sandbox SCRIPT        run it offline against built-in emulations of the providers
  smtprun check SCRIPT...         parse and validate scripts without connecting
  smtprun fmt [-w] [-l] FILE...   print scripts in canonical form (see fmt --help)
  smtprun scenarios               list the emulated providers and failure scenarios
  smtprun explain ARG...          explain a reply code, enhanced code, reply line or EHLO keyword
  smtprun serve [flags]           run an emulated provider as a real server (see serve --help)
  smtprun token PROVIDER          get an OAuth 2.0 token for XOAUTH2/OAUTHBEARER (see token --help)
  smtprun load [flags] SCRIPT     run a script many times at once and measure it (see load --help)
  smtprun grade RUBRIC -- PROGRAM score a student's SMTP client against a rubric (see grade --help)
  smtprun version                 print the version (also --version)
  smtprun help                    show this help

Flags:
  --var NAME=VALUE        set a script variable (repeatable; wins over the environment)
  --variables-file FILE   NAME=VALUE lines (repeatable); --var wins, then files in order, then the environment
  --ca FILE               also trust the CA certificates in FILE (PEM)
  --insecure              skip TLS certificate verification (the transcript says so)
  --allow-plaintext-auth  allow auth over an unencrypted connection to a non-loopback host
  --timeout DURATION      deadline for connecting, each reply and each handshake (default 30s)
  --no-color              plain output (also NO_COLOR=1, or when stdout is not a terminal)
  -q, --quiet             print nothing but the failure report
  --sandbox               serve every connect in-process by an emulated provider (no network)
  --scenario NAME         with --sandbox: make the server fail as real ones do (smtprun scenarios)
  --fault PLAN            with --sandbox: fail a chosen command, as in rcpt#2=550 5.1.1 No such user
                          (repeatable; docs/faults.md)
  --no-limits             with --sandbox: no sending limits (connections at once, messages a minute,
                          recipients a day; docs/faults.md)
  --connect-to H:P:H2:P2  connect to H2:P2 where the script says H:P, keeping H for TLS and the
                          transcript (curl's form; repeatable; an empty part matches any)
  --oauth PROVIDER        set SMTP_TOKEN from smtprun token's cache (refreshed), unless it is set
  --explain               explain every command and reply in the transcript
  --step                  pause before each step: Enter runs it, c continues, q sends QUIT and stops
  --version               print the version and the commit smtprun was built from
  --report-json FILE      write the run as JSON (format in the README)
  --report-html DIR       write the run as a static HTML page

Exit codes:
  0  every expectation held
  1  usage error (bad flags, unreadable script or --ca file)
  2  script error (syntax, validation, unset variable, CR/LF in a command)
  3  runtime error (connect, DNS, TLS, timeout, protocol violation, connection closed)
  4  an expectation failed
  130 interrupted (Ctrl-C, or q at a --step prompt)
`

// commands are smtprun's subcommands, for "did you mean" when a first
// argument that is no file is close to one.
var commands = []string{"check", "explain", "fmt", "grade", "help", "load", "run", "scenarios", "serve", "test", "token", "version"}

// run dispatches to a subcommand, or runs one script.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "help", "-h", "--help", "-help":
			fmt.Fprint(stdout, usageText)
			return exitOK
		case "version":
			printVersion(stdout)
			return exitOK
		case "check":
			return runCheck(args[1:], stdout, stderr)
		case "test":
			return runTest(args[1:], stdout, stderr)
		case "run":
			// `smtprun run SCRIPT` says what `smtprun SCRIPT` does.
			args = args[1:]
		case "fmt":
			return runFmt(args[1:], stdout, stderr)
		case "scenarios":
			if len(args) == 2 && (args[1] == "--sources" || args[1] == "-sources") {
				return runScenarioSources(stdout)
			}
			return runScenarios(stdout)
		case "explain":
			return runExplain(args[1:], stdout, stderr)
		case "token":
			return runToken(args[1:], stdout, stderr)
		case "load":
			return runLoad(args[1:], stdout, stderr)
		case "grade":
			return runGrade(args[1:], stdout, stderr)
		case "serve":
			stop, cancel := signalStop()
			defer cancel()
			return runServe(args[1:], stdout, stderr, stop)
		}
	}
	o, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	if err != nil {
		return usageError(stderr, err.Error())
	}
	if o.version {
		printVersion(stdout)
		return exitOK
	}
	if len(o.args) != 1 {
		if len(o.args) == 0 {
			return usageError(stderr, "no script given")
		}
		if err := unknownCommand(o.args[0]); err != nil {
			return usageError(stderr, err.Error())
		}
		return usageError(stderr, fmt.Sprintf("one script at a time, got %d (%s)", len(o.args), strings.Join(o.args, " ")))
	}
	if err := unknownCommand(o.args[0]); err != nil {
		return usageError(stderr, err.Error())
	}
	return runScript(o, stdin, stdout, stderr)
}

// unknownCommand reports a first argument that is not a file but is close
// to a subcommand's name ("chek"), which is likelier a typo than a
// missing script.
func unknownCommand(arg string) error {
	if strings.HasSuffix(arg, ".smtp") {
		return nil
	}
	if _, err := os.Stat(arg); err == nil {
		return nil
	}
	if best := suggest.Closest(arg, commands); best != "" {
		return fmt.Errorf("unknown command %q (did you mean %q?)", arg, best)
	}
	return nil
}

// runScript runs the one script o names, with o's settings.
func runScript(o *options, stdin io.Reader, stdout, stderr io.Writer) int {
	st := newStyle(stdout, o.noColor)
	est := newStyle(stderr, o.noColor)
	// From the start: reading a FIFO named as the script can be
	// interrupted too.
	ctx, stop := interruptContext()
	defer stop()
	in := inputs{ctx, o.timeout}
	script, code := load(in, o.args[0], stderr, est)
	if script == nil {
		return code
	}
	if msg := testOnlyFlags(o); msg != "" {
		return usageError(stderr, msg)
	}
	files, err := readVariablesFiles(in, o.variableFiles)
	if err != nil {
		return inputError(stderr, "smtprun", err)
	}
	warned := map[string]bool{}
	warnExposedSecrets(stderr, est, o, files, script, warned)
	warnQuotedValues(stderr, est, o, files, script, warned)
	var vars dsl.Vars = scriptVars(o, files)
	engOpts := []engine.Option{
		engine.WithTimeout(o.timeout),
		engine.WithInsecure(o.insecure),
		engine.WithPlaintextAuth(o.plaintextAuth),
		engine.WithConnectTo(o.connectTo...),
	}
	tr := newTranscript(stdout, st, o.quiet)
	tr.main = script.File()
	if o.explain {
		tr.teach = &teacher{}
	}
	if o.step {
		gate, err := newStepper(stdin, stdout, st)
		if err != nil {
			return usageError(stderr, err.Error())
		}
		engOpts = append(engOpts, engine.WithBeforeStep(gate.before))
	}
	// An unreadable --ca is the same usage error with or without
	// --sandbox: the flag was given, so something is wrong with the run.
	pool, err := loadCAs(in, o.caFiles)
	if err != nil {
		return inputError(stderr, "smtprun", err)
	}
	var tokenRefusedHint string
	if o.oauth != "" {
		v, note, refused, code := oauthVars(o, vars, stderr)
		tokenRefusedHint = refused
		if code != exitOK {
			return code
		}
		vars = v
		if note != "" {
			tr.note(note)
		}
	}
	var notes []string // the run's own lines, for the reports as for test mode's
	if o.sandbox {
		sr, err := setupSandbox(o, script, vars)
		if err != nil {
			return sandboxSetupError(stderr, est, "smtprun", script, err)
		}
		defer sr.sb.Close()
		vars = sr.vars
		engOpts = append(engOpts, sr.opts...)
		for _, n := range sr.notes {
			tr.note(n)
		}
		notes = sr.notes
	} else if pool != nil {
		engOpts = append(engOpts, engine.WithRootCAs(pool))
	}
	var obs engine.Observer = tr
	rec := newRunRecorder(o, script)
	if rec != nil {
		obs = observers{tr, rec}
	}
	engOpts = append(engOpts, engine.WithObserver(obs), engine.WithVars(vars))

	started := time.Now()
	res, err := engine.New(engOpts...).Run(ctx, script)
	tr.finish(res, err)
	if err != nil {
		// The report quotes the script; a secret written into it (which
		// it should not be) is masked there too.
		err = tokenUnsetHelp(script, vars, err)
		report(stderr, est, []byte(res.Redact(string(errSource(script, err)))), err, tr.host, includeNotes(script, err)...)
		if tokenRefusedHint != "" && tokenRefused(err) {
			fmt.Fprintln(stderr, tokenRefusedHint)
		}
	}
	if rec != nil {
		if werr := writeRunReports(o, script, rec, res, err, tr.host, started, notes); werr != nil {
			fmt.Fprintf(stderr, "smtprun: cannot write a report: %v\n", werr)
			return max(exitCode(err), exitUsage)
		}
	}
	return exitCode(err)
}

func usageError(stderr io.Writer, msg string) int {
	return commandUsageError(stderr, "smtprun", msg)
}

// commandUsageError reports a usage error of command ("smtprun",
// "smtprun serve") and points at that command's own help.
func commandUsageError(stderr io.Writer, command, msg string) int {
	fmt.Fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", command, msg, command)
	return exitUsage
}

// load reads, parses and checks a script, reporting any problem.
func load(in inputs, path string, stderr io.Writer, st style) (*dsl.Program, int) {
	src, err := in.script(path)
	if err != nil {
		if in.ctx.Err() != nil {
			fmt.Fprintf(stderr, "smtprun: interrupted while reading %s\n", escName(path))
			return nil, exitInterrupted
		}
		fmt.Fprintf(stderr, "smtprun: cannot read script: %s\n", escName(err.Error()))
		return nil, exitUsage
	}
	script, err := dsl.Parse(path, src)
	var prog *dsl.Program
	if err == nil {
		prog, err = dsl.Check(script, in.loader())
	}
	if err != nil {
		reportErr(stderr, st, src, err)
		return nil, exitScript
	}
	return prog, exitOK
}

// loadCAs returns the system's CAs and those in files, or nil for no
// files: the engine then uses the system's.
func loadCAs(in inputs, files []string) (*x509.CertPool, error) {
	if len(files) == 0 {
		return nil, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, f := range files {
		pem, err := in.read(f, "a CA file", maxCAFileBytes)
		if err != nil {
			return nil, fmt.Errorf("--ca: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca %s: no PEM certificate found in the file", f)
		}
	}
	return pool, nil
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	if err != nil {
		return usageError(stderr, err.Error())
	}
	if o.version {
		printVersion(stdout)
		return exitOK
	}
	if len(o.args) == 0 {
		return usageError(stderr, "check: no script given")
	}
	ctx, stop := interruptContext()
	defer stop()
	in := inputs{ctx, o.timeout}
	files, err := readVariablesFiles(in, o.variableFiles)
	if err != nil {
		return inputError(stderr, "smtprun", err)
	}
	st := newStyle(stderr, o.noColor)
	warned := map[string]bool{}
	worst := exitOK
	for _, path := range o.args {
		script, code := load(in, path, stderr, st)
		if script == nil {
			worst = max(worst, code)
			continue
		}
		warnExposedSecrets(stderr, st, o, files, script, warned)
		warnQuotedValues(stderr, st, o, files, script, warned)
		warnSenderIdentity(stderr, st, path, script, scriptVars(o, files))
		if !o.quiet {
			fmt.Fprintf(stdout, "%s: ok (%d steps)\n", escName(path), script.Len())
			variablesNote(stderr, st, path, script, scriptVars(o, files))
		}
	}
	return worst
}
