package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/internal/testenv"
	"github.com/smtprun/smtprun/sandbox"
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

// TestLoadSandboxConcurrentConnections: load mode against the office365
// emulation finds where an application breaks: with three connections of
// one account at once all pass, with four the fourth is refused with
// 432 4.3.2. The slow scenario (each reply 150 ms late) keeps the
// conversations open long enough to overlap on a busy machine.
func TestLoadSandboxConcurrentConnections(t *testing.T) {
	sandboxTestHook = func(o *sandbox.Options) { o.SlowDelay = 150 * time.Millisecond }
	t.Cleanup(func() { sandboxTestHook = nil })
	for _, tc := range []struct {
		conns   string
		summary string
		failure bool
	}{
		{"3", "iterations  3 ok, 0 failed (of 3)", false},
		{"4", "iterations  3 ok, 1 failed (of 4)", true},
	} {
		var out, errOut bytes.Buffer
		code := run([]string{"load", "--sandbox", "--scenario", "slow", "--no-color", "-q", "-c", tc.conns, "-n", tc.conns,
			"testdata/faults/office365-submit.smtp"}, nil, &out, &errOut)
		if !strings.Contains(out.String(), tc.summary) {
			t.Errorf("-c %s: exit %d, want %q in\n%s%s", tc.conns, code, tc.summary, out.String(), errOut.String())
		}
		if got := strings.Contains(out.String(), "432 4.3.2 Concurrent connections limit exceeded."); got != tc.failure {
			t.Errorf("-c %s: the 432 reported %v, want %v\n%s", tc.conns, got, tc.failure, out.String())
		}
	}
}

// TestServeLimitsSmtplib: the sending limits as a real client meets them.
// Four smtplib connections of one Office 365 account: the fourth's MAIL
// gets 432 4.3.2. One Gmail account sending to 501 recipients in a day:
// the message that passes 500 gets 550 5.4.5.
func TestServeLimitsSmtplib(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		testenv.Missing(t, "python3 is not installed")
	}
	for _, tc := range []struct {
		profile, user, script, want string
	}{
		{"office365", "student@contoso.onmicrosoft.com", `
conns = [login() for _ in range(4)]
print([c.mail(USER) for c in conns])
`, "[(250, b'2.1.0 Sender OK'), (250, b'2.1.0 Sender OK'), (250, b'2.1.0 Sender OK'), (432, b'4.3.2 Concurrent connections limit exceeded. Visit https://aka.ms/concurrent_sending for more information. [Hostname=SN"},
		{"gmail", "smtprun.student@gmail.com", `
c = login()
for i in range(5):
    c.sendmail(USER, ["r%d@example.com" % j for j in range(100)], b"Subject: quota\r\n\r\nhi\r\n")
try:
    c.sendmail(USER, ["one.more@example.com"], b"Subject: quota\r\n\r\nhi\r\n")
except smtplib.SMTPDataError as e:
    print(e.smtp_code, e.smtp_error)
`, "550 b'5.4.5 Daily user sending limit exceeded. For more information on Gmail\\n5.4.5 sending limits go to\\n5.4.5  https://support.google.com/a/answer/166852 "},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			dir := t.TempDir()
			ca := filepath.Join(dir, "ca.pem")
			sub, _, out := startServe(t, "--profile", tc.profile, "--ca-out", ca)
			host, port, _ := net.SplitHostPort(sub)
			script := fmt.Sprintf(`
import smtplib, ssl
USER = %q
def login():
    ctx = ssl.create_default_context(cafile=%q)
    ctx.check_hostname = False
    s = smtplib.SMTP(%q, %s, timeout=10)
    s.starttls(context=ctx)
    s.login(USER, "practice-password")
    return s
`, tc.user, ca, host, port) + tc.script
			got, err := exec.Command(python, "-c", script).CombinedOutput()
			if err != nil || !strings.HasPrefix(string(got), tc.want) {
				t.Errorf("smtplib: %v\n%s\nwant it to start with\n%s\nserver:\n%s", err, got, tc.want, out)
			}
		})
	}
}

