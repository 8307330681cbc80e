package main

import (
	rpt "github.com/smtprun/smtprun/report"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeScripts(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const greetAndQuit = "connect \"smtp.gmail.com:587\"\nexpect 220\nsend \"QUIT\"\nexpect 221\n"

// TestTestModeSelection: a directory leaves out the fragments marked
// include-only (which still run through their includers, and alone when
// named), and --exclude leaves out what its glob matches.
func TestTestModeSelection(t *testing.T) {
	dir := writeScripts(t, map[string]string{
		"main.smtp":         "include \"common/start.smtp\"\nsend \"QUIT\"\nexpect 221\n",
		"common/start.smtp": "# The greeting every script here starts with.\n# include-only\nconnect \"smtp.gmail.com:587\"\nexpect 220\n",
		"wip/draft.smtp":    greetAndQuit,
		"old-one.smtp":      greetAndQuit,
	})
	t.Chdir(dir)
	for _, tc := range []struct {
		args      []string
		ran, left []string
	}{
		{[]string{"."}, []string{"main.smtp", "wip/draft.smtp", "old-one.smtp"}, []string{"common/start.smtp"}},
		{[]string{".", "--exclude", "wip", "--exclude", "old-*"}, []string{"main.smtp"}, []string{"wip/draft.smtp", "old-one.smtp", "common/start.smtp"}},
		{[]string{".", "--exclude", "wip/*.smtp"}, []string{"main.smtp", "old-one.smtp"}, []string{"wip/draft.smtp"}},
		{[]string{"*/*.smtp"}, []string{"wip/draft.smtp"}, []string{"common/start.smtp"}},
		{[]string{"common/start.smtp"}, []string{"common/start.smtp"}, nil},
	} {
		for _, cmd := range []string{"test", "check"} {
			args := append([]string{cmd, "--sandbox"}, tc.args...)
			if cmd == "check" {
				args = append([]string{cmd}, tc.args...)
			}
			code, out, errOut := cli(t, args...)
			if code != exitOK {
				t.Errorf("%q: exit %d\n%s%s", args, code, out, errOut)
			}
			for _, p := range tc.ran {
				if !strings.Contains(out, p) {
					t.Errorf("%q did not take %s:\n%s", args, p, out)
				}
			}
			for _, p := range tc.left {
				if strings.Contains(out, p+" ") || strings.Contains(out, p+":") {
					t.Errorf("%q took %s:\n%s", args, p, out)
				}
			}
		}
	}
	if code, _, errOut := cli(t, "--sandbox", "--exclude", "x", "main.smtp"); code != exitUsage || !strings.Contains(errOut, "--exclude is for") {
		t.Errorf("a run with --exclude: exit %d, %s", code, errOut)
	}
}

// TestTestModeSaysWhatWasExpected: a text mismatch whose reply is a
// success says what was expected, and the summary counts errors apart
// from failures, as JUnit does.
func TestTestModeSaysWhatWasExpected(t *testing.T) {
	dir := writeScripts(t, map[string]string{
		"a-pass.smtp":    greetAndQuit,
		"b-text.smtp":    "connect \"smtp.gmail.com:587\"\nexpect 220 \"Authenticated\"\n",
		"c-code.smtp":    "connect \"smtp.gmail.com:587\"\nexpect 554\n",
		"d-script.smtp":  "conect \"smtp.gmail.com:587\"\n",
		"e-runtime.smtp": "connect \"smtp.gmail.com:587\"\nexpect 220\nraw \"QUIT\\r\\n\"\nexpect 221\nexpect 250\n",
	})
	t.Chdir(dir)
	code, out, _ := cli(t, "test", "--sandbox", "--no-color", ".")
	if code != exitScript {
		t.Errorf("exit %d, want %d", code, exitScript)
	}
	for _, want := range []string{
		`b-text.smtp  1/2 steps`, `line 2: expected 220 "Authenticated", got 220 smtp.gmail.com ESMTP`,
		`line 2: expected 554, got 220 `,
		"1 passed, 2 failed, 2 errors in ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}

// TestStepCountsAgree: one count of steps, each repeat iteration counted
// and an include's steps spliced in, in check, a run, test's lines, the
// JSON and the HTML report.
func TestStepCountsAgree(t *testing.T) {
	dir := writeScripts(t, map[string]string{
		"common/start.smtp": "# include-only\nconnect \"smtp.gmail.com:587\"\nexpect 220\n",
		"pass.smtp":         "include \"common/start.smtp\"\nrepeat 3 {\n  send \"NOOP\"\n  expect 250\n}\nsend \"QUIT\"\nexpect 221\n",
		"fail.smtp":         "include \"common/start.smtp\"\nrepeat 3 {\n  send \"NOOP\"\n  expect 250\n}\nsend \"QUIT\"\nexpect 250\n",
	})
	t.Chdir(dir)
	if _, out, _ := cli(t, "check", "pass.smtp"); out != "pass.smtp: ok (10 steps)\n" {
		t.Errorf("check: %q", out)
	}
	if _, out, _ := cli(t, "--sandbox", "--no-color", "pass.smtp"); !strings.Contains(out, "ok: 10 steps,") {
		t.Errorf("run:\n%s", out)
	}
	_, out, _ := cli(t, "test", "--sandbox", "--no-color", "--report-json", "r.json", "--report-html", "html", ".")
	for _, want := range []string{"PASS  pass.smtp  10 steps", "FAIL  fail.smtp  9/10 steps held"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	run := readRunReport(t, "r.json")
	for _, sc := range run.Scripts {
		held := 0
		for _, st := range sc.Steps {
			if st.OK && st.Kind != "repeat" {
				held++
			}
		}
		if sc.TotalSteps != 10 || sc.HeldSteps != held {
			t.Errorf("%s: total %d held %d, and %d steps held in its list", sc.Path, sc.TotalSteps, sc.HeldSteps, held)
		}
	}
	page, err := os.ReadFile(filepath.Join("html", "001-fail.html"))
	if err != nil {
		entries, _ := os.ReadDir("html")
		t.Fatalf("%v (the directory holds %v)", err, entries)
	}
	if !strings.Contains(string(page), "9/10 steps held") {
		t.Errorf("the HTML page does not say 9/10 steps held")
	}
	index, err := os.ReadFile(filepath.Join("html", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(index), "<td>9/10 steps held</td>") || !strings.Contains(string(index), "<td>10 steps</td>") {
		t.Errorf("the HTML index does not count as the terminal does:\n%s", index)
	}
}

// readRunReport decodes the JSON report at path.
func readRunReport(t *testing.T, path string) *rpt.Run {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	run, err := rpt.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return run
}
