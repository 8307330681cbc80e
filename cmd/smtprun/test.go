package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/smtprun/smtprun/cmd/smtprun/internal/present"
	"github.com/smtprun/smtprun/dsl"
	rpt "github.com/smtprun/smtprun/report"
)

const testUsage = `Usage:
  smtprun test [flags] PATH...

PATH is a script, a directory (every *.smtp under it, at any depth, in
name order) or a glob ("scripts/*/*.smtp"). Every script is checked first;
a script error fails that script and the others still run. A directory or
a glob leaves out the fragments other scripts include, those whose first
comment lines hold "# include-only" (named alone, one runs).

Flags (and every flag of a single run: --var, --variables-file, --ca,
--insecure, --timeout, --sandbox, --scenario, --fault, --connect-to, --explain,
--no-color):
  --jobs N               scripts run at once (default: the number of CPUs)
  --fail-fast            start no new script after the first failure
  --exclude GLOB         leave out the scripts and directories GLOB matches: the
                         name alone, or the path if GLOB has a / (repeatable)
  -q, --quiet            print the failures and the summary only
  --report-junit FILE    JUnit XML for CI test reporters
  --report-tap FILE      TAP version 13
  --report-json FILE     JSON, one object per script (format: docs/test-mode.md)
  --report-html DIR      index.html and one page per script

Under --sandbox each script gets its own emulated servers, and a script's
"# scenario:" header applies to that script only.

Exit codes: 0 when every script passed; otherwise the worst outcome:
  2  a script error (syntax, validation, unset variable)
  3  a runtime error (connect, TLS, timeout, protocol)
  4  an expectation failed
  1  usage error; 130 interrupted

Example:
  smtprun test --sandbox --report-junit junit.xml scripts
`

// runTest is `smtprun test`.
func runTest(inv *invocation, args []string) int {
	stdout, stderr := inv.stdout, inv.stderr
	o, err := parseFlags(args)
	if code, ok := inv.parsed(err); !ok {
		return code
	}
	if o.step {
		return inv.usageError("--step needs one script at a time; use smtprun --step SCRIPT")
	}
	if len(o.args) == 0 {
		return inv.usageError("no script or directory given")
	}
	paths, err := findScripts(o.args, false, selection{exclude: o.excludes, skipFragments: true})
	if err != nil {
		return inv.usageError(err.Error())
	}
	ctx := inv.ctx
	in := inputs{ctx, o.timeout}
	files, err := readVariablesFiles(in, o.variableFiles)
	if err != nil {
		return inv.inputError(err)
	}
	pool, err := loadCAs(in, o.caFiles)
	if err != nil {
		return inv.inputError(err)
	}
	jobs := o.jobs
	if jobs == 0 {
		jobs = runtime.NumCPU()
	}
	st := present.NewStyle(stdout, o.noColor)
	est := present.NewStyle(stderr, o.noColor)

	// Every script is read and checked before anything runs, so that a
	// broken script is reported at once and the warnings come in order.
	warned := map[string]bool{}
	jobsList := make([]*testJob, len(paths))
	for i, p := range paths {
		j := &testJob{path: p, res: &rpt.Script{Path: escName(p), Steps: []*rpt.Step{}}}
		prog, src, err := readScript(in, p)
		if err != nil {
			j.res.Result, j.res.ExitCode = rpt.Error, exitScript
			j.runErr, j.errSrc = err, src
			var b bytes.Buffer
			present.RenderError(&b, present.Plain(), src, err)
			j.res.Error = failure(err, b.String())
			j.res.Error.Kind = "script"
			j.done = true
		} else {
			j.prog = prog
			j.res.TotalSteps = prog.ExpandedSteps()
			warnExposedSecrets(stderr, est, o, files, prog, warned)
			warnQuotedValues(stderr, est, o, files, prog, warned)
		}
		jobsList[i] = j
	}

	run := &rpt.Run{Version: rpt.FormatVersion, Started: time.Now()}
	start := time.Now()

	// Scripts that failed their check are reported first, in order, before
	// any runs: reported as they were reached, their place among the
	// running scripts' lines would depend on the scheduler.
	var failures []*testJob
	for _, j := range jobsList {
		if j.done {
			if !o.quiet {
				fmt.Fprintln(stdout, present.StatusLine(st, j.res))
			}
			failures = append(failures, j)
		}
	}

	finished := make(chan *testJob)
	var wg sync.WaitGroup
	go func() {
		sem := make(chan struct{}, jobs)
		var failed sync.Once
		stopScheduling := make(chan struct{})
		for _, j := range jobsList {
			if j.done {
				if o.failFast {
					failed.Do(func() { close(stopScheduling) })
				}
				continue
			}
			acquired := false
			select {
			case sem <- struct{}{}:
				acquired = true
			case <-ctx.Done():
			}
			select {
			case <-stopScheduling:
			case <-ctx.Done():
			default:
				wg.Add(1)
				go func(j *testJob) {
					defer wg.Done()
					defer func() { <-sem }()
					runTestScript(ctx, o, files, pool, j)
					if j.res.Result != rpt.Pass && o.failFast {
						failed.Do(func() { close(stopScheduling) })
					}
					finished <- j
				}(j)
				continue
			}
			// Not scheduled: fail-fast or an interrupt.
			if acquired {
				<-sem
			}
			j.res.Result = rpt.Skipped
			j.done = true
			wg.Add(1)
			go func(j *testJob) { defer wg.Done(); finished <- j }(j)
		}
		wg.Wait()
		close(finished)
	}()

	for j := range finished {
		if j.res.Result != rpt.Skipped && !o.quiet {
			fmt.Fprintln(stdout, present.StatusLine(st, j.res))
		}
		if j.res.Result == rpt.Fail || j.res.Result == rpt.Error {
			failures = append(failures, j)
		}
	}
	run.Duration = rpt.Millis(time.Since(start))
	for _, j := range jobsList {
		run.Scripts = append(run.Scripts, j.res)
	}
	run.Tally()

	// The failure reports, in the order the scripts were given.
	sort.Slice(failures, func(a, b int) bool { return indexOf(jobsList, failures[a]) < indexOf(jobsList, failures[b]) })
	for _, j := range failures {
		if o.quiet {
			fmt.Fprintln(stdout, present.StatusLine(st, j.res))
		}
		fmt.Fprintf(stdout, "\n%s\n", st.Step.Sprint("--- "+escName(j.path)))
		fmt.Fprint(stdout, j.coloured(st))
	}
	if len(failures) > 0 || !o.quiet {
		fmt.Fprintln(stdout)
	}
	fmt.Fprintln(stdout, present.SummaryLine(st, run))
	if code := writeReports(o, run); code != exitOK {
		return inv.failf(code, "%s", reportErrMsg)
	}
	if ctx.Err() != nil {
		return exitInterrupted
	}
	return worstExit(run)
}

