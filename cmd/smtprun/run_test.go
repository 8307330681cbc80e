package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/smtprun/smtprun/internal/smtptest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// cli runs the command as a user would and returns its exit code and output.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	t.Setenv("NO_COLOR", "1")
	code := run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// normalize removes what changes between runs: timings, ports, cipher suites.
func normalize(s string, addr string) string {
	s = strings.ReplaceAll(s, addr, "127.0.0.1:PORT")
	s = regexp.MustCompile(`\((\d+(\.\d+)?(µs|ms|s)|\d+m\d+(\.\d+)?s)\)`).ReplaceAllString(s, "(T)")
	s = regexp.MustCompile(`in \d+(\.\d+)?(µs|ms|s)`).ReplaceAllString(s, "in T")
	s = regexp.MustCompile(`127\.0\.0\.1:\d+\)`).ReplaceAllString(s, "127.0.0.1:CLIENT)")
	s = regexp.MustCompile(`TLS_[A-Z0-9_]+`).ReplaceAllString(s, "CIPHER")
	return s
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenFile(t, filepath.Join("testdata", name+".golden"), got)
}

// goldenFile compares got with the file at path, or with -update writes
// it there.
func goldenFile(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/smtprun -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const conversationScript = `# A whole submission, as in scripts/utep.smtp.
connect "${ADDR}"
expect 220
send "EHLO client.test"
expect 250 "STARTTLS"
starttls
send "EHLO client.test"
expect 250 "AUTH"
auth login "${SMTP_USER}" "${SMTP_PASS}"
expect 235
send "MAIL FROM:<${SMTP_USER}>"
expect 250
send "RCPT TO:<friend@example.test>"
expect 250
send "DATA"
expect 354
message """
Subject: hello

.dot
"""
expect 250
quit
`

func TestCLI(t *testing.T) {
	srv := smtptest.Start(t, false)
	dir := t.TempDir()
	ca := writeFile(t, dir, "ca.pem", string(srv.PKI.CAPEM))
	script := writeFile(t, dir, "conv.smtp", conversationScript)
	t.Setenv("SMTP_PASS", srv.Password)
	vars := []string{"--var", "ADDR=" + srv.Addr, "--var", "SMTP_USER=" + srv.User}

	tests := []struct {
		name string
		args []string
		code int
	}{
		{"ok", append([]string{"--ca", ca, script}, vars...), 0},
		{"wrong-password", append([]string{"--ca", ca, "--var", "SMTP_PASS=wrong", script}, vars...), 4},
		{"quiet-wrong-password", append([]string{"-q", "--ca", ca, "--var", "SMTP_PASS=wrong", script}, vars...), 4},
		{"untrusted-ca", append([]string{script}, vars...), 3},
		{"refused", []string{"--var", "ADDR=127.0.0.1:1", "--var", "SMTP_USER=x", script}, 3},
		{"unset-variable", []string{"--ca", ca, script}, 2},
		{"no-script", []string{}, 1},
		{"bad-flag", []string{"--nope", script}, 1},
		{"missing-file", []string{filepath.Join(dir, "missing.smtp")}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := cli(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
			got := "$ smtprun " + strings.Join(tc.args, " ") + "\n--- stdout\n" + out + "--- stderr\n" + errOut
			got = strings.ReplaceAll(got, dir, "DIR")
			got = normalize(got, srv.Addr)
			golden(t, "cli-"+tc.name, got)
			if strings.Contains(got, srv.Password) {
				t.Errorf("output contains the password")
			}
		})
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.smtp", "connect \"h:25\"\nexpect 220\nquit\n")
	bad := writeFile(t, dir, "bad.smtp", "connect \"h:25\"\nexpect 220\nstartls\n")
	code, out, errOut := cli(t, "check", good, bad)
	if code != exitScript {
		t.Errorf("exit %d, want %d", code, exitScript)
	}
	got := strings.ReplaceAll("--- stdout\n"+out+"--- stderr\n"+errOut, dir, "DIR")
	golden(t, "check", got)

	// Every shipped script is valid.
	scripts := shippedScripts(t)
	code, out, errOut = cli(t, append([]string{"check"}, scripts...)...)
	if code != 0 {
		t.Errorf("scripts/ does not check: %s%s", out, errOut)
	}
}

// TestCheckVariablesNote: check lists the variables a script uses and
// says which are unset here, on stderr, and still exits 0.
func TestCheckVariablesNote(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SMTPRUN_TEST_FROM_ENV", "set")
	p := writeFile(t, dir, "vars.smtp", "connect \"${ADDR}\"\nexpect 220\nsend \"EHLO ${HOST:-me.test}\"\nexpect 250\n"+
		"send \"MAIL FROM:<${SMTPRUN_TEST_FROM_ENV}>\"\nexpect 250\nauth login \"${SMTPRUN_TEST_USER}\" \"${SMTPRUN_TEST_PASS}\"\nexpect 235\nquit\n")
	code, out, errOut := cli(t, "check", "--var", "ADDR=127.0.0.1:25", p)
	if code != exitOK {
		t.Errorf("exit %d, want 0: unset variables are a note", code)
	}
	golden(t, "check-variables", strings.ReplaceAll("--- stdout\n"+out+"--- stderr\n"+errOut, dir, "DIR"))
}

// TestCheckDirectory: check takes folders as fmt and test do, checking
// every .smtp below, and a broken script among them fails the check.
func TestCheckDirectory(t *testing.T) {
	code, out, errOut := cli(t, "check", "-q", "../../scripts")
	if code != exitOK || out != "" || errOut != "" {
		t.Errorf("check scripts: exit %d\n%s%s", code, out, errOut)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "a.smtp", "connect \"h:25\"\nexpect 220\nquit\n")
	writeFile(t, dir, "sub/b.smtp", "connect \"h:25\"\nexpect 220\nstartls\n")
	writeFile(t, dir, "notes.txt", "not a script")
	code, out, errOut = cli(t, "check", dir)
	if code != exitScript {
		t.Errorf("exit %d, want %d", code, exitScript)
	}
	if want := filepath.Join(dir, "a.smtp") + ": ok (3 steps)\n"; out != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
	if !strings.Contains(errOut, filepath.Join(dir, "sub", "b.smtp")+":3:1") || strings.Contains(errOut, "notes.txt") {
		t.Errorf("stderr does not report sub/b.smtp alone:\n%s", errOut)
	}
	// A link to a directory is the directory (filepath.WalkDir would not
	// follow it).
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	code, out, _ = cli(t, "check", link)
	if want := filepath.Join(link, "a.smtp") + ": ok (3 steps)\n"; code != exitScript || out != want {
		t.Errorf("through a link: exit %d, stdout %q; want %d, %q", code, out, exitScript, want)
	}
}

// TestCheckNoteNamesVariables: the note lists what a user must set; a
// script whose only variables are captures and built-ins gets no note
// (it said "uses " with nothing after it).
func TestCheckNoteNamesVariables(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "captures.smtp", "connect \"h:25\"\nexpect 220\nsend \"EHLO c.test\"\n"+
		"expect 250 /(?P<NAME>\\S+)/\nsend \"NOOP ${NAME} ${ITERATION}\"\nexpect 250\nquit\n")
	code, out, errOut := cli(t, "check", p)
	if code != exitOK || out != p+": ok (7 steps)\n" || errOut != "" {
		t.Errorf("exit %d\n--- stdout\n%s--- stderr\n%s", code, out, errOut)
	}
}

// TestHelp: the global help lists every command of the table; each
// command's own help (--help, -h, smtprun help NAME) is its own, not the
// global one, the same however it is asked for, and has an example.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		code, out, errOut := cli(t, args...)
		if code != exitOK || errOut != "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
		golden(t, "help", out)
	}
	global := globalHelp()
	for _, c := range commands {
		if !strings.Contains(global, c.synopsis+" ") || !strings.Contains(global, c.summary) {
			t.Errorf("the global help does not list %s", c.name)
		}
		forms := [][]string{{c.name, "--help"}, {c.name, "-h"}, {"help", c.name}}
		if c.name == "run" {
			forms = append(forms, []string{"x.smtp", "--help"})
		}
		for _, args := range forms {
			code, out, errOut := cli(t, args...)
			if code != exitOK || errOut != "" {
				t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
			}
			if out == global {
				t.Errorf("%q prints the global help, not %s's", args, c.name)
			}
			golden(t, "help-"+c.name, out)
		}
		if c.name != "help" && c.name != "version" && !strings.Contains(c.usage, "Example") {
			t.Errorf("%s --help has no example", c.name)
		}
	}
}
