package main

import (
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/internal/testenv"
	"github.com/smtprun/smtprun/sandbox"
)

// needPython skips (or fails, in CI) without python3: the fixtures are
// student programs written in Python with raw sockets.
func needPython(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		testenv.Missing(t, "python3 not installed: the grade fixtures are Python programs")
	}
	return py
}

// TestGradeFixtures grades the three student programs of testdata/grade
// on the test rubric: the exact score, the exit code, the feedback.
func TestGradeFixtures(t *testing.T) {
	py := needPython(t)
	for _, tc := range []struct {
		program string
		args    []string
		exit    int
		score   string
		says    []string
	}{
		{"good.py", nil, exitOK, "total: 14/14 points", nil},
		{"mistakes.py", nil, exitExpectation, "total: 11/14 points", []string{
			"[ ] every line ended with CRLF", "Message line 1 ended with a bare LF", "RFC 5321 2.3.8; a correct client: convert every line ending",
			"[ ] message lines starting with a dot doubled", "starts with a single dot", "[ ] QUIT at the end"}},
		{"mistakes.py", []string{"--pass", "11"}, exitOK, "total: 11/14 points (pass at 11)", nil},
		{"mistakes.py", []string{"--pass", "12"}, exitExpectation, "total: 11/14 points (pass at 12)", nil},
	} {
		t.Run(tc.program+strings.Join(tc.args, ""), func(t *testing.T) {
			var out, errOut strings.Builder
			args := append(append([]string{"grade", "--no-color"}, tc.args...), "testdata/grade/rubric.yaml", "--", py, "testdata/grade/"+tc.program)
			code := run(args, nil, &out, &errOut)
			if code != tc.exit || !strings.Contains(out.String(), tc.score) {
				t.Errorf("exit %d, want %d; want %q in:\n%s%s", code, tc.exit, tc.score, out.String(), errOut.String())
			}
			for _, s := range tc.says {
				if !strings.Contains(out.String(), s) {
					t.Errorf("the feedback does not say %q:\n%s", s, out.String())
				}
			}
		})
	}
}

// TestGradeHangingProgram: a program that hangs is stopped at its time
// limit, with the child it started, and scores what it did.
func TestGradeHangingProgram(t *testing.T) {
	py := needPython(t)
	dir := t.TempDir()
	rubric := strings.Replace(readFile(t, "testdata/grade/rubric.yaml"), "timeout: 15s", "timeout: 2s", 1)
	path := writeFile(t, dir, "rubric.yaml", rubric)
	pidFile := filepath.Join(dir, "child.pid")
	t.Setenv("HANG_PIDFILE", pidFile)
	var out, errOut strings.Builder
	start := time.Now()
	code := run([]string{"grade", "--no-color", path, "--", py, "testdata/grade/hangs.py"}, nil, &out, &errOut)
	took := time.Since(start)
	if code != exitExpectation || !strings.Contains(out.String(), "total: 1/14 points") ||
		!strings.Contains(out.String(), "stopped after 2s (time limit)") ||
		!strings.Contains(out.String(), "waiting for its next command, after EHLO client.example.org") {
		t.Errorf("exit %d:\n%s%s", code, out.String(), errOut.String())
	}
	// The limit, the SIGTERM grace if it were needed, and the server's
	// goodbye: never the program's five minutes.
	if took > 2*time.Second+gradeKillGrace+4*time.Second {
		t.Errorf("grading a hanging program took %s", took)
	}
	pid := strings.TrimSpace(readFile(t, pidFile))
	if stat, err := os.ReadFile("/proc/" + pid + "/stat"); err == nil {
		// A zombie waiting for init is dead; anything else is not.
		if f := strings.Fields(string(stat)); len(f) > 2 && f[2] != "Z" {
			t.Errorf("the program's child %s is still running: %s", pid, stat)
		}
	}
}

// TestGradeRefusedGreeting: a task whose greeting is refused (554), as in
// the shipped rubric: the correct client reads the code and stops, full
// marks; one that sends EHLO without looking gets none, told why.
func TestGradeRefusedGreeting(t *testing.T) {
	py := needPython(t)
	rubric := writeFile(t, t.TempDir(), "rubric.yaml", `tasks:
  - name: refused-at-greeting
    profile: gmail
    faults: ["connect=554 5.7.1 No SMTP service here"]
    checks:
      - {check: handles_failure, points: 2}
`)
	for _, tc := range []struct {
		client, total, says string
	}{
		{"good.py", "total: 2/2 points", "[x] stopped cleanly"},
		{"ignores-greeting.py", "total: 0/2 points", "The client sent EHLO after the server refused the session in its greeting"},
	} {
		var out, errOut strings.Builder
		code := run([]string{"grade", "--no-color", rubric, "--", py, "testdata/grade/" + tc.client}, nil, &out, &errOut)
		if code == exitUsage || !strings.Contains(out.String(), tc.total) || !strings.Contains(out.String(), tc.says) {
			t.Errorf("%s: exit %d:\n%s%s", tc.client, code, out.String(), errOut.String())
		}
	}
}

