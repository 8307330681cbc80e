package main

import (
	"errors"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	rpt "github.com/smtprun/smtprun/report"
)

// failure describes a run error for the reports: where it points, its
// kind, the server's reply that failed an expectation, and the caret
// report text as the terminal shows it.
func failure(err error, caret string) *rpt.Failure {
	f := &rpt.Failure{Message: err.Error(), Report: caret, Kind: kindOf(exitCode(err))}
	if pos, ok := errorPos(err); ok {
		f.File, f.Line, f.Column = escName(pos.Filename), pos.Line, pos.Column
	}
	var ae *engine.AssertError
	var ce *engine.CaptureError
	switch {
	case errors.As(err, &ae) && ae.Got != nil:
		f.Reply = ae.Got.Lines
	case errors.As(err, &ce) && ce.Got != nil:
		f.Reply = ce.Got.Lines
	}
	return f
}

func kindOf(code int) string {
	switch code {
	case exitExpectation:
		return "expectation"
	case exitRuntime, exitInterrupted:
		return "runtime"
	}
	return "script"
}

// errorPos is where an error points in a script.
func errorPos(err error) (dsl.Pos, bool) {
	if ds := dsl.Diagnostics(err); len(ds) > 0 {
		return ds[0].Pos, true
	}
	return dsl.Pos{}, false
}

// errSource is the text of the file a run error points into: the script,
// or a script it includes.
func errSource(prog *dsl.Program, err error) []byte {
	if pos, ok := errorPos(err); ok {
		if src := prog.SourceOf(pos.Filename); src != nil {
			return src
		}
	}
	return prog.Source()
}

// includeNotes says through which includes a failing step came.
func includeNotes(prog *dsl.Program, err error) []string {
	if pos, ok := errorPos(err); ok && pos.Filename != prog.File() {
		return prog.IncludeNotes(pos)
	}
	return nil
}