// testJob is one script of a test run.
type testJob struct {
	path   string
	prog   *dsl.Program
	res    *rpt.Script
	done   bool
	errSrc []byte // the masked source, for a coloured report
	runErr error
	host   string
	notes  []string // where an included step came from
}

// coloured is the failure's caret report for the terminal.
func (j *testJob) coloured(st present.Style) string {
	if j.runErr == nil || j.errSrc == nil {
		if j.res.Error != nil {
			return j.res.Error.Report
		}
		return ""
	}
	var b bytes.Buffer
	present.RenderFailure(&b, st, j.errSrc, j.runErr, j.host, j.notes...)
	return b.String()
}

func indexOf(l []*testJob, j *testJob) int {
	for i, x := range l {
		if x == j {
			return i
		}
	}
	return -1
}

// runTestScript runs one checked script with its own engine (and, under
// --sandbox, its own emulated servers) and fills in j.res.
func runTestScript(ctx context.Context, o *options, files []*variablesFile, pool *x509.CertPool, j *testJob) {
	var tbuf bytes.Buffer
	start := time.Now()
	ex := execute(ctx, o, files, pool, j.prog, &tbuf)
	j.res.Duration = rpt.Millis(time.Since(start))
	j.res.Steps, j.res.Captures = ex.rec.Finish(ex.res)
	j.res.TotalSteps, j.res.HeldSteps = rpt.StepCounts(j.prog.ExpandedSteps(), ex.res)
	j.res.Notes = ex.notes
	j.res.Transcript = tbuf.String()
	j.res.ExitCode = exitCode(ex.err)
	j.res.Result = resultOf(j.res.ExitCode)
	if ex.err != nil {
		j.runErr, j.host = ex.err, ex.host
		j.errSrc = errSource(j.prog, ex.err)
		j.notes = includeNotes(j.prog, ex.err)
		if ex.res.Redact != nil {
			// The report quotes the script; a secret written into it is
			// masked there too, as on the terminal.
			j.errSrc = []byte(ex.res.Redact(string(j.errSrc)))
		}
		var b bytes.Buffer
		present.RenderFailure(&b, present.Plain(), j.errSrc, ex.err, ex.host, j.notes...)
		j.res.Error = failure(ex.err, b.String())
	}
}

func resultOf(code int) rpt.Result {
	switch code {
	case exitOK:
		return rpt.Pass
	case exitExpectation:
		return rpt.Fail
	}
	return rpt.Error
}

var reportErrMsg string

// writeReports writes every report asked for.
func writeReports(o *options, run *rpt.Run) int {
	write := func(path string, f func(io.Writer, *rpt.Run) error) error {
		if path == "" {
			return nil
		}
		return writeReport(path, run, f)
	}
	for _, err := range []error{
		write(o.reportJUnit, rpt.WriteJUnit),
		write(o.reportTAP, rpt.WriteTAP),
		write(o.reportJSON, rpt.WriteJSON),
		htmlReport(o.reportHTML, run),
	} {
		if err != nil {
			reportErrMsg = "cannot write a report: " + err.Error()
			return exitUsage
		}
	}
	return exitOK
}

