package sandbox

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// relayClient is a greeted, EHLO'd plaintext client on port 25.
func relayClient(t *testing.T, sb *Sandbox) *testClient {
	t.Helper()
	c := dial(t, sb, "mail.example.edu:25")
	c.reply("220")
	c.cmd("EHLO client.example.org", "250")
	return c
}

// TestPostfixDefaults: what Postfix 3.7 lets pass by default (checked
// against the real one in postfix_fidelity_test.go) and the strict
// scenario refuses.
func TestPostfixDefaults(t *testing.T) {
	sb := newTestSandbox(t, Options{})
	c := dial(t, sb, "mail.example.edu:25")
	c.reply("220")
	c.cmd("MAIL FROM:<a@example.net>", "250 2.1.0 Ok") // no HELO
	c.cmd("RCPT TO: student@example.edu", "250 2.1.5 Ok")
	c.cmd("RSET", "250")
	c.cmd("MAIL FROM: a@example.net", "250 2.1.0 Ok")
	c.cmd("RSET", "250")
	c.cmd("MAIL FROM:<a@example.net> FOO=BAR", "555 5.5.4 Unsupported option: FOO=BAR")
	c.cmd("MAIL FROM:<a@example.net> SIZE=10 BODY=8BITMIME", "250")
	c.cmd("RCPT TO:<student@example.edu> XYZ", "555 5.5.4 Unsupported option: XYZ")
	c.send("Subject: not a command")
	c.expect("221 2.7.0 Error: I can break rules, too. Goodbye.")
	c.expectClosed()
}

func TestScenarioStrict(t *testing.T) {
	sb := newTestSandbox(t, Options{Scenario: "strict"})
	c := dial(t, sb, "mail.example.edu:25")
	c.reply("220")
	c.cmd("MAIL FROM:<a@example.net>", "503 5.5.1 Error: send HELO/EHLO first")
	c.cmd("EHLO client.example.org", "250")
	c.cmd("MAIL FROM: a@example.net", "501 5.5.4 Syntax: MAIL FROM:<address>")
	c.cmd("MAIL FROM:<a@example.net>", "250")
	c.cmd("RCPT TO:student@example.edu", "501 5.5.4 Syntax: RCPT TO:<address>")
	c.cmd("RCPT TO:<student@example.edu>", "250")
	c.cmd("DATA", "354")
	c.write("Subject: bare\n\nbody\r\n.\r\n")
	c.expect("550 5.5.2 mail.example.edu Error: bare <LF> received")
	c.expectClosed()

	// After STARTTLS, a new EHLO first.
	d := dial(t, sb, "mail.example.edu:587")
	d.reply("220")
	d.cmd("EHLO client.example.org", "250")
	d.cmd("STARTTLS", "220")
	d.handshake()
	d.cmd("AUTH PLAIN "+b64("\x00student@example.edu\x00practice-password"), "503 5.5.1 Error: send HELO/EHLO first")
}

