package main

import (
	"errors"
	"regexp"
	"strings"
	"sync"

	"github.com/smtprun/smtprun/cmd/smtprun/internal/present"
	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/sandbox/fault"
)

// faultHeader matches a "# fault: PLAN" line at the top of a script;
// unlike other header keys it may be given more than once. Compiled on
// first use: most runs never read it.
var faultHeader = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)^#\s*fault\s*:\s*`) })

// faultFlagError is a --fault that does not parse: a usage error, shown
// with a caret under the mistake.
type faultFlagError struct{ diag *dsl.Error }

func (e *faultFlagError) Error() string { return e.diag.Error() }

// parseFaults reads --fault plans and the script's "# fault:" lines.
// A bad --fault is a *faultFlagError, a bad header line a *dsl.Error at
// its place in the script.
func parseFaults(flags []string, script *dsl.Program) ([]fault.Plan, error) {
	var plans []fault.Plan
	for _, s := range flags {
		p, err := fault.Parse(s)
		if err != nil {
			return nil, &faultFlagError{faultDiag(err, dsl.Pos{Filename: "--fault", Line: 1}, []byte(s), 0)}
		}
		plans = append(plans, p)
	}
	if script == nil {
		return plans, nil
	}
	for i, line := range strings.Split(string(script.Source()), "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed != "" && !strings.HasPrefix(trimmed, "#") {
			break // the header ends at the first step
		}
		m := faultHeader().FindStringIndex(trimmed)
		if m == nil {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		p, err := fault.Parse(trimmed[m[1]:])
		if err != nil {
			return nil, faultDiag(err, dsl.Pos{Filename: script.File(), Line: i + 1}, nil, indent+m[1])
		}
		plans = append(plans, p)
	}
	return plans, nil
}

// faultDiag places a plan's syntax error at its column in src (nil: the
// script's own source), shifted by offset.
func faultDiag(err error, pos dsl.Pos, src []byte, offset int) *dsl.Error {
	var se *fault.SyntaxError
	if !errors.As(err, &se) {
		return &dsl.Error{Pos: pos, Title: "invalid fault plan", Label: err.Error(), Source: src}
	}
	pos.Column = offset + se.Col
	return &dsl.Error{Pos: pos, Span: se.Span, Title: "invalid fault plan", Label: se.Msg, Source: src,
		Notes: []string{"a plan is TARGET=REPLY[,close], as in rcpt#3=550 5.1.1 No such user (docs/faults.md)"}}
}

// sandboxSetupError reports why the sandbox could not be set up: a bad
// --fault with its caret (exit 1), a bad "# fault:" line as a script
// error (exit 2), anything else as a usage error.
func (inv *invocation) sandboxSetupError(st present.Style, script *dsl.Program, err error) int {
	var fe *faultFlagError
	var de *dsl.Error
	switch {
	case errors.As(err, &fe):
		present.RenderError(inv.stderr, st, nil, fe.diag)
		return exitUsage
	case errors.As(err, &de):
		present.RenderError(inv.stderr, st, script.Source(), de)
		return exitScript
	}
	return inv.usageError(err.Error())
}
