package main

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smtprun/smtprun/internal/testenv"
)

// TestServeFaultRealClients: fault plans and a magic recipient against
// real clients. Python's smtplib sends two messages: in the first, the
// second RCPT is refused (rcpt#2) and the message goes to the other
// recipient; the second message is refused at its end and the server
// hangs up (message#2 ...,close). swaks, which cannot be told about
// plans, meets the magic recipient fail-452@... .
func TestServeFaultRealClients(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	sub, _, out := startServe(t, "--profile", "office365", "--ca-out", ca,
		"--fault", "rcpt#2=550 5.1.1 <{addr}>: No such user",
		"--fault", "message#2=451 4.7.0 Temporary server error. Please try again later. PRX4,close")
	user, pass := "student@contoso.onmicrosoft.com", "practice-password"
	t.Run("python-smtplib", func(t *testing.T) {
		python, err := exec.LookPath("python3")
		if err != nil {
			testenv.Missing(t, "python3 is not installed")
		}
		host, port, _ := net.SplitHostPort(sub)
		script := fmt.Sprintf(`
import smtplib, ssl
ctx = ssl.create_default_context(cafile=%[1]q)
ctx.check_hostname = False
msg = b"From: <%[4]s>\r\nTo: <a@example.com>\r\nSubject: faults\r\n\r\nhello\r\n"
s = smtplib.SMTP(%[2]q, %[3]s, timeout=10)
s.starttls(context=ctx)
s.login(%[4]q, %[5]q)
refused = s.sendmail(%[4]q, ["a@example.com", "bob@example.com"], msg)
print("refused", sorted(refused.items()))
try:
    s.sendmail(%[4]q, ["a@example.com"], msg)
    print("second accepted")
except smtplib.SMTPDataError as e:
    print("second", e.smtp_code, e.smtp_error.decode())
try:
    s.noop()
    print("still connected")
except smtplib.SMTPServerDisconnected:
    print("disconnected")
`, ca, host, port, user, pass)
		got, err := exec.Command(python, "-c", script).CombinedOutput()
		if err != nil {
			t.Fatalf("python: %v\n%s\nserver:\n%s", err, got, out)
		}
		want := "refused [('bob@example.com', (550, b'5.1.1 <bob@example.com>: No such user'))]\n" +
			"second 451 4.7.0 Temporary server error. Please try again later. PRX4\n" +
			"disconnected\n"
		if string(got) != want {
			t.Errorf("smtplib saw:\n%s\nwant:\n%s\nserver:\n%s", got, want, out)
		}
	})
	t.Run("swaks-magic-recipient", func(t *testing.T) {
		swaks, err := exec.LookPath("swaks")
		if err != nil {
			testenv.Missing(t, "swaks is not installed; `apt-get install swaks` (.ci/run installs it)")
		}
		got, err := exec.Command(swaks, "--server", sub, "--tls", "--tls-verify", "--tls-ca-path", ca,
			"--tls-sni", "smtp.office365.com", "--auth", "LOGIN", "--auth-user", user, "--auth-password", pass,
			"--from", user, "--to", "fail-452@example.com").CombinedOutput()
		if err == nil {
			t.Fatalf("swaks succeeded despite the magic recipient:\n%s", got)
		}
		if want := "* 452 4.0.0 <fail-452@example.com>: failed on request (smtprun magic recipient)"; !strings.Contains(string(got), want) {
			t.Errorf("swaks output lacks %q:\n%s", want, got)
		}
	})
	if !strings.Contains(out.String(), "fault plan: rcpt#2=") {
		t.Errorf("serve does not list its plans:\n%s", out)
	}
}

// TestSandboxFaultPlans: plans from a script's header and from --fault
// fail exactly the commands they name, run after run.
func TestSandboxFaultPlans(t *testing.T) {
	for range 3 {
		code, stdout, stderr := cli(t, "--sandbox", "--no-color", "-q", "--var", "SMTP_USER=me@gmail.com",
			"--fault", "data=421 4.7.0 Try again later,close", "testdata/faults/plans.smtp")
		if code != exitOK {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
	}
	// Without the --fault, DATA is accepted and the script's expectation
	// of a 421 fails.
	if code, stdout, _ := cli(t, "--sandbox", "--no-color", "-q", "--var", "SMTP_USER=me@gmail.com", "testdata/faults/plans.smtp"); code != exitExpectation {
		t.Errorf("without --fault: exit %d, want %d\n%s", code, exitExpectation, stdout)
	}
}

// TestFaultPlanErrors: a plan that does not parse is shown with a caret
// under the mistake, on the command line (a usage error) or in a script's
// header (a script error).
func TestFaultPlanErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"fault-flag-error", []string{"--sandbox", "--fault", "rcpx#2=550 5.1.1 No such user", "testdata/faults/plans.smtp"}, exitUsage},
		{"fault-header-error", []string{"--sandbox", "testdata/faults/bad-header.smtp"}, exitScript},
		{"fault-serve-error", []string{"serve", "--fault", "data=42 Try again later,close"}, exitUsage},
		{"fault-needs-sandbox", []string{"--fault", "rcpt=550 x", "testdata/faults/plans.smtp"}, exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := cli(t, append(tc.args, "--no-color")...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s\n%s", code, tc.code, stdout, stderr)
			}
			golden(t, tc.name, stderr)
		})
	}
}
