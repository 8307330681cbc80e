package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/smtprun/smtprun/cmd/smtprun/internal/present"
	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/provider"
	"github.com/smtprun/smtprun/internal/safefile"
	"github.com/smtprun/smtprun/load"
	"github.com/smtprun/smtprun/sandbox"
)

const loadUsage = `Usage:
  smtprun load [flags] SCRIPT
  smtprun load merge [--report-json FILE] [-q] REPORT.json...

Each iteration is one whole run of the script; a failed iteration is
counted and the load goes on. ${ITERATION} is the iteration's number (from
1, across shards) and ${REPEAT} the iteration of the innermost repeat block.

Flags:
  -c, --connections N     conversations at once (default 10)
  -n, --iterations N      whole runs of the script, at least 1 (default 100 without --duration)
  --duration D            stop starting iterations after D (e.g. 30s, 5m)
  --rate R                start R iterations per second (open model: latency
                          counts from when an iteration was due)
  --max-errors N          stop early after N failed iterations
  --procs N               CPU threads for the conversations (default: chosen from
                          the work: half the CPUs when the server is on this
                          machine, every CPU otherwise; the summary says)
  --shard I/N             run part I (from 0) of N equal parts of the iterations
  --report-json FILE      also write the report, with HDR histograms, as JSON
  --sandbox               serve every connect in-process by an emulated provider
  --scenario NAME         with --sandbox: the failure scenario (smtprun scenarios)
  --fault PLAN            with --sandbox: fail a chosen command (repeatable; docs/faults.md)
  --no-limits             with --sandbox: no sending limits (office365 takes 3 connections per
                          account at once and 30 messages a minute; gmail 500 recipients a day)
  --connect-to H:P:H2:P2  connect to H2:P2 where the script says H:P (curl's form; repeatable)
  --var NAME=VALUE        set a script variable (repeatable)
  --variables-file FILE   NAME=VALUE lines (repeatable), as for a run
  --oauth PROVIDER        set SMTP_TOKEN from smtprun token's cache, unless it is set
  --ca FILE               also trust the CA certificates in FILE (PEM)
  --insecure              skip TLS certificate verification
  --allow-plaintext-auth  allow auth over an unencrypted connection to a non-loopback host
  --timeout DURATION      deadline for connecting, each reply and each handshake (default 30s)
  -q, --quiet             print nothing but the summary
  --no-color              plain output

Progress goes to stderr: a live display on a terminal, otherwise a line
every few seconds. Ctrl-C stops starting iterations, says QUIT on the open
connections and prints the partial summary (exit 130).

Load mode refuses the submission hosts of public providers (Gmail, Office
365, Yahoo, AOL, ...) unless --sandbox: hammering them gets accounts locked.

Example:
  smtprun load --sandbox -c 4 -n 20 scripts/gmail.smtp

Exit codes: 0 every iteration passed; 1 usage error; 2 script error;
4 some iterations failed; 130 interrupted.
`

type loadOptions struct {
	*options
	connections int
	iterations  int
	duration    time.Duration
	rate        float64
	maxErrors   int
	procs       int
	shard       string
	reportJSON  string
}

func parseLoadFlags(args []string) (*loadOptions, error) {
	o := &loadOptions{options: newOptions()}
	fs := newFlagSet("smtprun load")
	fs.IntVar(&o.connections, "connections", 10, "")
	fs.IntVar(&o.connections, "c", 10, "")
	fs.IntVar(&o.iterations, "iterations", 0, "")
	fs.IntVar(&o.iterations, "n", 0, "")
	fs.Var(durationFlag{&o.duration}, "duration", "")
	fs.Float64Var(&o.rate, "rate", 0, "")
	fs.IntVar(&o.maxErrors, "max-errors", 0, "")
	fs.IntVar(&o.procs, "procs", 0, "")
	fs.StringVar(&o.shard, "shard", "", "")
	fs.StringVar(&o.reportJSON, "report-json", "", "")
	o.conversationFlags(fs)
	var err error
	if o.args, err = parseInterspersed(fs, args); err != nil {
		return nil, err
	}
	if err := o.checkConversation(); err != nil {
		return nil, err
	}
	// 0 iterations is refused as 0 connections are, rather than taken as
	// "the default": -n 0 meaning 100 surprises.
	iterationsSet := false
	fs.Visit(func(f *flag.Flag) { iterationsSet = iterationsSet || f.Name == "n" || f.Name == "iterations" })
	switch {
	case o.connections < 1:
		return nil, fmt.Errorf("--connections must be at least 1, got %d", o.connections)
	case o.iterations < 0 || iterationsSet && o.iterations == 0:
		return nil, fmt.Errorf("--iterations must be at least 1, got %d", o.iterations)
	case o.rate < 0:
		return nil, fmt.Errorf("--rate must not be negative, got %g", o.rate)
	case o.maxErrors < 0:
		return nil, fmt.Errorf("--max-errors must not be negative, got %d", o.maxErrors)
	case o.procs < 0:
		return nil, fmt.Errorf("--procs must not be negative, got %d", o.procs)
	}
	if o.iterations == 0 && o.duration <= 0 {
		o.iterations = 100
	}
	return o, nil
}