func htmlReport(dir string, run *rpt.Run) error {
	if dir == "" {
		return nil
	}
	return rpt.WriteHTML(dir, run)
}

// severity ranks exit codes: a script error is worse than a runtime
// error, which is worse than a failed expectation.
func severity(code int) int {
	switch code {
	case exitOK:
		return 0
	case exitExpectation:
		return 1
	case exitRuntime:
		return 2
	case exitScript:
		return 3
	}
	return 4
}

func worstExit(run *rpt.Run) int {
	worst := exitOK
	for _, s := range run.Scripts {
		if s.Result != rpt.Skipped && severity(s.ExitCode) > severity(worst) {
			worst = s.ExitCode
		}
	}
	return worst
}

// findScripts expands PATH arguments: a file as it is, a directory to
// every *.smtp under it in name order, a glob to its matches. A script
// named twice is listed once. With missingOK a path that does not exist
// is listed as it is, for the command to report when it reads it. sel
// leaves scripts out.
func findScripts(args []string, missingOK bool, sel selection) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	var found func(p string)
	add := func(p string) {
		if sel.excluded(p) {
			return
		}
		if c := filepath.Clean(p); !seen[c] {
			seen[c] = true
			out = append(out, p)
		}
	}
	var expand func(arg string, fromGlob bool) error
	expand = func(arg string, fromGlob bool) error {
		info, err := os.Stat(arg)
		switch {
		case err == nil && info.IsDir():
			n := 0
			root := arg
			if li, err := os.Lstat(arg); err == nil && li.Mode()&fs.ModeSymlink != 0 {
				// WalkDir does not follow a link, even the root.
				root += string(filepath.Separator)
			}
			err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() && p != root && sel.excluded(p) {
					return filepath.SkipDir
				}
				if !d.IsDir() && strings.HasSuffix(p, ".smtp") {
					found(p)
					n++
				}
				return nil
			})
			if err != nil {
				return err
			}
			if n == 0 && !fromGlob {
				return fmt.Errorf("%s: no *.smtp script in the directory", arg)
			}
			return nil
		case err == nil:
			add(arg)
			return nil
		case !fromGlob && strings.ContainsAny(arg, "*?["):
			matches, gerr := filepath.Glob(arg)
			if gerr != nil {
				return fmt.Errorf("%s: %v", arg, gerr)
			}
			if len(matches) == 0 {
				return fmt.Errorf("%s: the pattern matches no file", arg)
			}
			for _, m := range matches {
				if info, err := os.Stat(m); err == nil && !info.IsDir() {
					found(m)
					continue
				}
				if err := expand(m, true); err != nil {
					return err
				}
			}
			return nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			if missingOK {
				add(arg)
				return nil
			}
			return fmt.Errorf("%s: no such file or directory", arg)
		}
		return err
	}
	// A script a directory or a glob yields, rather than one named, is
	// left out when it is a fragment.
	found = func(p string) {
		if !sel.skipFragments || !isFragment(p) {
			add(p)
		}
	}
	for _, a := range args {
		if err := expand(a, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// selection is which scripts test and check take from their PATHs.
type selection struct {
	exclude       []string // --exclude globs
	skipFragments bool     // leave out the fragments a directory or glob holds
}

// excluded reports whether an --exclude glob matches p: a glob with a
// slash matches the path as found, one without the file or directory
// name alone (as .gitignore and pytest's --ignore-glob read them).
func (s selection) excluded(p string) bool {
	slashed := filepath.ToSlash(filepath.Clean(p))
	for _, g := range s.exclude {
		target := filepath.Base(p)
		if strings.Contains(g, "/") {
			target = slashed
		}
		if ok, _ := filepath.Match(g, target); ok {
			return true
		}
	}
	return false
}

// fragmentMarker, a comment line among those a script starts with, says
// the script is only included by others: test and check take it from a
// directory or a glob no longer (as pytest does not collect conftest.py);
// named on the command line, it runs.
const fragmentMarker = "# include-only"

// isFragment reports whether the script at p starts with the marker
// among its first comment lines. It reads at most 8 KiB.
func isFragment(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false // the command reports it when it reads the script
	}
	defer f.Close()
	head := make([]byte, 8<<10)
	n, _ := io.ReadFull(f, head)
	for _, line := range strings.Split(string(head[:n]), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			continue
		case !strings.HasPrefix(line, "#"):
			return false
		}
		if rest, ok := strings.CutPrefix(strings.ToLower(line), fragmentMarker); ok && (rest == "" || rest[0] == ' ' || rest[0] == ':') {
			return true
		}
	}
	return false
}
