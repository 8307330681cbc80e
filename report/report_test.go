package report

import (
	"slices"

	"bytes"
	"encoding/xml"
	"github.com/smtprun/smtprun/engine"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func sampleRun() *Run {
	at := time.Date(2026, 3, 27, 18, 17, 53, 0, time.UTC)
	r := &Run{Version: FormatVersion, Started: at, Duration: Millis(1500 * time.Microsecond), Scripts: []*Script{
		{Path: "a/ok.smtp", Result: Pass, TotalSteps: 1, Steps: []*Step{{Kind: "connect", OK: true, Line: 1, Column: 1, Start: at}}},
		{Path: "a/b/fail #1.smtp", Result: Fail, ExitCode: 4, TotalSteps: 2,
			Steps: []*Step{{Kind: "expect", Line: 2, Column: 8, Start: at, Lines: []*Line{
				{Dir: Received, Text: `550 5.1.1 "quoted": ]]> <tag> & more`, Code: 550, At: at, Elapsed: Millis(time.Millisecond)}}}},
			Error: &Failure{File: "a/b/fail #1.smtp", Line: 2, Column: 8, Kind: "expectation",
				Message: `a/b/fail #1.smtp:2:8: expectation failed: want 250, server replied 550 5.1.1 "quoted": ]]>`,
				Reply:   []string{`550 5.1.1 "quoted": ]]> <tag> & more`},
				Report:  "error: expectation failed\n --> a/b/fail #1.smtp:2:8\n  |\n2 | expect 250\n  |        ^^^ server replied 550: ]]>\n"},
			Transcript: "   2 | expect 250\n     |      S: 550 ]]> & <x>\n"},
		{Path: "c.smtp", Result: Skipped},
	}}
	r.Tally()
	return r
}

// TestJSONRoundTrip: what WriteJSON writes, ReadJSON reads back unchanged,
// durations included.
func TestJSONRoundTrip(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	WriteJSON(&again, got)
	var first bytes.Buffer
	WriteJSON(&first, sampleRun())
	if again.String() != first.String() {
		t.Errorf("round trip changed the document:\n%s\n---\n%s", first.String(), again.String())
	}
	if got.Scripts[1].Steps[0].Lines[0].Elapsed.D() != time.Millisecond || got.Duration.D() != 1500*time.Microsecond {
		t.Errorf("durations: %v %v", got.Scripts[1].Steps[0].Lines[0].Elapsed.D(), got.Duration.D())
	}
	if !strings.Contains(first.String(), `"duration_ms": 1.500`) {
		t.Errorf("durations are not milliseconds:\n%s", first.String())
	}
}

// TestJUnitEscaping: a reply with "]]>", quotes and markup stays
// well-formed XML and comes back intact.
func TestJUnitEscaping(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Cases []struct {
				Classname string `xml:"classname,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				SystemOut string `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	c := doc.Suites[0].Cases[1]
	if c.Classname != "a.b" || c.Failure == nil || !strings.Contains(c.Failure.Text, "server replied 550: ]]>") ||
		!strings.Contains(c.Failure.Message, `"quoted": ]]>`) || !strings.Contains(c.SystemOut, "550 ]]> & <x>") {
		t.Errorf("decoded %+v\n%s", c, b.String())
	}
	if doc.Suites[0].Cases[0].Classname != "a" {
		t.Errorf("classname %q", doc.Suites[0].Cases[0].Classname)
	}
}

// TestTAPDiagnosticsAreYAML: the block under a failed test point is YAML
// that a YAML parser reads back, whatever the reply contains; a "#" in a
// path does not start a directive.
func TestTAPDiagnosticsAreYAML(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTAP(&b, sampleRun()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, `not ok 2 - a/b/fail \#1.smtp`+"\n") || !strings.Contains(out, "ok 3 - c.smtp # SKIP") {
		t.Fatalf("test points:\n%s", out)
	}
	start := strings.Index(out, "  ---\n")
	end := strings.Index(out, "  ...\n")
	var diag struct {
		Message string
		At      struct {
			File string
			Line int
		}
		Got    []string
		Report string
	}
	block := strings.ReplaceAll(out[start+len("  ---\n"):end], "\n  ", "\n")
	if err := yaml.Unmarshal([]byte(strings.TrimPrefix(block, "  ")), &diag); err != nil {
		t.Fatalf("%v\n%s", err, block)
	}
	if diag.At.Line != 2 || diag.At.File != "a/b/fail #1.smtp" || diag.Got[0] != `550 5.1.1 "quoted": ]]> <tag> & more` || !strings.Contains(diag.Report, "^^^") {
		t.Errorf("diagnostics %+v", diag)
	}
}

func TestHTMLPages(t *testing.T) {
	dir := t.TempDir()
	if err := WriteHTML(dir, sampleRun()); err != nil {
		t.Fatal(err)
	}
	index, _ := os.ReadFile(filepath.Join(dir, "index.html"))
	page, err := os.ReadFile(filepath.Join(dir, "002-a--b--fail_1.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(index), `href="002-a--b--fail_1.html"`) || strings.Count(string(index), `<tr class="row-`) != 3 {
		t.Errorf("index:\n%s", index)
	}
	if !strings.Contains(string(page), `id="failed-step"`) || !strings.Contains(string(page), "&lt;tag&gt; &amp; more") {
		t.Errorf("page:\n%s", page)
	}
}

// TestTally counts as JUnit does: a failed expectation is a failure, a
// script or runtime error an error, and the summary says both.
func TestTally(t *testing.T) {
	r := sampleRun()
	if r.Passed != 1 || r.Failed != 1 || r.Skipped != 1 {
		t.Errorf("tally %d/%d/%d", r.Passed, r.Failed, r.Skipped)
	}
	run := &Run{Scripts: []*Script{{Result: Pass}, {Result: Fail}, {Result: Fail}, {Result: Error}, {Result: Error}}}
	run.Tally()
	if run.Passed != 1 || run.Failed != 2 || run.Errors != 2 || run.Skipped != 0 {
		t.Errorf("passed %d failed %d errors %d skipped %d; want 1 2 2 0", run.Passed, run.Failed, run.Errors, run.Skipped)
	}
	if got := run.Summary(); got != "1 passed, 2 failed, 2 errors" {
		t.Errorf("summary %q", got)
	}
	var junit bytes.Buffer
	if err := WriteJUnit(&junit, run); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(junit.String(), `failures="2" errors="2"`) {
		t.Errorf("JUnit disagrees with the summary:\n%s", junit.String())
	}
	one := &Run{Scripts: []*Script{{Result: Error}, {Result: Skipped}}}
	one.Tally()
	if got := one.Summary(); got != "0 passed, 0 failed, 1 error, 1 skipped" {
		t.Errorf("summary %q", got)
	}
}

// TestRecorderRepeat: the steps of a repeat block, which carry the
// block's index each iteration, get their own outcomes, not the last
// one's; the block held when every step it ran held.
func TestRecorderRepeat(t *testing.T) {
	rec := &Recorder{File: "r.smtp"}
	// connect (0), repeat 2 { send, expect } (1): the second expect fails.
	for _, s := range []engine.StepStarted{
		{Step: 0, Kind: "connect"}, {Step: 1, Kind: "repeat"},
		{Step: 1, Kind: "send"}, {Step: 1, Kind: "expect"}, {Step: 1, Kind: "send"}, {Step: 1, Kind: "expect"},
	} {
		rec.Event(s)
	}
	outcomes := []engine.StepOutcome{{Index: 0, OK: true}, {Index: 1, OK: true}, {Index: 1, OK: true}, {Index: 1, OK: true}, {Index: 1, OK: false}}
	steps, _ := rec.Finish(engine.Result{Steps: 4, Outcomes: outcomes})
	var got []bool
	for _, st := range steps {
		got = append(got, st.OK)
	}
	want := []bool{true, false, true, true, true, false}
	if !slices.Equal(got, want) {
		t.Errorf("steps held %v, want %v", got, want)
	}
	total, held := StepCounts(5, engine.Result{Steps: 4})
	sc := &Script{Result: Fail, TotalSteps: total, HeldSteps: held}
	if sc.StepsText() != "4/5 steps held" {
		t.Errorf("%q", sc.StepsText())
	}
}
