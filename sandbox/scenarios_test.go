package sandbox

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestUnknownScenario(t *testing.T) {
	_, err := New(Options{Scenario: "greylist"})
	if err == nil {
		t.Fatal("New accepted an unknown scenario")
	}
	msg := err.Error()
	for _, want := range []string{`unknown scenario "greylist"`, `did you mean "greylisted"?`, "auth-disabled", "slow"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if _, err := New(Options{Scenario: "zzzzzzzzzzzzzzzz"}); err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("far-off name: got %v, want no suggestion", err)
	}
}

// matchReply reads a reply and checks each line against a regular
// expression.
func (c *testClient) matchReply(patterns ...string) {
	c.t.Helper()
	lines, err := c.readReply()
	if err != nil {
		c.t.Fatalf("reading reply: %v\ntranscript:\n%s", err, c.transcript.String())
	}
	if len(lines) != len(patterns) {
		c.t.Fatalf("got %q, want %d lines matching %q", lines, len(patterns), patterns)
	}
	for i, p := range patterns {
		if !regexp.MustCompile(`^` + p + `$`).MatchString(lines[i]) {
			c.t.Fatalf("line %q does not match %s", lines[i], p)
		}
	}
}

const (
	o365Track = `\[SC1PR\d\dCA\d{4}\.namprd\d\d\.prod\.outlook\.com 2023-03-27T18:17:53\.123Z 08DB[0-9A-F]{12}\]`
	gmailID   = `[0-9a-f]{13}-[0-9a-f]{11}sm\d{7}[a-z]{3}\.\d\d`
)

// authLogin runs AUTH LOGIN up to the final reply.
func (c *testClient) authLogin(user, pass string) {
	c.t.Helper()
	c.cmd("AUTH LOGIN", "334")
	c.cmd(b64(user), "334")
	c.send(b64(pass))
}

// tlsReady: greeting, EHLO, STARTTLS, handshake, EHLO.
func tlsReady(t *testing.T, sb *Sandbox, host string) *testClient {
	t.Helper()
	c := dial(t, sb, host+":587")
	c.reply("220")
	c.cmd("EHLO client.example.org", "250")
	c.cmd("STARTTLS", "220")
	c.handshake()
	c.cmd("EHLO client.example.org", "250")
	return c
}

func TestScenarioAuthDisabled(t *testing.T) {
	sb := newTestSandbox(t, Options{Scenario: "auth-disabled"})
	c := tlsReady(t, sb, "smtp.office365.com")
	c.authLogin(PracticeCredentials("office365"))
	c.matchReply(`535 5\.7\.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant\. Visit https://aka\.ms/smtp_auth_disabled for more information\. ` + o365Track)

	// It applies to Microsoft 365 only.
	login(t, sb, "smtp.gmail.com")
}

func TestScenarioAppPasswordRequired(t *testing.T) {
	sb := newTestSandbox(t, Options{Scenario: "app-password-required"})
	c := tlsReady(t, sb, "smtp.gmail.com")
	c.authLogin(PracticeCredentials("gmail"))
	c.matchReply(
		`534-5\.7\.9 Application-specific password required\. For more information, go to`,
		`534 5\.7\.9  https://support\.google\.com/mail/\?p=InvalidSecondFactor `+gmailID+` - gsmtp`,
	)
	user, _ := PracticeCredentials("gmail")
	c.cmd("AUTH PLAIN "+plain(user, "abcd efgh ijkl mnop"), "235")

	y := tlsReady(t, sb, "smtp.mail.yahoo.com")
	y.authLogin(PracticeCredentials("yahoo"))
	y.expect("535 5.7.0 (#AUTH005) Too many bad auth attempts.")
}

func TestScenarioBadCredentials(t *testing.T) {
	sb := newTestSandbox(t, Options{Scenario: "bad-credentials"})
	for host, want := range map[string]string{
		"mail.example.edu":    `535 5\.7\.8 Error: authentication failed: authentication failure`,
		"smtp.office365.com":  `535 5\.7\.3 Authentication unsuccessful ` + o365Track,
		"smtp.mail.yahoo.com": `535 5\.7\.0 \(#MBR1212\) Incorrect username or password\.`,
	} {
		c := tlsReady(t, sb, host)
		c.authLogin(PracticeCredentials(ProfileForHost(host)))
		c.matchReply(want)
	}
	c := tlsReady(t, sb, "smtp.gmail.com")
	c.authLogin(PracticeCredentials("gmail"))
	c.matchReply(
		`535-5\.7\.8 Username and Password not accepted\. For more information, go to`,
		`535 5\.7\.8  https://support\.google\.com/mail/\?p=BadCredentials `+gmailID+` - gsmtp`,
	)
}

