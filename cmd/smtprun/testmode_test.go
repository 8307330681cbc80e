package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/internal/testenv"
	rpt "github.com/smtprun/smtprun/report"
	"github.com/smtprun/smtprun/sandbox"
)

// normalizeTimes replaces every duration and timestamp in test output and
// reports, so golden files hold what does not change between runs.
func normalizeTimes(s string) string {
	s = regexp.MustCompile(`\d+(\.\d+)?(µs|ms|s)\b`).ReplaceAllString(s, "T")
	s = regexp.MustCompile(`\d+m\d+(\.\d+)?s\b`).ReplaceAllString(s, "T")
	s = regexp.MustCompile(`time="[0-9.]+"`).ReplaceAllString(s, `time="T"`)
	s = regexp.MustCompile(`timestamp="[0-9T:-]+"`).ReplaceAllString(s, `timestamp="T"`)
	s = regexp.MustCompile(`duration_ms: [0-9.]+`).ReplaceAllString(s, "duration_ms: T")
	return s
}

// suiteReports runs testdata/suite with every report and returns the
// exit code, stdout and the directory the reports are in.
func suiteReports(t *testing.T, extra ...string) (int, string, string) {
	t.Helper()
	deterministicSandbox(t)
	dir := t.TempDir()
	args := append([]string{"test", "--sandbox", "--jobs", "1",
		"--report-junit", filepath.Join(dir, "junit.xml"),
		"--report-tap", filepath.Join(dir, "report.tap"),
		"--report-json", filepath.Join(dir, "report.json"),
		"--report-html", filepath.Join(dir, "html")}, extra...)
	code, out, errOut := cli(t, append(args, "testdata/suite")...)
	if errOut != "" {
		t.Errorf("stderr: %s", errOut)
	}
	return code, out, dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTestModeGolden: the list, the failure reports and the summary of a
// suite with every outcome, and the worst exit code (a script error, 2,
// beats a runtime error and a failed expectation).
func TestTestModeGolden(t *testing.T) {
	code, out, dir := suiteReports(t)
	if code != exitScript {
		t.Errorf("exit %d, want %d (the script error is the worst outcome)", code, exitScript)
	}
	golden(t, "test-suite", normalizeTimes(out))
	golden(t, "test-suite-junit", normalizeTimes(readFile(t, filepath.Join(dir, "junit.xml"))))
	golden(t, "test-suite-tap", normalizeTimes(readFile(t, filepath.Join(dir, "report.tap"))))
	golden(t, "test-suite-html-index", normalizeTimes(readFile(t, filepath.Join(dir, "html", "index.html"))))
	golden(t, "test-suite-html-fail", normalizeTimes(readFile(t, filepath.Join(dir, "html", "002-testdata--suite--b-fail.html"))))

	// The JSON decodes back into its Go type; with the times zeroed it is
	// the golden document.
	f, err := os.Open(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run, err := rpt.ReadJSON(f)
	if err != nil {
		t.Fatalf("decoding the JSON report: %v", err)
	}
	if run.Version != rpt.FormatVersion || len(run.Scripts) != 5 || run.Passed != 1 || run.Failed != 1 || run.Errors != 3 {
		t.Errorf("version %d, %d scripts, %d passed, %d failed, %d errors; want %d, 5, 1, 1, 3", run.Version, len(run.Scripts), run.Passed, run.Failed, run.Errors, rpt.FormatVersion)
	}
	pass := run.Scripts[0]
	if pass.Captures["qid"] == "" || pass.Result != rpt.Pass || len(pass.Steps) != pass.TotalSteps {
		t.Errorf("the passing script: %+v", pass)
	}
	for _, st := range pass.Steps {
		for _, l := range st.Lines {
			if l.At.IsZero() {
				t.Errorf("line %q of step %d has no time", l.Text, st.Index)
			}
		}
	}
	if e := run.Scripts[1].Error; e == nil || e.Line != 5 || e.Column != 8 || e.Kind != "expectation" || len(e.Reply) == 0 {
		t.Errorf("the failing script's error: %+v", e)
	}
	zeroTimes(run)
	var b bytes.Buffer
	if err := rpt.WriteJSON(&b, run); err != nil {
		t.Fatal(err)
	}
	golden(t, "test-suite-json", b.String())
}

func zeroTimes(run *rpt.Run) {
	run.Started, run.Duration = time.Time{}, 0
	for _, s := range run.Scripts {
		s.Duration = 0
		for _, st := range s.Steps {
			st.Start, st.Duration = time.Time{}, 0
			for _, l := range st.Lines {
				l.At, l.Elapsed = time.Time{}, 0
			}
		}
	}
}

// TestJUnitSchema checks the JUnit XML against what CI readers require
// (the Ant/Jenkins JUnit schema): testsuites > testsuite > testcase, the
// counts on each suite adding up, numeric times, a name and classname on
// each case, and a message on each failure and error.
func TestJUnitSchema(t *testing.T) {
	_, _, dir := suiteReports(t)
	data := readFile(t, filepath.Join(dir, "junit.xml"))
	type problem struct {
		Message *string `xml:"message,attr"`
		Type    string  `xml:"type,attr"`
		Text    string  `xml:",chardata"`
	}
	type tcase struct {
		Name      *string   `xml:"name,attr"`
		Classname *string   `xml:"classname,attr"`
		Time      string    `xml:"time,attr"`
		Failure   *problem  `xml:"failure"`
		Error     *problem  `xml:"error"`
		Skipped   *struct{} `xml:"skipped"`
		SystemOut *string   `xml:"system-out"`
	}
	type suite struct {
		Name     string  `xml:"name,attr"`
		Tests    string  `xml:"tests,attr"`
		Failures string  `xml:"failures,attr"`
		Errors   string  `xml:"errors,attr"`
		Time     string  `xml:"time,attr"`
		Cases    []tcase `xml:"testcase"`
	}
	var doc struct {
		XMLName xml.Name `xml:"testsuites"`
		Suites  []suite  `xml:"testsuite"`
	}
	dec := xml.NewDecoder(strings.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("not well-formed JUnit XML: %v\n%s", err, data)
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("%d testsuite elements, want 1", len(doc.Suites))
	}
	s := doc.Suites[0]
	num := func(what, v string) int {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Errorf("%s=%q is not a number", what, v)
		}
		return n
	}
	if _, err := strconv.ParseFloat(s.Time, 64); err != nil {
		t.Errorf("testsuite time=%q is not a number", s.Time)
	}
	tests, failures, errs := num("tests", s.Tests), num("failures", s.Failures), num("errors", s.Errors)
	var nf, ne int
	for _, c := range s.Cases {
		if c.Name == nil || *c.Name == "" || c.Classname == nil || *c.Classname != "testdata.suite" {
			t.Errorf("testcase without name or with classname %v", c.Classname)
		}
		if _, err := strconv.ParseFloat(c.Time, 64); err != nil {
			t.Errorf("testcase time=%q is not a number", c.Time)
		}
		for _, p := range []*problem{c.Failure, c.Error} {
			if p != nil && (p.Message == nil || *p.Message == "" || !strings.Contains(p.Text, "-->")) {
				t.Errorf("testcase %s: a failure needs a message and the caret report: %+v", *c.Name, p)
			}
		}
		if c.Failure != nil {
			nf++
		}
		if c.Error != nil {
			ne++
		}
	}
	if tests != len(s.Cases) || failures != nf || errs != ne || nf != 1 || ne != 3 {
		t.Errorf("tests=%d failures=%d errors=%d for %d cases, %d failures, %d errors; want 5, 1, 3", tests, failures, errs, len(s.Cases), nf, ne)
	}
}

// lookProve returns the path of prove, Perl's TAP harness.
func lookProve(t *testing.T) string {
	t.Helper()
	prove, err := exec.LookPath("prove")
	if err != nil {
		testenv.Missing(t, "prove (Debian's perl) is not installed")
	}
	return prove
}

// TestTAPParsedByProve hands the TAP report to prove (Perl's TAP
// harness), as CI systems that speak TAP would read it.
func TestTAPParsedByProve(t *testing.T) {
	prove := lookProve(t)
	_, _, dir := suiteReports(t)
	tap := filepath.Join(dir, "report.tap")
	out, err := exec.Command(prove, "--verbose", "--exec", "cat", tap).CombinedOutput()
	if err == nil {
		t.Fatalf("prove passed a run with failures:\n%s", out)
	}
	for _, want := range []string{"Failed 4/5 subtests", "not ok 2 - testdata/suite/b-fail.smtp", "ok 1 - testdata/suite/a-pass.smtp"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("prove's output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "Parse errors") {
		t.Errorf("prove could not parse the TAP:\n%s", out)
	}

	// A passing run is a passing TAP stream.
	pass := filepath.Join(t.TempDir(), "pass.tap")
	if code, out, errOut := cli(t, "test", "--sandbox", "--report-tap", pass, "testdata/suite/a-pass.smtp"); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if out, err := exec.Command(prove, "--exec", "cat", pass).CombinedOutput(); err != nil || !strings.Contains(string(out), "All tests successful") {
		t.Errorf("prove on a passing run: %v\n%s", err, out)
	}
}

// TestScriptsInSandbox runs every shipped script offline, as CI does:
// smtprun test --sandbox scripts/, with the scenario each header names.
func TestScriptsInSandbox(t *testing.T) {
	// The slow scenario is run for its replies, not its 2 s delays.
	sandboxTestHook = func(o *sandbox.Options) { o.SlowDelay = 10 * time.Millisecond }
	t.Cleanup(func() { sandboxTestHook = nil })
	unsetCredentials(t)
	jsonPath := filepath.Join(t.TempDir(), "r.json")
	code, out, errOut := cli(t, "test", "--sandbox", "--report-json", jsonPath, "../../scripts/")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	run := readRunReport(t, jsonPath)
	// Counted against a glob of the two levels scripts/ has, so a script
	// the walk missed shows up here.
	top, _ := filepath.Glob("../../scripts/*.smtp")
	nested, _ := filepath.Glob("../../scripts/*/*.smtp")
	// The fragments marked include-only run through their includers.
	want, fragments := 0, 0
	for _, p := range append(top, nested...) {
		if isFragment(p) {
			fragments++
		} else {
			want++
		}
	}
	if want == 0 || fragments == 0 || len(run.Scripts) != want || run.Passed != want {
		t.Errorf("%d scripts ran, %d passed, want all %d of scripts/*.smtp and scripts/*/*.smtp but the %d fragments", len(run.Scripts), run.Passed, want, fragments)
	}
}

// TestTestModeRunsInParallel: scripts that each wait on the slow
// scenario finish, with --jobs equal to their number, in about the time
// of one. The bound is generous (half the serial time); serial would be
// four times one script.
func TestTestModeRunsInParallel(t *testing.T) {
	const n, delay = 4, 300 * time.Millisecond
	sandboxTestHook = func(o *sandbox.Options) { o.SlowDelay = delay }
	t.Cleanup(func() { sandboxTestHook = nil })
	dir := t.TempDir()
	src := readFile(t, "../../scripts/errors/slow.smtp")
	for i := range n {
		writeFile(t, dir, "slow"+strconv.Itoa(i)+".smtp", src)
	}
	start := time.Now()
	if code, out, errOut := cli(t, "test", "--sandbox", "--jobs", "1", filepath.Join(dir, "slow0.smtp")); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	one := time.Since(start)
	start = time.Now()
	if code, out, errOut := cli(t, "test", "--sandbox", "--jobs", strconv.Itoa(n), dir); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	all := time.Since(start)
	if one < delay {
		t.Fatalf("one slow script took %s, less than the %s delay: the scenario did not apply", one, delay)
	}
	if limit := time.Duration(n) * one / 2; all > limit {
		t.Errorf("%d slow scripts with --jobs %d took %s; one takes %s, so in parallel they should take well under %s", n, n, all, one, limit)
	}
}

// TestTestModeFailFast: after the first failure no new script starts;
// the others are counted as skipped.
func TestTestModeFailFast(t *testing.T) {
	deterministicSandbox(t)
	tap := filepath.Join(t.TempDir(), "r.tap")
	code, out, _ := cli(t, "test", "--sandbox", "--jobs", "1", "--fail-fast", "--report-tap", tap,
		"testdata/suite/b-fail.smtp", "testdata/suite/a-pass.smtp", "testdata/suite/d-runtime.smtp")
	if code != exitExpectation {
		t.Errorf("exit %d, want %d", code, exitExpectation)
	}
	if !strings.Contains(out, "0 passed, 1 failed, 2 skipped") || strings.Contains(out, "PASS") {
		t.Errorf("output:\n%s", out)
	}
	if got := readFile(t, tap); !strings.Contains(got, "ok 2 - testdata/suite/a-pass.smtp # SKIP") {
		t.Errorf("TAP:\n%s", got)
	}
}

// TestTestModeQuiet prints the failures and the summary only.
func TestTestModeQuiet(t *testing.T) {
	deterministicSandbox(t)
	code, out, _ := cli(t, "test", "--sandbox", "-q", "testdata/suite/a-pass.smtp", "testdata/suite/b-fail.smtp")
	if code != exitExpectation {
		t.Errorf("exit %d, want %d", code, exitExpectation)
	}
	if strings.Contains(out, "PASS") || !strings.Contains(out, "FAIL  testdata/suite/b-fail.smtp") ||
		!strings.Contains(out, "error: expectation failed") || !strings.Contains(out, "1 passed, 1 failed") {
		t.Errorf("output:\n%s", out)
	}
}

// TestTestModeExitCodes: the worst outcome decides: 4 for failed
// expectations alone, 3 once a runtime error is among them.
func TestTestModeExitCodes(t *testing.T) {
	deterministicSandbox(t)
	for _, tc := range []struct {
		scripts []string
		want    int
	}{
		{[]string{"a-pass"}, exitOK},
		{[]string{"a-pass", "b-fail"}, exitExpectation},
		{[]string{"b-fail", "d-runtime"}, exitRuntime},
		{[]string{"d-runtime", "c-script-error", "b-fail"}, exitScript},
	} {
		args := []string{"test", "--sandbox", "-q"}
		for _, s := range tc.scripts {
			args = append(args, "testdata/suite/"+s+".smtp")
		}
		if code, out, _ := cli(t, args...); code != tc.want {
			t.Errorf("%v: exit %d, want %d\n%s", tc.scripts, code, tc.want, out)
		}
	}
}

func TestTestModeUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"test"}, "no script or directory given"},
		{[]string{"test", "nowhere/"}, "nowhere/: no such file or directory"},
		{[]string{"test", "testdata/nothing-*.smtp"}, "matches no file"},
		{[]string{"test", "--jobs", "-1", "testdata/suite"}, "--jobs must be at least 1"},
		{[]string{"--report-junit", "x.xml", "testdata/suite/a-pass.smtp"}, "--report-junit is for smtprun test"},
	} {
		code, _, errOut := cli(t, tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestRunReports: `smtprun run` writes the same JSON and HTML for one
// script, with its secrets masked as on the terminal.
func TestRunReports(t *testing.T) {
	deterministicSandbox(t)
	dir := t.TempDir()
	script := writeFile(t, dir, "login.smtp", `connect "smtp.gmail.com:587"
expect 220
send "EHLO x"
expect 250
starttls
send "EHLO x"
expect 250
auth plain "ada@example.org" "${SMTP_PASS}"
expect 235
quit
`)
	const secret = "s3cr3t-Pa55"
	jsonPath, htmlDir := filepath.Join(dir, "r.json"), filepath.Join(dir, "html")
	code, out, errOut := cli(t, "run", "--sandbox", "--var", "SMTP_PASS="+secret, "--report-json", jsonPath, "--report-html", htmlDir, script)
	if code != exitExpectation { // the sandbox takes its practice password only
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	files := []string{jsonPath, filepath.Join(htmlDir, "index.html")}
	pages, _ := filepath.Glob(filepath.Join(htmlDir, "001-*.html"))
	files = append(files, pages...)
	if len(pages) != 1 {
		t.Fatalf("pages %v", pages)
	}
	// And test mode's four reports, with --explain, which decodes what it
	// may (a user name) and never a password.
	tdir := t.TempDir()
	code, out, errOut = cli(t, "test", "--sandbox", "--explain", "--var", "SMTP_PASS="+secret,
		"--report-junit", filepath.Join(tdir, "j.xml"), "--report-tap", filepath.Join(tdir, "r.tap"),
		"--report-json", filepath.Join(tdir, "r.json"), "--report-html", filepath.Join(tdir, "html"), script)
	if code != exitExpectation {
		t.Fatalf("test: exit %d\n%s%s", code, out, errOut)
	}
	tpages, _ := filepath.Glob(filepath.Join(tdir, "html", "*.html"))
	files = append(append(files, filepath.Join(tdir, "j.xml"), filepath.Join(tdir, "r.tap"), filepath.Join(tdir, "r.json")), tpages...)
	for _, f := range files {
		got := readFile(t, f)
		for name, leak := range leakForms("ada@example.org", secret) {
			if strings.Contains(got, leak) {
				t.Errorf("%s contains the secret in %s form (%q)", f, name, leak)
			}
		}
		if !strings.Contains(got, "535") {
			t.Errorf("%s does not show the failing reply", f)
		}
	}
}

// TestIncludeRuntimeError: a step of an included script that fails at
// run time is reported in that script, with the chain of includes, in the
// terminal and in the reports.
func TestIncludeRuntimeError(t *testing.T) {
	deterministicSandbox(t)
	code, out, errOut := cli(t, "--sandbox", "--var", "SMTP_PASS=wrong", "testdata/include/main.smtp")
	if code != exitExpectation {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	golden(t, "include-runtime-error", errOut)
	if !strings.Contains(out, "     | in testdata/include/common/login.smtp:\n   2 | connect") {
		t.Errorf("the transcript does not say which file the steps come from:\n%s", out)
	}
	jsonPath := filepath.Join(t.TempDir(), "r.json")
	cli(t, "test", "--sandbox", "--var", "SMTP_PASS=wrong", "--report-json", jsonPath, "testdata/include/main.smtp")
	run := readRunReport(t, jsonPath)
	e := run.Scripts[0].Error
	if e == nil || e.File != "testdata/include/common/login.smtp" || e.Line != 10 || !strings.Contains(e.Report, "included from testdata/include/main.smtp:1") {
		t.Errorf("error in the JSON report: %+v", e)
	}
	if st := run.Scripts[0].Steps[0]; st.File != "testdata/include/common/login.smtp" || st.Line != 2 {
		t.Errorf("the first step is recorded at %s:%d", st.File, st.Line)
	}
}

// TestReportsSaySandbox: a single run's JSON and HTML reports say the
// sandbox answered, as test mode's do, so a report is never mistaken for
// a real provider's submission.
func TestReportsSaySandbox(t *testing.T) {
	for _, mode := range []string{"run", "test"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			jsonPath, htmlDir := filepath.Join(dir, "r.json"), filepath.Join(dir, "html")
			if code, out, errOut := cli(t, mode, "--sandbox", "--report-json", jsonPath, "--report-html", htmlDir, "testdata/suite/a-pass.smtp"); code != 0 {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			var run rpt.Run
			if err := json.Unmarshal([]byte(readFile(t, jsonPath)), &run); err != nil {
				t.Fatal(err)
			}
			if len(run.Scripts) != 1 || len(run.Scripts[0].Notes) == 0 || !strings.HasPrefix(run.Scripts[0].Notes[0], "sandbox: ") {
				t.Errorf("the JSON report does not say the sandbox answered: %+v", run.Scripts[0].Notes)
			}
			pages, _ := filepath.Glob(filepath.Join(htmlDir, "001-*.html"))
			if len(pages) != 1 || !strings.Contains(readFile(t, pages[0]), "sandbox: every connect is served by smtprun&#39;s built-in emulation") {
				t.Errorf("the HTML page does not say the sandbox answered")
			}
		})
	}
}

// TestSourceAsWritten: the transcript and the JSON report's source show
// a script line as written in the file, a backslash as one.
func TestSourceAsWritten(t *testing.T) {
	dir := t.TempDir()
	script := writeFile(t, dir, "bs.smtp", `connect "mail.example.edu:25"
expect 220
raw "EHLO x\r\n"
expect 250
quit
`)
	jsonPath := filepath.Join(dir, "r.json")
	code, out, errOut := cli(t, "--sandbox", "--report-json", jsonPath, script)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	const want = `raw "EHLO x\r\n"`
	if !strings.Contains(out, "3 | "+want+"\n") {
		t.Errorf("the transcript does not show line 3 as written:\n%s", out)
	}
	var run rpt.Run
	if err := json.Unmarshal([]byte(readFile(t, jsonPath)), &run); err != nil {
		t.Fatal(err)
	}
	if got := run.Scripts[0].Steps[2].Source; got != want {
		t.Errorf("JSON source %q, want %q", got, want)
	}
}
