// Package report turns what runs of smtprun scripts did into the files CI
// systems and people read: JUnit XML, TAP version 13, a JSON document with
// a stable format, and static HTML pages.
//
// A Recorder observes one engine run and keeps every step with the lines
// it sent and received and their times; the command fills in the rest of
// a Script (its path, result, exit code, error report) and hands a Run to
// the writers. Everything a Recorder receives is already masked by the
// engine, and the command renders error reports from masked errors, so a
// report shows exactly what the terminal shows.
package report

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/smtp"
)

// FormatVersion is the version of the JSON format. It changes only when a
// field changes meaning or goes away; new fields may be added without it.
// Version 2: "failed" counts failed expectations only (JUnit's failures);
// script and runtime errors, which version 1 counted there too, are "errors".
const FormatVersion = 2

// Run is a whole test run: every script, in the order they were given.
type Run struct {
	Version  int       `json:"version"`
	Started  time.Time `json:"started"`
	Duration Millis    `json:"duration_ms"`
	Passed   int       `json:"passed"`
	Failed   int       `json:"failed"` // scripts whose expectation failed, as JUnit's failures
	Errors   int       `json:"errors"` // scripts that could not run to the end: a script or runtime error, as JUnit's errors
	Skipped  int       `json:"skipped"`
	Scripts  []*Script `json:"scripts"`
}

// Result is how one script ended.
type Result string

const (
	Pass    Result = "pass"    // every expectation held
	Fail    Result = "fail"    // an expectation failed (exit code 4)
	Error   Result = "error"   // a script error (2) or a runtime error (3)
	Skipped Result = "skipped" // not run: --fail-fast stopped the run first
)

// Script is one script's run.
type Script struct {
	Path     string `json:"path"`
	Result   Result `json:"result"`
	ExitCode int    `json:"exit_code"`
	Duration Millis `json:"duration_ms"`
	// Steps are the steps that started, in order.
	Steps []*Step `json:"steps"`
	// TotalSteps is how many steps the script has, each iteration of a
	// repeat block counted (the block itself is not a step): what it
	// unrolls to, or the steps it ran if a variable count ran more; 0 if
	// it did not check. HeldSteps is how many of them ran and held. The
	// terminal, the reports and smtprun check all count so.
	TotalSteps int `json:"total_steps"`
	HeldSteps  int `json:"held_steps"`
	// Captures are the values named regex groups captured, by name.
	Captures map[string]string `json:"captures,omitempty"`
	// Notes are smtprun's own lines, such as what the sandbox supplied.
	Notes []string `json:"notes,omitempty"`
	Error *Failure `json:"error,omitempty"`
	// Transcript is the terminal transcript, without colour, for JUnit's
	// system-out.
	Transcript string `json:"-"`
}

// Step is one step of a script and what crossed the wire during it.
type Step struct {
	Index    int       `json:"index"`
	File     string    `json:"file"`
	Line     int       `json:"line"`
	Column   int       `json:"column"`
	Kind     string    `json:"kind"`
	Source   string    `json:"source"`
	OK       bool      `json:"ok"`
	Start    time.Time `json:"start"`
	Duration Millis    `json:"duration_ms"`
	Lines    []*Line   `json:"lines"`
}

// Direction says which way a line went.
type Direction string

const (
	Sent     Direction = "sent"
	Received Direction = "received"
	Info     Direction = "info" // smtprun's own: connected, TLS, a note, a capture
)

// Line is one line on the wire, or one of smtprun's own remarks.
type Line struct {
	Dir  Direction `json:"dir"`
	Text string    `json:"text"`
	TLS  bool      `json:"tls"`
	// Role is what a sent line is ("command", "password", ...).
	Role string `json:"role,omitempty"`
	// Code is the reply code of a received line.
	Code int       `json:"code,omitempty"`
	At   time.Time `json:"at"`
	// Elapsed is, on a reply's last line, the time from its command to it.
	Elapsed Millis `json:"elapsed_ms,omitempty"`
	// Explain are the --explain annotations of the line.
	Explain []string `json:"explain,omitempty"`
}