func TestSequenceErrorsPostfix(t *testing.T) {
	sb := newTestSandbox(t, Options{Scenario: "strict"})
	c := dial(t, sb, "mail.example.edu:25")
	c.expect("220 mail.example.edu ESMTP Postfix")
	c.send("MAIL FROM:<a@example.net>")
	c.expect("503 5.5.1 Error: send HELO/EHLO first")
	c.send("EHLO")
	c.expect("501 Syntax: EHLO hostname")
	c.send("HELO client.example.org")
	c.expect("250 mail.example.edu")
	c.send("RCPT TO:<student@example.edu>")
	c.expect("503 5.5.1 Error: need MAIL command")
	c.send("DATA")
	c.expect("503 5.5.1 Error: need RCPT command")
	c.send("MAIL FROM:a@example.net")
	c.expect("501 5.5.4 Syntax: MAIL FROM:<address>")
	c.cmd("MAIL FROM:<>", "250") // the null sender of a bounce
	c.send("MAIL FROM:<a@example.net>")
	c.expect("503 5.5.1 Error: nested MAIL command")
	c.send("RCPT TO:<>")
	c.expect("501 5.5.4 Syntax: RCPT TO:<address>")
	c.send("DATA")
	c.expect("503 5.5.1 Error: need RCPT command")
	c.send("RCPT TO:<friend@example.net>")
	c.expect("554 5.7.1 <friend@example.net>: Relay access denied")
	c.send("RSET")
	c.expect("250 2.0.0 Ok")
	c.send("RCPT TO:<student@example.edu>")
	c.expect("503 5.5.1 Error: need MAIL command")
	c.send("NOOP")
	c.expect("250 2.0.0 Ok")
	c.send("VRFY student")
	c.expect("252 2.0.0 student")
	c.send("HELP")
	c.expect("500 5.5.2 Error: command not recognized")
	// EHLO resets a transaction.
	c.cmd("MAIL FROM:<a@example.net>", "250")
	c.cmd("EHLO again.example.org", "250")
	c.send("RCPT TO:<student@example.edu>")
	c.expect("503 5.5.1 Error: need MAIL command")
	c.send("QUIT")
	c.expect("221 2.0.0 Bye")
	c.expectClosed()
}

func TestOffice365Errors(t *testing.T) {
	sb := newTestSandbox(t, Options{})
	c := dial(t, sb, "smtp.office365.com:587")
	c.reply("220")
	c.send("MAIL FROM:<a@example.net>")
	c.matchReply(`503 5\.5\.2 Send hello first ` + o365Track)
	c.send("XYZZY")
	c.matchReply(`500 5\.3\.3 Unrecognized command 'unknown' ` + o365Track)
	c.cmd("EHLO client.example.org", "250")
	c.cmd("STARTTLS", "220")
	c.handshake()
	// After STARTTLS the client knows nothing: EHLO again first.
	c.send("MAIL FROM:<a@example.net>")
	c.matchReply(`503 5\.5\.2 Send hello first ` + o365Track)
	c.cmd("EHLO client.example.org", "250")
	c.send("STARTTLS")
	c.matchReply(`500 5\.3\.3 Unrecognized command 'unknown' ` + o365Track)
	c.send("MAIL FROM:<a@example.net>")
	c.matchReply(`530 5\.7\.57 Client not authenticated to send mail\. ` + o365Track)
	c.send("AUTH PLAIN " + plain(PracticeCredentials("office365")))
	c.matchReply(`504 5\.7\.4 Unrecognized authentication type ` + o365Track)
	c.authLogin("student@contoso.onmicrosoft.com", "wrong")
	c.matchReply(`535 5\.7\.3 Authentication unsuccessful ` + o365Track)
}

func TestGmailBeforeTLS(t *testing.T) {
	sb := newTestSandbox(t, Options{})
	c := dial(t, sb, "smtp.gmail.com:587")
	c.reply("220")
	c.cmd("EHLO client.example.org", "250")
	c.send("AUTH LOGIN")
	c.matchReply(`530 5\.7\.0 Must issue a STARTTLS command first\. ` + gmailID + ` - gsmtp`)
	c.send("MAIL FROM:<a@example.net>")
	c.matchReply(`530 5\.7\.0 Must issue a STARTTLS command first\. ` + gmailID + ` - gsmtp`)
	c.cmd("STARTTLS", "220")
	c.handshake()
	c.cmd("EHLO client.example.org", "250")
	c.send("MAIL FROM:<a@example.net>")
	c.matchReply(
		`530-5\.7\.0 Authentication Required\. For more information, go to`,
		`530 5\.7\.0  https://support\.google\.com/mail/\?p=WantAuthError `+gmailID+` - gsmtp`,
	)
	c.send("AUTH CRAM-MD5")
	c.matchReply(`504 5\.7\.4 Unrecognized Authentication Type ` + gmailID + ` - gsmtp`)
}

