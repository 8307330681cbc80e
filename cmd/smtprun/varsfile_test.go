package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVariablesFilePrecedence: --var wins, then the variables files in
// the order given, then the environment.
func TestVariablesFilePrecedence(t *testing.T) {
	dir := t.TempDir()
	script := writeFile(t, dir, "vars.smtp", `note "A=${A} B=${B} C=${C} D=${D}"`+"\n")
	one := writeFile(t, dir, "one.env", "# the first file\nA=one\nB=one\n\n")
	two := writeFile(t, dir, "two.env", "B=two\r\nC=two = with spaces and a # hash\r\n")
	t.Setenv("C", "env")
	t.Setenv("D", "env")
	const want = "A=flag B=one C=two = with spaces and a # hash D=env"
	// Test mode prints no transcript; its JSON report holds the narration.
	report := filepath.Join(dir, "r.json")
	for _, cmd := range [][]string{{"run"}, {"test", "--report-json", report}} {
		args := append(cmd, "--var", "A=flag", "--variables-file", one, "--variables-file", two, script)
		code, out, errOut := cli(t, args...)
		if cmd[0] == "test" {
			out = readFile(t, report)
		}
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("%v: exit %d, want %q in\n%s%s", cmd, code, want, out, errOut)
		}
	}
}

// TestVariablesFileErrors: golden usage errors for a malformed file.
func TestVariablesFileErrors(t *testing.T) {
	dir := t.TempDir()
	script := writeFile(t, dir, "vars.smtp", `note "${A}"`+"\n")
	for name, content := range map[string]string{
		"varsfile-no-equals": "A=1\nexport B\n",
		"varsfile-bad-name":  "A=1\n2FA=on\n",
		"varsfile-twice":     "A=1\nA=2\n",
	} {
		f := filepath.Join(dir, "vars.env")
		os.WriteFile(f, []byte(content), 0o600)
		code, out, errOut := cli(t, "run", "--variables-file", f, script)
		if code != exitUsage || out != "" {
			t.Errorf("%s: exit %d, stdout %q", name, code, out)
		}
		golden(t, name, strings.ReplaceAll(errOut, dir, "DIR"))
	}
	code, _, errOut := cli(t, "check", "--variables-file", filepath.Join(dir, "missing.env"), script)
	if code != exitUsage {
		t.Errorf("missing file: exit %d", code)
	}
	golden(t, "varsfile-missing", strings.ReplaceAll(errOut, dir, "DIR"))
}

// TestVariablesFileErrorsShowNoValue: a malformed line may be a secret
// (a password pasted without its name, "SMTP_PASS: x"); the error says
// where and what is wrong, never what the line holds.
func TestVariablesFileErrorsShowNoValue(t *testing.T) {
	dir := t.TempDir()
	script := writeFile(t, dir, "vars.smtp", `note "${A}"`+"\n")
	for _, line := range []string{"secret-first-line hunter2-value", "SMTP_PASS: hunter2-value", "SMTP PASS hun=ter2-value", "hunter2-value"} {
		f := writeFile(t, dir, "vars.env", "A=1\n"+line+"\n")
		code, out, errOut := cli(t, "check", "--variables-file", f, script)
		if code != exitUsage || !strings.Contains(errOut, f+":2:") {
			t.Errorf("%q: exit %d\n%s", line, code, errOut)
		}
		for _, part := range []string{"hunter2", "ter2-value", "secret-first-line"} {
			if strings.Contains(out+errOut, part) {
				t.Errorf("%q: the error shows %q:\n%s", line, part, errOut)
			}
		}
	}
}

// TestVariablesFileSecretWarning: a file that supplies an auth secret and
// that group or others can read gets a warning, not a failure; a private
// file, or a secret that --var overrides, gets none.
func TestVariablesFileSecretWarning(t *testing.T) {
	dir := t.TempDir()
	script := writeFile(t, dir, "login.smtp", `connect "mail.example.edu:587"
expect 220
send "EHLO me"
expect 250
starttls
send "EHLO me"
expect 250
auth plain "${SMTP_USER}" "${SMTP_PASS}"
expect 235
quit
`)
	f := filepath.Join(dir, "secrets.env")
	os.WriteFile(f, []byte("SMTP_USER=student@example.edu\nSMTP_PASS=practice-password\n"), 0o600)
	for _, tc := range []struct {
		mode os.FileMode
		args []string
		warn string
	}{
		{0o644, nil, "supplies SMTP_PASS, an auth secret, and is readable by group and others (mode 0644); run: chmod 600 " + f},
		{0o640, nil, "readable by its group (mode 0640)"},
		{0o600, nil, ""},
		{0o644, []string{"--var", "SMTP_PASS=other"}, ""},
	} {
		os.Chmod(f, tc.mode)
		for _, cmd := range []string{"check", "run", "test"} {
			args := append([]string{cmd, "--sandbox", "--variables-file", f}, tc.args...)
			if cmd == "check" {
				args = append([]string{cmd, "--variables-file", f}, tc.args...)
			}
			code, out, errOut := cli(t, append(args, script)...)
			if code != 0 && !(code == exitExpectation && len(tc.args) > 0) {
				t.Errorf("%s mode %o: exit %d\n%s%s", cmd, tc.mode, code, out, errOut)
			}
			switch {
			case tc.warn == "" && strings.Contains(errOut, "warning:"):
				t.Errorf("%s mode %o %v: unexpected warning %q", cmd, tc.mode, tc.args, errOut)
			case tc.warn != "" && !strings.Contains(errOut, "warning: "+f) || !strings.Contains(errOut, tc.warn):
				t.Errorf("%s mode %o: stderr %q, want the warning %q", cmd, tc.mode, errOut, tc.warn)
			}
			if strings.Contains(out+errOut, "practice-password") {
				t.Errorf("%s: the secret was printed", cmd)
			}
		}
	}
}

// SMTP_PASS="practice-password" keeps its quotes (values are literal), so
// the sandbox refuses the login: the run says why, at the file's line,
// without showing the value; the same file without quotes logs in and
// gets no warning.
func TestVariablesFileQuotedValueWarning(t *testing.T) {
	dir := t.TempDir()
	quoted := writeFile(t, dir, "quoted.env", "# CI\nSMTP_PASS=\"practice-password\"\n")
	plain := writeFile(t, dir, "plain.env", "SMTP_PASS=practice-password\n")
	os.Chmod(quoted, 0o600)
	os.Chmod(plain, 0o600)
	code, out, errOut := cli(t, "run", "--sandbox", "--variables-file", quoted, "../../scripts/gmail.smtp")
	if code != exitExpectation || !strings.Contains(out+errOut, "535") {
		t.Fatalf("quoted: exit %d, want the sandbox's 535\n%s\n%s", code, out, errOut)
	}
	want := quoted + ":2: the value of SMTP_PASS is wrapped in quotes"
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	if strings.Contains(out+errOut, "practice-password") {
		t.Errorf("the value was shown:\n%s\n%s", out, errOut)
	}
	code, out, errOut = cli(t, "run", "--sandbox", "--variables-file", plain, "../../scripts/gmail.smtp")
	if code != exitOK || strings.Contains(errOut, "quotes") {
		t.Fatalf("plain: exit %d\n%s\n%s", code, out, errOut)
	}
}
