package main

import (
	"bytes"
	"io"
	"time"

	"github.com/smtprun/smtprun/cmd/smtprun/internal/present"
	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/safefile"
	rpt "github.com/smtprun/smtprun/report"
)

// testOnlyFlags names a flag given to a single run that only test mode
// takes, or returns "".
func testOnlyFlags(o *options) string {
	switch {
	case o.jobs != 0:
		return "--jobs is for smtprun test"
	case o.failFast:
		return "--fail-fast is for smtprun test"
	case o.reportJUnit != "":
		return "--report-junit is for smtprun test (a single run takes --report-json and --report-html)"
	case o.reportTAP != "":
		return "--report-tap is for smtprun test (a single run takes --report-json and --report-html)"
	}
	return ""
}

// newRunRecorder returns a recorder when a single run writes a report.
func newRunRecorder(o *options, prog *dsl.Program) *rpt.Recorder {
	if o.reportJSON == "" && o.reportHTML == "" {
		return nil
	}
	rec := &rpt.Recorder{File: prog.File()}
	if o.explain {
		rec.Explain = present.Explainer()
	}
	return rec
}

// writeRunReports writes a single run's --report-json and --report-html:
// the same documents as smtprun test's, with one script, and the same
// notes (that the sandbox, not a provider, answered).
func writeRunReports(o *options, prog *dsl.Program, rec *rpt.Recorder, res engine.Result, err error, host string, started time.Time, notes []string) error {
	sc := &rpt.Script{Path: escName(prog.File()), TotalSteps: prog.Len(), Duration: rpt.Millis(time.Since(started)), Notes: notes}
	sc.Steps, sc.Captures = rec.Finish(res)
	sc.ExitCode = exitCode(err)
	sc.Result = resultOf(sc.ExitCode)
	if err != nil {
		var b bytes.Buffer
		present.RenderFailure(&b, present.Plain(), []byte(res.Redact(string(errSource(prog, err)))), err, host, includeNotes(prog, err)...)
		sc.Error = failure(err, b.String())
	}
	run := &rpt.Run{Version: rpt.FormatVersion, Started: started, Duration: sc.Duration, Scripts: []*rpt.Script{sc}}
	run.Tally()
	if o.reportJSON != "" {
		if err := writeReport(o.reportJSON, run, rpt.WriteJSON); err != nil {
			return err
		}
	}
	if o.reportHTML != "" {
		return rpt.WriteHTML(o.reportHTML, run)
	}
	return nil
}

// writeReport writes a report file whole, 0600 (it holds the
// conversation), never through a link or into a directory another user
// controls.
func writeReport(path string, run *rpt.Run, write func(io.Writer, *rpt.Run) error) error {
	return safefile.Replace(path, 0o600, func(w io.Writer) error { return write(w, run) })
}