// Failure is why a script did not pass.
type Failure struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	// Kind is "script", "runtime" or "expectation".
	Kind    string `json:"kind"`
	Message string `json:"message"` // one line: file:line:col: what failed
	// Want is the expectation as written (`235 "Authenticated"`), when
	// one failed.
	Want string `json:"want,omitempty"`
	// Reply is the server's reply that failed the expectation, if any.
	Reply []string `json:"reply,omitempty"`
	// Report is the caret report as the terminal prints it, without colour.
	Report string `json:"report"`
}

// Millis is a duration written in JSON as milliseconds, a number with
// microsecond precision.
type Millis time.Duration

// MarshalJSON implements json.Marshaler.
func (m Millis) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(m)/float64(time.Millisecond), 'f', 3, 64)), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (m *Millis) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*m = Millis(f * float64(time.Millisecond))
	return nil
}

// D is the duration.
func (m Millis) D() time.Duration { return time.Duration(m) }

// StepCounts are a run's TotalSteps and HeldSteps: expanded is what the
// program unrolls to (dsl.Program.ExpandedSteps), res.Steps the steps
// that ran and held, more than expanded when a variable count was.
func StepCounts(expanded int, res engine.Result) (total, held int) {
	return max(expanded, res.Steps), res.Steps
}

// StepsText is a script's step count as the terminal and the HTML write
// it: "14 steps" when it passed, "3/4 steps held" when not.
func (s *Script) StepsText() string {
	if s.Result == Pass {
		if s.TotalSteps == 1 {
			return "1 step"
		}
		return fmt.Sprintf("%d steps", s.TotalSteps)
	}
	return fmt.Sprintf("%d/%d steps held", s.HeldSteps, s.TotalSteps)
}

// Tally counts the scripts' results into Passed, Failed, Errors and
// Skipped, as JUnit counts them: a failed expectation is a failure, a
// script that could not run to the end an error.
func (r *Run) Tally() {
	r.Passed, r.Failed, r.Errors, r.Skipped = 0, 0, 0, 0
	for _, s := range r.Scripts {
		switch s.Result {
		case Pass:
			r.Passed++
		case Skipped:
			r.Skipped++
		case Fail:
			r.Failed++
		default:
			r.Errors++
		}
	}
}

// Summary is the run's counts as every report and the terminal write
// them: "1 passed, 2 failed, 2 errors, 1 skipped" (errors and skipped
// only when there are some).
func (r *Run) Summary() string {
	s := fmt.Sprintf("%d passed, %d failed", r.Passed, r.Failed)
	switch {
	case r.Errors == 1:
		s += ", 1 error"
	case r.Errors > 1:
		s += fmt.Sprintf(", %d errors", r.Errors)
	}
	if r.Skipped > 0 {
		s += fmt.Sprintf(", %d skipped", r.Skipped)
	}
	return s
}

// FailedStep is the step that failed, or nil.
func (s *Script) FailedStep() *Step {
	if s.Error == nil {
		return nil
	}
	for _, st := range s.Steps {
		if !st.OK {
			return st
		}
	}
	return nil
}

// Recorder is an engine.Observer that keeps a script's steps and lines.
// Explain, if set, returns the --explain annotations of an event.
type Recorder struct {
	File    string
	Explain func(engine.Event) []string

	steps    []*Step
	captures map[string]string
}