func TestScenarioMustStartTLS(t *testing.T) {
	// Without the scenario, port 25 takes mail in plaintext.
	plainSB := newTestSandbox(t, Options{})
	c := dial(t, plainSB, "mail.example.edu:25")
	c.reply("220")
	c.cmd("EHLO client.example.org", "250")
	c.cmd("MAIL FROM:<a@example.net>", "250")

	sb := newTestSandbox(t, Options{Scenario: "must-starttls"})
	c = dial(t, sb, "mail.example.edu:25")
	c.reply("220")
	c.cmd("EHLO client.example.org", "250")
	c.send("MAIL FROM:<a@example.net>")
	c.expect("530 5.7.0 Must issue a STARTTLS command first")
	c.send("AUTH PLAIN " + plain(PracticeCredentials("postfix")))
	c.expect("530 5.7.0 Must issue a STARTTLS command first")
	c.cmd("STARTTLS", "220")
	c.handshake()
	c.cmd("EHLO client.example.org", "250")
	c.cmd("MAIL FROM:<a@example.net>", "250")

	// AOL offers AUTH before TLS normally; under the scenario it does not.
	a := dial(t, sb, "smtp.aol.com:587")
	a.reply("220")
	lines := a.cmd("EHLO client.example.org", "250")
	if strings.Contains(strings.Join(lines, "\n"), "AUTH") {
		t.Errorf("AUTH offered before TLS under must-starttls: %q", lines)
	}
	a.send("AUTH PLAIN " + plain(PracticeCredentials("aol")))
	a.expect("530 5.7.0 Must issue a STARTTLS command first")
}

func TestScenarioRelayDenied(t *testing.T) {
	sb := newTestSandbox(t, Options{Scenario: "relay-denied"})
	c := login(t, sb, "mail.example.edu")
	c.cmd("MAIL FROM:<student@example.edu>", "250")
	c.send("RCPT TO:<friend@example.net>")
	c.expect("554 5.7.1 <friend@example.net>: Relay access denied")
	c.cmd("RCPT TO:<teacher@example.edu>", "250")
}

func TestScenarioGreylisted(t *testing.T) {
	sb := newTestSandbox(t, Options{Scenario: "greylisted"})
	c := dial(t, sb, "mail.example.edu:25")
	c.reply("220")
	c.cmd("EHLO client.example.org", "250")
	c.cmd("MAIL FROM:<a@example.net>", "250")
	c.send("RCPT TO:<student@example.edu>")
	c.expect("451 4.7.1 <student@example.edu>: Recipient address rejected: Greylisted, please try again later")
	c.cmd("RCPT TO:<student@example.edu>", "250") // retry, same connection

	// A new connection: the known pair passes, a new one is greylisted.
	d := dial(t, sb, "mail.example.edu:25")
	d.reply("220")
	d.cmd("EHLO client.example.org", "250")
	d.cmd("MAIL FROM:<A@example.net>", "250")
	d.cmd("RCPT TO:<Student@example.edu>", "250")
	d.cmd("RCPT TO:<teacher@example.edu>", "451")
}

func TestScenarioMailboxFull(t *testing.T) {
	sb := newTestSandbox(t, Options{Scenario: "mailbox-full"})
	c := login(t, sb, "smtp.gmail.com")
	c.cmd("MAIL FROM:<smtprun.student@gmail.com>", "250")
	c.send("RCPT TO:<friend@gmail.com>")
	c.matchReply(
		`552-5\.2\.2 The email account that you tried to reach is over quota\. Please direct`,
		`552-5\.2\.2 the recipient to`,
		`552 5\.2\.2  https://support\.google\.com/mail/\?p=OverQuotaTemp `+gmailID+` - gsmtp`,
	)
	p := login(t, sb, "mail.example.edu")
	p.cmd("MAIL FROM:<student@example.edu>", "250")
	p.send("RCPT TO:<friend@example.net>")
	p.expect("552 5.2.2 <friend@example.net>: Recipient address rejected: Mailbox full")
}

