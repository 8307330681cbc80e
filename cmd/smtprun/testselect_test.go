package main

import (
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