func TestAuthMechanisms(t *testing.T) {
	sb := newTestSandbox(t, Options{Credentials: map[string]string{"me@utep.edu": "", "other@utep.edu": "secret"}})
	user, pass := PracticeCredentials("postfix")
	c := tlsReady(t, sb, "mail.example.edu")

	// PLAIN with the 334 empty challenge, then cancelled with "*".
	c.cmd("AUTH PLAIN", "334 ")
	c.send("*")
	c.expect("501 5.7.0 Authentication aborted")
	c.cmd("AUTH LOGIN", "334")
	c.send("not base64!")
	c.expect("535 5.7.8 Error: authentication failed: bad protocol / cancel")
	c.cmd("AUTH LOGIN", "334")
	c.cmd(b64(user), "334")
	c.send("*")
	c.expect("501 5.7.0 Authentication aborted")
	c.send("AUTH GSSAPI")
	c.expect("535 5.7.8 Error: authentication failed: Invalid authentication mechanism")
	// CRAM-MD5's server speaks first (RFC 2195): no initial response.
	c.send("AUTH CRAM-MD5 " + b64("me"))
	c.matchReply(`501 5\.5\.4 Syntax: .*`)
	c.send("AUTH PLAIN " + plain(user, "wrong"))
	c.expect("535 5.7.8 Error: authentication failed: authentication failure")
	// A user from Options.Credentials with "" logs in with the practice password...
	c.send("AUTH PLAIN " + plain("ME@utep.edu", pass))
	c.expect("235 2.7.0 Authentication successful")
	c.send("AUTH PLAIN " + plain(user, pass))
	c.expect("503 5.5.1 Error: already authenticated")

	// ...one with a password only with that one.
	d := tlsReady(t, sb, "mail.example.edu")
	d.cmd("AUTH PLAIN "+plain("other@utep.edu", pass), "535")
	d.cmd("AUTH PLAIN", "334")
	d.cmd(plain("other@utep.edu", "secret"), "235")

	// CRAM-MD5, where the profile offers it.
	e := tlsReady(t, sb, "mail.example.edu")
	lines := e.cmd("AUTH CRAM-MD5", "334")
	challenge, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(lines[0], "334 "))
	if err != nil || !strings.HasSuffix(string(challenge), "@mail.example.edu>") {
		t.Fatalf("challenge %q: %v", challenge, err)
	}
	m := hmac.New(md5.New, []byte(pass))
	m.Write(challenge)
	e.cmd(b64(user+" "+hex.EncodeToString(m.Sum(nil))), "235")

	// XOAUTH2 with a token the sandbox issued; the password is refused
	// with Google's JSON challenge (oauth_test.go has the rest).
	g := tlsReady(t, sb, "smtp.gmail.com")
	guser, gpass := PracticeCredentials("gmail")
	g.cmd("AUTH XOAUTH2 "+b64("user="+guser+"\x01auth=Bearer "+gpass+"\x01\x01"), "334")
	g.cmd("", "535")
	token := sb.oauth.PracticeToken(mustCatalog().byName["gmail"].OAuth, guser)
	g.cmd("AUTH XOAUTH2 "+b64("user="+guser+"\x01auth=Bearer "+token+"\x01\x01"), "235")
}

