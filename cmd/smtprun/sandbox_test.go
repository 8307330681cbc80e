package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/sandbox"
)

// TestScriptsInSandbox runs every shipped script offline, as a newcomer's
// first command does, with the scenario its header names.
func TestScriptsInSandbox(t *testing.T) {
	// The slow scenario is run for its replies, not its 2 s delays.
	sandboxTestHook = func(o *sandbox.Options) { o.SlowDelay = 10 * time.Millisecond }
	t.Cleanup(func() { sandboxTestHook = nil })
	scripts, _ := filepath.Glob("../../scripts/*.smtp")
	more, _ := filepath.Glob("../../scripts/*/*.smtp")
	scripts = append(scripts, more...)
	for _, s := range scripts {
		t.Run(strings.TrimPrefix(s, "../../"), func(t *testing.T) {
			t.Setenv("SMTP_USER", "")
			t.Setenv("SMTP_PASS", "")
			os.Unsetenv("SMTP_USER")
			os.Unsetenv("SMTP_PASS")
			code, out, errOut := cli(t, "--sandbox", s)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
		})
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
	t.Setenv("SMTP_USER", "")
	t.Setenv("SMTP_PASS", "")
	os.Unsetenv("SMTP_USER")
	os.Unsetenv("SMTP_PASS")
	code, out, _ := cli(t, "--sandbox", "../../scripts/utep.smtp")
	if code != 0 || !strings.Contains(out, "SMTP_USER and SMTP_PASS are not set: using the practice account") {
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