// TestCheckSenderIdentity: check warns where MAIL FROM or From: is not
// the AUTH user, says when it cannot know (an unset variable), and is
// silent for every shipped script, which send as the account.
func TestCheckSenderIdentity(t *testing.T) {
	for _, name := range []string{"SMTP_USER", "SENDER", "FROM"} {
		t.Setenv(name, "")
		os.Unsetenv(name)
	}
	code, _, stderr := cli(t, "check", "--no-color", "testdata/faults/identity.smtp")
	if code != exitOK {
		t.Errorf("check: exit %d, want %d (a warning is no error)", code, exitOK)
	}
	golden(t, "check-sender-identity", stderr)

	scripts, _ := filepath.Glob("../../scripts/*.smtp")
	more, _ := filepath.Glob("../../scripts/*/*.smtp")
	code, _, stderr = cli(t, append([]string{"check", "--no-color", "--var", "SMTP_USER=me@example.com"}, append(scripts, more...)...)...)
	if code != exitOK || strings.Contains(stderr, "logs in") {
		t.Errorf("shipped scripts: exit %d\n%s", code, stderr)
	}
}

// TestServeExplainSenderIdentity: swaks logged in as the practice account
// but sending as another address gets Office 365's 550 5.7.60, and serve
// --explain says which addresses disagree and what Office 365 does.
func TestServeExplainSenderIdentity(t *testing.T) {
	swaks, err := exec.LookPath("swaks")
	if err != nil {
		testenv.Missing(t, "swaks is not installed; `apt-get install swaks` (.ci/run installs it)")
	}
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	sub, _, out := startServe(t, "--profile", "office365", "--ca-out", ca, "--explain")
	user := "student@contoso.onmicrosoft.com"
	got, err := exec.Command(swaks, "--server", sub, "--tls", "--tls-verify", "--tls-ca-path", ca, "--tls-sni", "smtp.office365.com",
		"--auth", "LOGIN", "--auth-user", user, "--auth-password", "practice-password",
		"--from", "boss@contoso.com", "--to", "friend@example.com").CombinedOutput()
	if err == nil || !strings.Contains(string(got), "550 5.7.60 SMTP; Client does not have permissions to send as this sender") {
		t.Errorf("swaks: %v\n%s", err, got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "report card") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{
		"The sender is not the account that logged in (AUTH user " + user + ", MAIL FROM boss@contoso.com, From: boss@contoso.com; Office 365 refuses",
		"RFC 6409 6.1",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("serve's transcript lacks %q:\n%s", want, out)
		}
	}
}