// parseShard reads --shard I/N.
func parseShard(s string) (int, int, error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("--shard %s: want I/N with I from 0 to N-1, as in --shard 0/4 (a Kubernetes Indexed Job's completion index works as I)", s)
	}
	return i, n, nil
}

func runLoad(inv *invocation, args []string) int {
	stdout, stderr := inv.stdout, inv.stderr
	if len(args) > 0 && args[0] == "merge" {
		return runLoadMerge(inv, args[1:])
	}
	o, err := parseLoadFlags(args)
	if code, ok := inv.parsed(err); !ok {
		return code
	}
	if len(o.args) != 1 {
		return inv.usageError(fmt.Sprintf("want one script, got %d", len(o.args)))
	}
	defer loadGC()()
	shard, shards, err := parseShard(o.shard)
	if err != nil {
		return inv.usageError(err.Error())
	}
	in := inputs{inv.ctx, o.timeout}
	files, err := readVariablesFiles(in, o.variableFiles)
	if err != nil {
		return inv.inputError(err)
	}
	est := present.NewStyle(stderr, o.noColor)
	prog, code := loadScript(inv, in, o.args[0], est)
	if prog == nil {
		return code
	}
	warned := map[string]bool{}
	warnExposedSecrets(stderr, est, o.options, files, prog, warned)
	warnQuotedValues(stderr, est, o.options, files, prog, warned)
	var vars dsl.Vars = scriptVars(o.options, files)
	pool, err := loadCAs(in, o.caFiles)
	if err != nil {
		return inv.inputError(err)
	}
	if o.oauth != "" {
		v, note, _, code := oauthVars(inv, o.options, vars)
		if code != exitOK {
			return code
		}
		vars = v
		if note != "" && !o.quiet {
			fmt.Fprintln(stderr, est.Note.Sprint(note))
		}
	}
	if !o.sandbox {
		if msg := refusedHost(prog, vars, o.connectTo); msg != "" {
			fmt.Fprint(stderr, msg)
			return exitUsage
		}
	}
	conv, err := o.newConversation(prog, vars, pool)
	if err != nil {
		return inv.sandboxSetupError(est, prog, err)
	}
	defer conv.close()
	threads := load.Threads{N: o.procs, CPUs: runtime.NumCPU(), Why: "--procs"}
	if o.procs == 0 {
		route := func(host, port string) string { return engine.Route(o.connectTo, host, port) }
		threads = load.ChooseThreads(prog, conv.vars, route, o.sandbox, o.connections)
	}
	defer withProcs(threads.N)()
	r, err := load.New(load.Config{Program: prog, Engine: conv.engineOptions(nil), Connections: o.connections, Iterations: o.iterations,
		Duration: o.duration, Rate: o.rate, MaxErrors: o.maxErrors, Shard: shard, Shards: shards})
	if err != nil {
		return inv.usageError(err.Error())
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	if !o.quiet {
		go func() { showProgress(stderr, r, done); close(finished) }()
	} else {
		close(finished)
	}
	rep, err := r.Run(inv.ctx)
	close(done)
	<-finished
	if err != nil {
		return inv.failf(exitRuntime, "%v", err)
	}
	rep.Threads = threads.String()
	rep.WriteSummary(stdout)
	if o.reportJSON != "" {
		if err := writeLoadReport(o.reportJSON, rep); err != nil {
			return inv.failf(exitRuntime, "%v", err)
		}
	}
	switch {
	case rep.Interrupted:
		return exitInterrupted
	case rep.Failed > 0:
		return exitExpectation
	}
	return exitOK
}

func writeLoadReport(path string, rep *load.Report) error {
	return safefile.Replace(path, 0o600, rep.WriteJSON)
}

// refusedHost explains why load mode will not connect where the script
// does, or returns "": a public provider's submission host. A
// --connect-to rule that sends the connect elsewhere is where it goes.
func refusedHost(prog *dsl.Program, vars dsl.Vars, rules []engine.ConnectTo) string {
	var msg string
	dsl.Walk(prog.Script(), func(n dsl.Node) bool {
		c, ok := n.(*dsl.Connect)
		if !ok || msg != "" {
			return true
		}
		addr, err := c.Address.Expand(vars)
		if err != nil {
			return true
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return true
		}
		if host, _, err = net.SplitHostPort(engine.Route(rules, host, port)); err != nil {
			return true
		}
		name := ""
		if p, _ := provider.ForHost(host); p != nil {
			name = p.Title
		} else {
			name = publicProfile(host)
		}
		if name == "" {
			return true
		}
		msg = fmt.Sprintf("smtprun load: refusing to load %s (%s, line %d)\n"+
			"  Hammering a public provider's submission host gets the account locked and the address blocked;\n"+
			"  its terms forbid it, and it measures their servers, not yours.\n"+
			"help: practise with --sandbox, which serves %s in-process with the same conversation,\n"+
			"      or point the script at a server you run (a local Postfix, smtp-sink).\n",
			host, name, c.Pos().Line, host)
		return true
	})
	return msg
}

// publicProfile names the sandbox's emulation of a public provider that
// host belongs to, or "" (the generic profile answers every other host).
func publicProfile(host string) string {
	prof := sandbox.ProfileForHost(host)
	for _, p := range sandbox.Profiles() {
		if p.Name == prof && !p.Generic {
			return prof
		}
	}
	return ""
}

func runLoadMerge(inv *invocation, args []string) int {
	fs := newFlagSet("smtprun load merge")
	var out string
	var quiet bool
	fs.StringVar(&out, "report-json", "", "")
	fs.BoolVar(&quiet, "q", false, "")
	fs.BoolVar(&quiet, "quiet", false, "")
	files, err := parseInterspersed(fs, args)
	if code, ok := inv.parsed(err); !ok {
		return code
	}
	if len(files) == 0 {
		return inv.usageError("merge: no report given")
	}
	in := inputs{inv.ctx, newOptions().timeout}
	var reps []*load.Report
	for _, f := range files {
		b, err := in.read(f, "a load report", maxLoadReportBytes)
		if in.ctx.Err() != nil {
			return exitInterrupted
		}
		var r *load.Report
		if err == nil {
			r, err = load.Decode(f, b)
		}
		if err != nil {
			return inv.failf(exitUsage, "merge: %v", err)
		}
		reps = append(reps, r)
	}
	rep, err := load.Merge(reps...)
	if err != nil {
		return inv.failf(exitUsage, "merge: %v", err)
	}
	rep.WriteSummary(inv.stdout)
	if out != "" {
		if err := writeLoadReport(out, rep); err != nil {
			return inv.failf(exitRuntime, "merge: %v", err)
		}
	}
	if rep.Failed > 0 {
		return exitExpectation
	}
	return exitOK
}

// withProcs runs the conversations on n CPU threads (0: every CPU) until
// the returned function restores the setting. Go's scheduler spreads them
// over every CPU; with the server on the same machine that takes CPU from
// it, and the hand-offs between threads cost more than they win for
// conversations that mostly wait (smtp-source runs on one).
func withProcs(n int) (restore func()) {
	if n <= 0 {
		return func() {}
	}
	old := runtime.GOMAXPROCS(n)
	return func() { runtime.GOMAXPROCS(old) }
}

// loadGC collects garbage at half the usual heap growth during a load,
// unless GOGC says otherwise. Many conversations at once make short-lived
// garbage fast, and Go's default lets the heap double between collections:
// 200 TLS conversations against the sandbox held 58-63 MB resident with
// it and 46-48 MB with this, for no measurable loss of throughput.
func loadGC() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(50)
	return func() { debug.SetGCPercent(old) }
}