func TestScenarioMessageTooLarge(t *testing.T) {
	sb := newTestSandbox(t, Options{Scenario: "message-too-large"})
	c := dial(t, sb, "mail.example.edu:25")
	c.reply("220")
	lines := c.cmd("EHLO client.example.org", "250")
	if !strings.Contains(strings.Join(lines, "\n"), "250-SIZE 256\n") {
		t.Errorf("EHLO does not announce SIZE 256: %q", lines)
	}
	c.send("MAIL FROM:<a@example.net> SIZE=1000")
	c.expect("552 5.3.4 Message size exceeds fixed limit")
	c.cmd("MAIL FROM:<a@example.net> SIZE=100", "250")
	c.cmd("RCPT TO:<student@example.edu>", "250")
	c.cmd("DATA", "354")
	c.write("Subject: big\r\n\r\n" + strings.Repeat("0123456789abcdef\r\n", 20) + ".\r\n")
	c.expect("552 5.3.4 Error: message file too big")
	// The transaction is over; a small message goes through.
	c.cmd("MAIL FROM:<a@example.net>", "250")
	c.cmd("RCPT TO:<student@example.edu>", "250")
	c.cmd("DATA", "354")
	c.write("Subject: small\r\n\r\nhi\r\n.\r\n")
	c.reply("250")
}

func TestScenarioTLSUnavailable(t *testing.T) {
	sb := newTestSandbox(t, Options{Scenario: "tls-unavailable"})
	c := dial(t, sb, "mail.example.edu:587")
	c.reply("220")
	c.cmd("EHLO client.example.org", "250-")
	c.send("STARTTLS")
	c.expect("454 4.7.0 TLS not available due to local problem")
	c.cmd("NOOP", "250") // still in plaintext, still talking

	d := dial(t, sb, "smtp.gmail.com:465")
	tc := tlsClientFor(d, "smtp.gmail.com")
	if err := tc.Handshake(); err == nil {
		t.Error("TLS handshake on 465 succeeded under tls-unavailable")
	}
}

func TestScenarioTooManyErrors(t *testing.T) {
	sb := newTestSandbox(t, Options{Scenario: "too-many-errors"})
	c := dial(t, sb, "mail.example.edu:25")
	c.reply("220")
	c.cmd("FOO", "500")
	c.cmd("BAR", "500")
	c.send("RCPT TO:<a@example.net>") // no MAIL: the third error
	c.expect("503 5.5.1 Error: need MAIL command")
	c.expect("421 4.7.0 mail.example.edu Error: too many errors")
	c.expectClosed()
}

func TestScenarioDropAfterData(t *testing.T) {
	rec := &recorder{}
	dir := t.TempDir()
	sb := newTestSandbox(t, Options{Scenario: "drop-after-data", Observer: rec.observe, SaveDir: dir})
	c := login(t, sb, "smtp.office365.com")
	c.cmd("MAIL FROM:<student@contoso.onmicrosoft.com>", "250")
	c.cmd("RCPT TO:<friend@example.net>", "250")
	c.cmd("DATA", "354")
	c.write("Subject: lost?\r\n\r\nhi\r\n.\r\n")
	c.expectClosed()
	ev := rec.waitClosed(t, 1)
	if ev.Err == nil || !strings.Contains(ev.Err.Error(), "dropped") {
		t.Errorf("closed event: %v", ev.Err)
	}
	if n := len(rec.kinds(1, MessageReceived)); n != 0 {
		t.Errorf("%d messages reported received", n)
	}
}

func TestScenarioSlow(t *testing.T) {
	sb := newTestSandbox(t, Options{Scenario: "slow", SlowDelay: 60 * time.Millisecond})
	start := time.Now()
	c := dial(t, sb, "mail.example.edu:25")
	c.reply("220")
	c.cmd("NOOP", "250")
	if d := time.Since(start); d < 120*time.Millisecond {
		t.Errorf("two replies took %v, want at least 120ms", d)
	}
}

// Every listed scenario has a test above; this catches a new scenario
// added to scenarios.yaml without one.
func TestEveryScenarioTested(t *testing.T) {
	tested := map[string]bool{
		"auth-disabled": true, "app-password-required": true, "bad-credentials": true,
		"must-starttls": true, "relay-denied": true, "greylisted": true, "mailbox-full": true,
		"message-too-large": true, "tls-unavailable": true, "too-many-errors": true,
		"drop-after-data": true, "slow": true, "strict": true,
		// oauth_test.go
		"basic-auth-retired": true, "token-expired": true, "wrong-scope": true,
		// catalogue_test.go: every scenario that sends a catalogue reply
		"security-defaults": true, "auth-policy": true, "web-login-required": true,
		"suspicious-signin": true, "ehlo-rejected": true,
	}
	for _, sc := range Scenarios() {
		if !tested[sc.Name] {
			t.Errorf("scenario %s has no test", sc.Name)
		}
	}
}