// TestGradeNeverConnects: a program that hard-codes a real server (here:
// does nothing) is told to read where to connect.
func TestGradeNeverConnects(t *testing.T) {
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1)")
	}
	var out, errOut strings.Builder
	code := run([]string{"grade", "--no-color", "testdata/grade/rubric.yaml", "--", truePath}, nil, &out, &errOut)
	if code != exitExpectation || !strings.Contains(out.String(), "total: 0/14 points") ||
		!strings.Contains(out.String(), "it must read the server from SMTP_HOST and SMTP_PORT") {
		t.Errorf("exit %d:\n%s%s", code, out.String(), errOut.String())
	}
}

// TestGradeReports: the JUnit file parses, one test case per check, the
// failed checks as failures; the JSON report has the score and the
// coach's diagnoses.
func TestGradeReports(t *testing.T) {
	py := needPython(t)
	dir := t.TempDir()
	junit, js := filepath.Join(dir, "grade.xml"), filepath.Join(dir, "grade.json")
	var out, errOut strings.Builder
	run([]string{"grade", "--no-color", "--junit", junit, "--json", js, "testdata/grade/rubric.yaml", "--", py, "testdata/grade/mistakes.py"}, nil, &out, &errOut)
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",cdata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(readFile(t, junit)), &doc); err != nil {
		t.Fatalf("JUnit: %v", err)
	}
	if doc.Tests != 8 || doc.Failures != 3 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 8 {
		t.Fatalf("JUnit: %+v", doc)
	}
	if c := doc.Suites[0].Cases[4]; c.Name != "crlf" || c.Failure == nil || !strings.Contains(c.Failure.Text, "bare LF") {
		t.Errorf("JUnit case %+v", c)
	}
	var rep gradeReport
	if err := json.Unmarshal([]byte(readFile(t, js)), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Earned != 11 || rep.Points != 14 || rep.Passed || len(rep.Tasks) != 1 || len(rep.Tasks[0].Diagnoses) == 0 {
		t.Errorf("JSON report: %+v", rep)
	}
}

// TestGradeShippedRubric: the assignment's rubric loads, and the correct
// client gets full marks on it, the wrong-password, refused-greeting and
// greylisted tasks included.
func TestGradeShippedRubric(t *testing.T) {
	py := needPython(t)
	var out, errOut strings.Builder
	code := run([]string{"grade", "--no-color", "../../scripts/grade/socket-assignment.yaml", "--", py, "testdata/grade/good.py"}, nil, &out, &errOut)
	if code != exitOK || !strings.Contains(out.String(), "total: 48/48 points") {
		t.Errorf("exit %d:\n%s%s", code, out.String(), errOut.String())
	}
}

func TestGradeRubricErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ rubric, says string }{
		{"tasks: []\n", "no tasks"},
		{"tasks:\n  - name: a\n    profile: nowhere\n    checks: [{check: quit, points: 1}]\n", `unknown profile "nowhere"`},
		{"tasks:\n  - name: a\n    profile: gmail\n    checks: [{check: quitt, points: 1}]\n", `unknown check "quitt"; known checks: auth_login,`},
		{"tasks:\n  - name: a\n    profile: gmail\n    checks: [{check: quit, points: 0}]\n", "needs points > 0"},
		{"tasks:\n  - name: a\n    profile: gmail\n    scenario: nope\n    checks: [{check: quit, points: 1}]\n", "nope"},
		{"tasks:\n  - name: a\n    profile: gmail\n    colour: red\n", "field colour not found"},
		{"tasks:\n  - name: a\n    profile: gmail\n    faults: [\"data=250 fine\"]\n    checks: [{check: quit, points: 1}]\n", `fault "data=250 fine"`},
	} {
		path := writeFile(t, dir, "r.yaml", tc.rubric)
		var out, errOut strings.Builder
		code := run([]string{"grade", path, "--", "true"}, nil, &out, &errOut)
		if code != exitUsage || !strings.Contains(errOut.String(), tc.says) {
			t.Errorf("%q: exit %d, stderr %s", tc.rubric, code, errOut.String())
		}
	}
}

// TestGradeMasksPassword: a program that prints the password it was given
// (plain or base64) does not put it in the grader's output or reports.
func TestGradeMasksPassword(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	js := filepath.Join(dir, "grade.json")
	var out, errOut strings.Builder
	run([]string{"grade", "--no-color", "--json", js, "testdata/grade/rubric.yaml", "--", sh, "-c",
		`echo "password $SMTP_PASS"; printf %s "$SMTP_PASS" | base64 >&2; exit 1`}, nil, &out, &errOut)
	_, pass := sandbox.PracticeCredentials("office365")
	encoded := base64.StdEncoding.EncodeToString([]byte(pass))
	for _, text := range []string{out.String(), readFile(t, js)} {
		if strings.Contains(text, pass) || strings.Contains(text, encoded) || !strings.Contains(text, "********") {
			t.Errorf("the password is not masked:\n%s", text)
		}
	}
}
