package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shippedScripts lists every .smtp file under scripts/, at any depth, and
// fails the test if there are none: a test over "every script" must not
// pass by running nothing after the scripts move.
func shippedScripts(t *testing.T) []string {
	t.Helper()
	var scripts []string
	err := filepath.WalkDir("../../scripts", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".smtp") {
			scripts = append(scripts, path)
		}
		return err
	})
	if err != nil {
		t.Fatalf("listing scripts/: %v", err)
	}
	if len(scripts) == 0 {
		t.Fatal("no .smtp file under scripts/")
	}
	return scripts
}

// unsetCredentials removes SMTP_USER and SMTP_PASS from the environment
// for one test, as on a newcomer's machine.
func unsetCredentials(t *testing.T) {
	for _, v := range []string{"SMTP_USER", "SMTP_PASS"} {
		t.Setenv(v, "") // restores the value after the test
		os.Unsetenv(v)
	}
}

func TestSandboxWrongPassword(t *testing.T) {
	tests := []struct {
		script, want string
	}{
		{"utep.smtp", "535 5.7.3 Authentication unsuccessful"},
		{"gmail.smtp", "535-5.7.8 Username and Password not accepted"},
		{"aol.smtp", "535 5.7.0 (#MBR1212) Incorrect username or password."},
	}
	for _, tc := range tests {
		code, out, errOut := cli(t, "--sandbox", "--var", "SMTP_PASS=wrong", "../../scripts/"+tc.script)
		if code != exitExpectation || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "expect 235") {
			t.Errorf("%s: exit %d, want 4 and %q\n%s\n%s", tc.script, code, tc.want, out, errOut)
		}
		if strings.Contains(out+errOut, "d3Jvbmc") { // base64("wrong")
			t.Errorf("%s: the password leaked", tc.script)
		}
	}
}

func TestSandboxPracticeCredentialsNotice(t *testing.T) {
	unsetCredentials(t)
	code, out, _ := cli(t, "--sandbox", "../../scripts/utep.smtp")
	if code != 0 || !strings.Contains(out, "SMTP_USER and SMTP_PASS are unset: using the practice account") {
		t.Errorf("exit %d, no practice notice:\n%s", code, out)
	}
	// A user's own name logs in with the practice password.
	code, out, errOut := cli(t, "--sandbox", "--var", "SMTP_USER=me@miners.utep.edu", "../../scripts/utep.smtp")
	if code != 0 || !strings.Contains(out, "MAIL FROM:<me@miners.utep.edu>") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestScenarioNeedsSandbox(t *testing.T) {
	code, _, errOut := cli(t, "--scenario", "slow", "../../scripts/utep.smtp")
	if code != exitUsage || !strings.Contains(errOut, "--scenario needs --sandbox") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	code, _, errOut = cli(t, "--sandbox", "--scenario", "auth-disable", "../../scripts/utep.smtp")
	if code != exitUsage || !strings.Contains(errOut, "auth-disabled") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// TestSandboxOwnUserUnsetPassword: a script with the learner's own user
// name written into it and SMTP_PASS unset logs in under that name with
// the sandbox's practice password, and the note says exactly that.
func TestSandboxOwnUserUnsetPassword(t *testing.T) {
	unsetCredentials(t)
	script := writeFile(t, t.TempDir(), "me.smtp", `connect "smtp.gmail.com:587"
expect 220
send "EHLO me.example"
expect 250
starttls
send "EHLO me.example"
expect 250
auth plain "me@gmail.com" "${SMTP_PASS}"
expect 235
send "MAIL FROM:<me@gmail.com>"
expect 250
quit
`)
	code, out, errOut := cli(t, "--sandbox", script)
	if code != exitOK {
		t.Fatalf("exit %d, want 0\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"sandbox: SMTP_PASS is unset: using the sandbox's practice password, which it accepts for any user name",
		"S: 235 2.7.0 Accepted",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "practice account") {
		t.Errorf("the note claims a practice account, but the script's own user name is used:\n%s", out)
	}
}

func TestPracticeNote(t *testing.T) {
	for _, tc := range []struct {
		user, pass []string
		want       string
	}{
		{nil, nil, ""},
		{[]string{"SMTP_USER"}, []string{"SMTP_PASS"}, "sandbox: SMTP_USER and SMTP_PASS are unset: using the practice account u@x and the sandbox's practice password"},
		{[]string{"SMTP_USER"}, nil, "sandbox: SMTP_USER is unset: using the practice account u@x"},
		{nil, []string{"SMTP_PASS"}, "sandbox: SMTP_PASS is unset: using the sandbox's practice password, which it accepts for any user name"},
		{nil, []string{"A", "B"}, "sandbox: A and B are unset: using the sandbox's practice password, which it accepts for any user name"},
	} {
		if got := practiceNote(tc.user, tc.pass, "u@x"); got != tc.want {
			t.Errorf("practiceNote(%q, %q) = %q, want %q", tc.user, tc.pass, got, tc.want)
		}
	}
}

// TestUnreadableCA: an --ca file that cannot be read is a usage error,
// with the same message, whether or not the run is in the sandbox.
func TestUnreadableCA(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	notPEM := writeFile(t, dir, "not.pem", "hello\n")
	for _, ca := range []string{missing, notPEM} {
		_, _, plain := cli(t, "--ca", ca, "../../scripts/utep.smtp")
		for _, args := range [][]string{
			{"--ca", ca, "../../scripts/utep.smtp"},
			{"--sandbox", "--ca", ca, "../../scripts/utep.smtp"},
		} {
			code, out, errOut := cli(t, args...)
			if code != exitUsage || out != "" || errOut != plain || !strings.Contains(errOut, "--ca") {
				t.Errorf("%q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, exitUsage, out, errOut)
			}
		}
	}
}

// A script with its own user name and the password left to the sandbox
// logs in: the practice password works for any user, on every provider.
func TestSandboxOwnUserPracticePassword(t *testing.T) {
	t.Setenv("SMTP_PASS", "")
	os.Unsetenv("SMTP_PASS")
	for _, host := range []string{"smtp.gmail.com", "smtp.office365.com", "smtp.mail.yahoo.com", "smtp.aol.com", "mail.example.edu"} {
		script := writeFile(t, t.TempDir(), "me.smtp", `connect "`+host+`:587"
expect 220
send "EHLO laptop.example"
expect 250
starttls
send "EHLO laptop.example"
expect 250
auth login "me@example.org" "${SMTP_PASS}"
expect 235
quit
`)
		if code, out, errOut := cli(t, "--sandbox", script); code != 0 {
			t.Errorf("%s: exit %d\n%s\n%s", host, code, out, errOut)
		}
	}
}