func TestAuthRelayPortPostfix(t *testing.T) {
	sb := newTestSandbox(t, Options{})
	c := relayClient(t, sb)
	// Postfix offers AUTH only inside TLS (smtpd_tls_auth_only).
	c.send("AUTH PLAIN " + plain(PracticeCredentials("postfix")))
	c.expect("503 5.5.1 Error: authentication not enabled")
	// On port 587 TLS comes first.
	d := dial(t, sb, "mail.example.edu:587")
	d.reply("220")
	d.cmd("EHLO x.example.org", "250")
	d.send("AUTH LOGIN")
	d.expect("530 5.7.0 Must issue a STARTTLS command first")
	d.send("MAIL FROM:<a@example.net>")
	d.expect("530 5.7.0 Must issue a STARTTLS command first")
	d.cmd("STARTTLS", "220")
	d.handshake()
	d.send("STARTTLS")
	d.expect("554 5.5.1 Error: TLS already active")
	d.cmd("EHLO x.example.org", "250")
	// Postfix takes MAIL without AUTH and refuses each recipient
	// (smtpd_recipient_restrictions=permit_sasl_authenticated,reject).
	d.cmd("MAIL FROM:<a@example.net>", "250")
	d.send("RCPT TO:<friend@example.net>")
	d.expect("554 5.7.1 <friend@example.net>: Recipient address rejected: Access denied")
	d.send("DATA")
	d.expect("554 5.5.1 Error: no valid recipients")
}

func TestSizeLimits(t *testing.T) {
	sb := newTestSandbox(t, Options{MaxMessageBytes: 1000})
	c := relayClient(t, sb)
	c.send("MAIL FROM:<a@example.net> SIZE=10240001")
	c.expect("552 5.3.4 Message size exceeds fixed limit")
	c.send("MAIL FROM:<a@example.net> SIZE=lots")
	c.expect("501 5.5.4 Syntax: MAIL FROM:<address>")
	c.cmd("MAIL FROM:<a@example.net> SIZE=500 BODY=8BITMIME", "250")
	c.cmd("RCPT TO:<student@example.edu>", "250")
	c.cmd("DATA", "354")
	// Over the memory cap: read to the end, refused, connection usable.
	c.write(strings.Repeat("x", 5000) + "\r\n" + strings.Repeat("y\r\n", 100) + ".\r\n")
	c.expect("552 5.3.4 Error: message file too big")
	c.cmd("NOOP", "250")
}

func TestPipelining(t *testing.T) {
	sb := newTestSandbox(t, Options{})
	c := relayClient(t, sb)
	// RFC 2920: several commands in one write, then the replies.
	c.write("MAIL FROM:<a@example.net>\r\nRCPT TO:<student@example.edu>\r\nDATA\r\n")
	c.expect("250 2.1.0 Ok")
	c.expect("250 2.1.5 Ok")
	c.expect("354 End data with <CR><LF>.<CR><LF>")
	c.write("Subject: pipelined\r\n\r\nhi\r\n.\r\nQUIT\r\n")
	c.reply("250")
	c.expect("221 2.0.0 Bye")

	// A bigger burst: many transactions written before reading anything.
	d := relayClient(t, sb)
	var burst strings.Builder
	const n = 200
	for i := 0; i < n; i++ {
		fmt.Fprintf(&burst, "MAIL FROM:<a@example.net>\r\nRCPT TO:<student@example.edu>\r\nRSET\r\n")
	}
	d.write(burst.String())
	for i := 0; i < 3*n; i++ {
		d.reply("250")
	}
}

func TestBareLF(t *testing.T) {
	dir := t.TempDir()
	sb := newTestSandbox(t, Options{SaveDir: dir, Scenario: "strict"})
	// Postfix, strict: refused, and the server hangs up.
	c := relayClient(t, sb)
	c.cmd("MAIL FROM:<a@example.net>", "250")
	c.cmd("RCPT TO:<student@example.edu>", "250")
	c.cmd("DATA", "354")
	c.write("Subject: bare\n\nbody\r\n.\r\n")
	c.expect("550 5.5.2 mail.example.edu Error: bare <LF> received")
	c.expectClosed()

	// Gmail, and Postfix 3.7 by default: accepted and stored with CRLF.
	sb = newTestSandbox(t, Options{SaveDir: dir})
	p := relayClient(t, sb)
	p.cmd("MAIL FROM:<a@example.net>", "250")
	p.cmd("RCPT TO:<student@example.edu>", "250")
	p.cmd("DATA", "354")
	p.write("Subject: bare\n\nbody\r\n.\r\n")
	p.reply("250")
	p.cmd("QUIT", "221")
	g := login(t, sb, "smtp.gmail.com")
	g.cmd("MAIL FROM:<smtprun.student@gmail.com>", "250")
	g.cmd("RCPT TO:<friend@example.net>", "250")
	g.cmd("DATA", "354")
	g.write("Subject: bare\n\nbody\n.\n")
	g.reply("250")
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 2 {
		t.Fatalf("saved %d files, want 2", len(files))
	}
	for _, f := range files {
		got, _ := os.ReadFile(f)
		if string(got) != "Subject: bare\r\n\r\nbody\r\n" {
			t.Errorf("%s: saved %q", f, got)
		}
	}
}

