package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/smtprun/smtprun/cmd/smtprun/internal/present"
	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/suggest"
)

const usageText = `Usage:
  smtprun [run] [flags] SCRIPT

Runs one .smtp script and shows every line on the wire. With --sandbox every
connect is served in-process by an emulation of the provider (no network).

` + runFlagsHelp + `
Example:
  smtprun --sandbox scripts/gmail.smtp

` + exitCodesHelp

// runFlagsHelp describes the flags of a run; test and load take the
// conversation flags among them too.
const runFlagsHelp = `Flags:
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
  --report-json FILE      write the run as JSON (format: docs/test-mode.md)
  --report-html DIR       write the run as a static HTML page
`

// exitCodesHelp are smtprun's exit codes, the same for every command.
const exitCodesHelp = `Exit codes:
  0  every expectation held
  1  usage error (bad flags, unreadable script or --ca file)
  2  script error (syntax, validation, unset variable, CR/LF in a command)
  3  runtime error (connect, DNS, TLS, timeout, protocol violation, connection closed)
  4  an expectation failed
  5  smtprun fmt --check: a file is not in canonical form
  130 interrupted (Ctrl-C, or q at a --step prompt)
`

// runRun is `smtprun SCRIPT` and `smtprun run SCRIPT`.
func runRun(inv *invocation, args []string) int {
	o, code, ok := inv.parseRunFlags(args)
	if !ok {
		return code
	}
	if len(o.args) != 1 {
		if len(o.args) == 0 {
			return inv.usageError("no script given")
		}
		if err := unknownCommand(o.args[0]); err != nil {
			return inv.usageError(err.Error())
		}
		return inv.usageError(fmt.Sprintf("one script at a time, got %d (%s)", len(o.args), strings.Join(o.args, " ")))
	}
	if err := unknownCommand(o.args[0]); err != nil {
		return inv.usageError(err.Error())
	}
	if len(o.excludes) > 0 {
		return inv.usageError("--exclude is for smtprun test and check, which take directories")
	}
	return runScript(inv, o)
}

// parseRunFlags parses a run's command line (check takes it too): ok is
// false when the command ends here, after --help, --version or a usage
// error, with the exit code.
func (inv *invocation) parseRunFlags(args []string) (o *options, code int, ok bool) {
	o, err := parseFlags(args)
	if code, ok := inv.parsed(err); !ok {
		return nil, code, false
	}
	if o.version {
		printVersion(inv.stdout)
		return nil, exitOK, false
	}
	return o, exitOK, true
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
	if best := closestCommand(arg); best != "" {
		return fmt.Errorf("unknown command %q (did you mean %q?)", arg, best)
	}
	return nil
}

func closestCommand(name string) string { return suggest.Closest(name, commandNames()) }

// runScript runs the one script o names, with o's settings.
func runScript(inv *invocation, o *options) int {
	stdout, stderr := inv.stdout, inv.stderr
	st := present.NewStyle(stdout, o.noColor)
	est := present.NewStyle(stderr, o.noColor)
	in := inputs{inv.ctx, o.timeout}
	script, code := loadScript(inv, in, o.args[0], est)
	if script == nil {
		return code
	}
	if msg := testOnlyFlags(o); msg != "" {
		return inv.usageError(msg)
	}
	files, err := readVariablesFiles(in, o.variableFiles)
	if err != nil {
		return inv.inputError(err)
	}
	warned := map[string]bool{}
	warnExposedSecrets(stderr, est, o, files, script, warned)
	warnQuotedValues(stderr, est, o, files, script, warned)
	var vars dsl.Vars = scriptVars(o, files)
	tr := present.NewTranscript(stdout, st, o.quiet)
	tr.Main = script.File()
	if o.explain {
		tr.Teach = &present.Teacher{}
		tr.Width = terminalWidth(stdout)
	}
	var before []engine.Option
	if o.step {
		gate, err := newStepper(inv.stdin, stdout, st)
		if err != nil {
			return inv.usageError(err.Error())
		}
		before = append(before, engine.WithBeforeStep(gate.before))
	}
	// An unreadable --ca is the same usage error with or without
	// --sandbox: the flag was given, so something is wrong with the run.
	pool, err := loadCAs(in, o.caFiles)
	if err != nil {
		return inv.inputError(err)
	}
	var tokenRefusedHint string
	if o.oauth != "" {
		v, note, refused, code := oauthVars(inv, o, vars)
		tokenRefusedHint = refused
		if code != exitOK {
			return code
		}
		vars = v
		if note != "" {
			tr.Note(note)
		}
	}
	conv, err := o.newConversation(script, vars, pool)
	if err != nil {
		return inv.sandboxSetupError(est, script, err)
	}
	defer conv.close()
	for _, n := range conv.notes {
		tr.Note(n)
	}
	var obs engine.Observer = tr
	rec := newRunRecorder(o, script)
	if rec != nil {
		obs = observers{tr, rec}
	}
	vars = conv.vars
	started := time.Now()
	res, err := engine.New(append(conv.engineOptions(obs), before...)...).Run(inv.ctx, script)
	tr.Finish(res, err)
	if err != nil {
		// The report quotes the script; a secret written into it (which
		// it should not be) is masked there too.
		err = tokenUnsetHelp(script, vars, err)
		present.RenderFailure(stderr, est, []byte(res.Redact(string(errSource(script, err)))), err, tr.Host, includeNotes(script, err)...)
		if tokenRefusedHint != "" && tokenRefused(err) {
			fmt.Fprintln(stderr, tokenRefusedHint)
		}
	}
	if rec != nil {
		if werr := writeRunReports(o, script, rec, res, err, tr.Host, started, conv.notes); werr != nil {
			return max(exitCode(err), inv.failf(exitUsage, "cannot write a report: %v", werr))
		}
	}
	return exitCode(err)
}

// readScript reads, parses and checks a script, within in's bounds. src
// is nil when the file could not be read; a script error comes with the
// source to point into.
func readScript(in inputs, path string) (prog *dsl.Program, src []byte, err error) {
	src, err = in.script(path)
	if err != nil {
		return nil, nil, &unreadableError{err}
	}
	script, err := dsl.Parse(path, src)
	if err == nil {
		prog, err = dsl.Check(script, in.loader())
	}
	return prog, src, err
}

// unreadableError is a script that could not be read: a usage error of
// a run, a script error of that script in test mode.
type unreadableError struct{ err error }

func (e *unreadableError) Error() string { return "cannot read script: " + e.err.Error() }
func (e *unreadableError) Unwrap() error { return e.err }

// loadScript reads, parses and checks a script for a command that runs
// it, reporting any problem; the code is the exit code then: 130 for a
// read that Ctrl-C interrupted (a FIFO named as the script), 1 for a
// script that cannot be read, 2 for a script error.
func loadScript(inv *invocation, in inputs, path string, st present.Style) (*dsl.Program, int) {
	prog, src, err := readScript(in, path)
	var ue *unreadableError
	switch {
	case errors.As(err, &ue) && in.ctx.Err() != nil:
		return nil, inv.failf(exitInterrupted, "interrupted while reading %s", escName(path))
	case errors.As(err, &ue):
		return nil, inv.failf(exitUsage, "%s", escName(err.Error()))
	case err != nil:
		present.RenderError(inv.stderr, st, src, err)
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