// Event implements engine.Observer.
func (r *Recorder) Event(ev engine.Event) {
	if st, ok := ev.(engine.StepStarted); ok {
		file := st.Pos.Filename
		if file == "" {
			file = r.File
		}
		file = smtp.Escape([]byte(file))
		r.steps = append(r.steps, &Step{Index: st.Step, File: file, Line: st.Pos.Line, Column: st.Pos.Column,
			Kind: st.Kind, Source: st.Source, Start: time.Now()})
		return
	}
	if len(r.steps) == 0 {
		return
	}
	step := r.steps[len(r.steps)-1]
	add := func(l *Line) {
		if r.Explain != nil {
			l.Explain = r.Explain(ev)
		}
		step.Lines = append(step.Lines, l)
	}
	switch ev := ev.(type) {
	case engine.Connected:
		add(&Line{Dir: Info, Text: fmt.Sprintf("connected to %s (%s)", ev.Address, ev.Remote), At: ev.At})
	case engine.Sent:
		add(&Line{Dir: Sent, Text: ev.Line, TLS: ev.TLS, Role: ev.Role.String(), At: ev.At})
	case engine.Received:
		for i, text := range ev.Reply.Lines {
			l := &Line{Dir: Received, Text: text, TLS: ev.TLS, Code: ev.Reply.Code, At: ev.Last}
			if i == len(ev.Reply.Lines)-1 {
				l.Elapsed = Millis(ev.Elapsed())
				if r.Explain != nil {
					l.Explain = r.Explain(ev)
				}
			}
			step.Lines = append(step.Lines, l)
		}
	case engine.DataSummary:
		text := fmt.Sprintf("message: %d lines, %d bytes on the wire", ev.Lines, ev.Bytes)
		if ev.Binary {
			text = fmt.Sprintf("message: %d bytes sent as they are (binary, BDAT)", ev.Bytes)
		}
		step.Lines = append(step.Lines, &Line{Dir: Info, Text: text, TLS: ev.TLS, At: time.Now()})
	case engine.TLSEstablished:
		kind := "STARTTLS"
		if ev.Implicit {
			kind = "implicit TLS"
		}
		v := "certificate verified for " + ev.ServerName
		if !ev.Verified {
			v = "certificate NOT verified (--insecure)"
		}
		add(&Line{Dir: Info, Text: fmt.Sprintf("%s: %s established (%s), %s", kind, ev.Version, ev.CipherSuite, v), TLS: true, At: time.Now()})
	case engine.Narration:
		step.Lines = append(step.Lines, &Line{Dir: Info, Text: "==> " + ev.Text, At: time.Now()})
	case engine.Captured:
		if r.captures == nil {
			r.captures = map[string]string{}
		}
		r.captures[ev.Name] = ev.Value
		step.Lines = append(step.Lines, &Line{Dir: Info, Text: fmt.Sprintf("captured %s = %s", ev.Name, ev.Value), At: time.Now()})
	case engine.Closed:
		who := "connection closed"
		if ev.ByServer {
			who = "connection closed by the server"
		}
		step.Lines = append(step.Lines, &Line{Dir: Info, Text: who, At: time.Now()})
	}
}

// Finish completes the steps with the engine's outcomes (whether each held
// and how long it took) and returns them with the captures. The steps of
// a repeat block carry the block's index, each iteration again, so the
// outcomes are matched in the order the steps ran, one to every step but
// the blocks; a block held when every step it ran held.
func (r *Recorder) Finish(res engine.Result) ([]*Step, map[string]string) {
	next := 0
	for _, st := range r.steps {
		if st.Kind == "repeat" || next >= len(res.Outcomes) {
			continue
		}
		o := res.Outcomes[next]
		next++
		st.OK, st.Start, st.Duration = o.OK, o.Start, Millis(o.Duration)
	}
	for i, st := range r.steps {
		if st.Kind != "repeat" {
			continue
		}
		st.OK = true
		var d Millis
		for _, in := range r.steps[i+1:] {
			if in.Index != st.Index {
				break
			}
			if in.Kind != "repeat" {
				st.OK = st.OK && in.OK
				d += in.Duration
			}
		}
		st.Duration = d
	}
	if r.steps == nil {
		r.steps = []*Step{}
	}
	return r.steps, r.captures
}