func TestBadInput(t *testing.T) {
	rec := &recorder{}
	sb := newTestSandbox(t, Options{Observer: rec.observe})
	c := relayClient(t, sb)
	// Garbage: binary, an HTTP request, an empty line.
	c.send("\x00\x01\x02\xff\xfe")
	c.expect("500 5.5.2 Error: command not recognized")
	c.send("")
	c.expect("500 5.5.2 Error: command not recognized")
	// An oversized line is consumed to its end; the next command works.
	c.send("NOOP " + strings.Repeat("a", 100_000))
	c.expect("500 5.5.0 Error: line too long")
	c.cmd("NOOP", "250")
	// A bare LF ends a command line (people type at servers with nc).
	c.write("NOOP\n")
	c.expect("250 2.0.0 Ok")

	// A client that vanishes mid-DATA.
	d := relayClient(t, sb)
	d.cmd("MAIL FROM:<a@example.net>", "250")
	d.cmd("RCPT TO:<student@example.edu>", "250")
	d.cmd("DATA", "354")
	d.write("Subject: half\r\n\r\nhalf a mess")
	d.conn.Close()
	ev := rec.waitClosed(t, 2)
	if ev.Err == nil || !strings.Contains(ev.Err.Error(), "DATA") {
		t.Errorf("closed event error %v, want it to mention DATA", ev.Err)
	}
	if n := len(rec.kinds(2, MessageReceived)); n != 0 {
		t.Errorf("half message reported as received")
	}

	// HTTP to an SMTP port: Postfix hangs up (smtpd_forbidden_commands).
	h := relayClient(t, sb)
	h.send("GET / HTTP/1.1")
	h.expect("221 2.7.0 Error: I can break rules, too. Goodbye.")
	h.expectClosed()

	// Postfix's hard error limit: 20 errors, then 421 and goodbye.
	e := relayClient(t, sb)
	for i := 0; i < 20; i++ {
		e.cmd("FOO", "500")
	}
	e.expect("421 4.7.0 mail.example.edu Error: too many errors")
	e.expectClosed()

	// And the server still serves.
	f := relayClient(t, sb)
	f.cmd("QUIT", "221")
}

func TestIdleTimeout(t *testing.T) {
	sb := newTestSandbox(t, Options{IdleTimeout: 100 * time.Millisecond})
	c := dial(t, sb, "mail.example.edu:25")
	c.reply("220")
	c.expect("421 4.4.2 mail.example.edu Error: timeout exceeded")
	c.expectClosed()
}

func TestPanicCostsOneConnection(t *testing.T) {
	rec := &recorder{}
	sb := newTestSandbox(t, Options{Observer: rec.observe})
	sb.testHook = func(line string) {
		if line == "PANIC" {
			panic("boom")
		}
	}
	c := relayClient(t, sb)
	c.send("PANIC")
	c.expectClosed()
	if ev := rec.waitClosed(t, 1); ev.Err == nil || !strings.Contains(ev.Err.Error(), "boom") {
		t.Errorf("closed event error %v", ev.Err)
	}
	relayClient(t, sb).cmd("QUIT", "221")
}