// TestServeGreetingRefusedRealClients: connect plans refuse greetings, in
// turn, to real clients and to a client that talks on. Python's smtplib
// meets a 554 and raises SMTPConnectError; swaks meets a 421 and gives up,
// curl and msmtp a 554;
// a client that sends EHLO after a 554 gets 503 until it says QUIT, which
// gets 221 (RFC 5321 3.1), and the coach tells it it never checked the
// greeting; the next connection is greeted as usual. The real clients are
// told nothing: smtplib closes after the 554 without QUIT, and a coach that
// flagged it would cry wolf.
func TestServeGreetingRefusedRealClients(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		testenv.Missing(t, "python3 is not installed")
	}
	swaks, err := exec.LookPath("swaks")
	if err != nil {
		testenv.Missing(t, "swaks is not installed; `apt-get install swaks` (.ci/run installs it)")
	}
	sub, _, out := startServe(t, "--profile", "postfix", "--explain",
		"--fault", "connect#1=554 5.7.1 No SMTP service here",
		"--fault", "connect#2=421 4.3.2 Service not available",
		"--fault", "connect#3=554 5.7.1 No SMTP service here",
		"--fault", "connect#4=554 5.7.1 No SMTP service here",
		"--fault", "connect#5=554 5.7.1 No SMTP service here")
	host, port, _ := net.SplitHostPort(sub)

	got, err := exec.Command(python, "-c", fmt.Sprintf(`
import smtplib
try:
    smtplib.SMTP(%q, %s, timeout=10)
    print("greeted")
except smtplib.SMTPConnectError as e:
    print("refused", e.smtp_code, e.smtp_error.decode())
`, host, port)).CombinedOutput()
	if want := "refused 554 5.7.1 No SMTP service here\n"; err != nil || string(got) != want {
		t.Errorf("smtplib: %v\n%s\nwant %q\nserver:\n%s", err, got, want, out)
	}

	got, err = exec.Command(swaks, "--server", sub, "--from", "a@example.com", "--to", "b@example.com").CombinedOutput()
	if err == nil || !strings.Contains(string(got), "<** 421 4.3.2 Service not available") {
		t.Errorf("swaks (%v) did not meet the 421:\n%s\nserver:\n%s", err, got, out)
	}

	c, err := net.DialTimeout("tcp", sub, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var transcript bytes.Buffer
	buf := make([]byte, 4096)
	say := func(line string) {
		if line != "" {
			fmt.Fprintf(c, "%s\r\n", line)
		}
		n, _ := c.Read(buf)
		transcript.Write(buf[:n])
	}
	say("")
	say("EHLO client.example")
	say("MAIL FROM:<a@example.com>")
	say("QUIT")
	if n, err := c.Read(buf); n != 0 || err == nil {
		t.Errorf("the connection stayed open after 221: %q, %v", buf[:n], err)
	}
	c.Close()
	lines := strings.Split(strings.TrimSpace(transcript.String()), "\r\n")
	if len(lines) != 4 || lines[0] != "554 5.7.1 No SMTP service here" ||
		!strings.HasPrefix(lines[1], "503 5.5.1 ") || !strings.HasPrefix(lines[2], "503 5.5.1 ") || !strings.HasPrefix(lines[3], "221 ") {
		t.Errorf("a client that talked on after 554 got:\n%s", transcript.String())
	}

	// curl and msmtp give up on the 554 too, each with its own exit code.
	msg := filepath.Join(t.TempDir(), "msg.eml")
	if err := os.WriteFile(msg, []byte("From: <a@example.com>\r\nTo: <b@example.com>\r\nSubject: x\r\n\r\nhi\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, client := range [][]string{
		{"curl", "-sS", "--url", "smtp://" + sub, "--mail-from", "a@example.com", "--mail-rcpt", "b@example.com", "-T", msg},
		{"msmtp", "--host=" + host, "--port=" + port, "--from=a@example.com", "b@example.com"},
	} {
		bin, err := exec.LookPath(client[0])
		if err != nil {
			testenv.Missing(t, client[0]+" is not installed (.ci/run installs it)")
		}
		cmd := exec.Command(bin, client[1:]...)
		if client[0] == "msmtp" {
			cmd.Stdin = strings.NewReader("Subject: x\n\nhi\n")
		}
		got, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(got), "554") && !strings.Contains(string(got), "No SMTP service") {
			t.Errorf("%s (%v) did not meet the 554:\n%s", client[0], err, got)
		}
	}

	got, err = exec.Command(swaks, "--server", sub, "--quit-after", "EHLO").CombinedOutput()
	if err != nil || !strings.Contains(string(got), "<-  220 ") {
		t.Errorf("the connection after the plans were spent: swaks %v\n%s\nserver:\n%s", err, got, out)
	}

	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(out.String(), "report card:") < 6 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	log := out.String()
	if n := strings.Count(log, "note: fault plan connect#"); n != 5 {
		t.Errorf("the log names %d connect plans, want 5:\n%s", n, log)
	}
	if n := strings.Count(log, "the session failed: the server refused it in its greeting, "); n != 5 {
		t.Errorf("%d report cards say the greeting refused the session, want 5:\n%s", n, log)
	}
	// The client that talked on after the 554 (connection 3) is told so;
	// the real clients are told nothing.
	for _, line := range strings.Split(log, "\n") {
		if (strings.Contains(line, "mistake:") || strings.Contains(line, "!! ")) && !strings.Contains(line, "[3] ") ||
			strings.Contains(line, "mistake:") && !strings.Contains(line, "mistake: ignored_greeting, 2 times") {
			t.Errorf("a mistake reported: %s", line)
		}
	}
	if !strings.Contains(log, "[3]   mistake: ignored_greeting, 2 times (RFC 5321 3.1)") || strings.Contains(log, "could not name the cause") {
		t.Errorf("the client that talked on after the 554:\n%s", log)
	}
}