func TestBDAT(t *testing.T) {
	dir := t.TempDir()
	sb := newTestSandbox(t, Options{SaveDir: dir})
	c := relayClient(t, sb)
	c.write("BDAT 5\r\nhello")
	c.expect("503 5.5.1 Error: need RCPT command")
	c.cmd("MAIL FROM:<a@example.net>", "250")
	c.cmd("RCPT TO:<student@example.edu>", "250")
	c.write("BDAT 14\r\nSubject: x\r\n\r\n")
	c.expect("250 2.0.0 Ok: 14 bytes")
	c.write("BDAT 6 LAST\r\n.hi\r\n\n")
	c.reply("250 2.0.0 Ok: queued as ")
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("saved %d files", len(files))
	}
	// BDAT content is binary: no dot-unstuffing, no line-ending changes.
	if got, _ := os.ReadFile(files[0]); string(got) != "Subject: x\r\n\r\n.hi\r\n\n" {
		t.Errorf("saved %q", got)
	}
}

func TestDialContext(t *testing.T) {
	sb := newTestSandbox(t, Options{})
	for _, tc := range []struct {
		address, ip string
		port        int
	}{
		{"smtp.office365.com:587", "52.96.0.10", 587},
		{"SMTP.GMAIL.COM.:465", "142.250.0.108", 465},
		{"mail.utep.edu:25", "192.0.2.25", 25},
	} {
		conn, err := sb.DialContext(context.Background(), "tcp", tc.address)
		if err != nil {
			t.Fatal(err)
		}
		a, ok := conn.RemoteAddr().(*net.TCPAddr)
		if !ok || a.IP.String() != tc.ip || a.Port != tc.port || a.IP.IsLoopback() {
			t.Errorf("%s: RemoteAddr %#v", tc.address, conn.RemoteAddr())
		}
		conn.Close()
	}

	// An unknown host gets the generic profile under its own name, and
	// its own domain is local.
	c := dial(t, sb, "mail.utep.edu:25")
	c.expect("220 mail.utep.edu ESMTP Postfix")
	c.cmd("EHLO x.example.org", "250-mail.utep.edu")
	c.cmd("MAIL FROM:<a@example.net>", "250")
	c.cmd("RCPT TO:<miner@utep.edu>", "250")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sb.DialContext(ctx, "tcp", "smtp.gmail.com:587"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled dial: %v", err)
	}
	if _, err := sb.DialContext(context.Background(), "udp", "smtp.gmail.com:587"); err == nil {
		t.Error("udp dial worked")
	}
	if _, err := sb.DialContext(context.Background(), "tcp", "smtp.gmail.com"); err == nil {
		t.Error("dial without a port worked")
	}

	// Deadlines work on the returned connection.
	conn, err := sb.DialContext(context.Background(), "tcp", "smtp.gmail.com:587")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 4096)
	conn.Read(buf) // the greeting
	conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	var ne net.Error
	if _, err := conn.Read(buf); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("read past deadline: %v", err)
	}

	sb.Close()
	if _, err := sb.DialContext(context.Background(), "tcp", "smtp.gmail.com:587"); !errors.Is(err, net.ErrClosed) {
		t.Errorf("dial after Close: %v", err)
	}
}

func TestBDATTooBig(t *testing.T) {
	sb := newTestSandbox(t, Options{Scenario: "message-too-large"})
	c := relayClient(t, sb)
	c.cmd("MAIL FROM:<a@example.net>", "250")
	c.cmd("RCPT TO:<student@example.edu>", "250")
	c.write("BDAT 200\r\n" + strings.Repeat("x", 200))
	c.reply("250")
	c.write("BDAT 200\r\n" + strings.Repeat("x", 200))
	c.expect("552 5.3.4 Error: message file too big")
	c.write("BDAT 10 LAST\r\n" + strings.Repeat("x", 10))
	c.expect("503 5.5.1 Error: need RCPT command")
	c.cmd("NOOP", "250")
}
