package sandbox

import (
	"crypto/tls"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// The coach's second round: mistakes from student clients written in
// other styles (Node.js net/tls, Python like C with send and recv), each
// byte for byte, with the diagnosis it must get; the correct or merely
// slow versions must get none.

func TestCoachMoreMistakes(t *testing.T) {
	user, pass := PracticeCredentials("postfix")
	for _, tc := range []struct {
		name   string
		client func(t *testing.T, sb *Sandbox)
		want   []string // mistakes
		warn   []string // warnings
		detail string   // a diagnosis detail must contain this
	}{
		{name: "AUTH PLAIN without the leading NUL", client: func(t *testing.T, sb *Sandbox) {
			c := greeted(t, sb)
			c.cmd("AUTH PLAIN "+b64(user+"\x00"+pass), "535 5.7.8 Error: authentication failed: bad protocol / cancel")
			c.cmd("QUIT", "221")
		}, want: []string{"auth_plain_layout"}, detail: "1 NUL bytes"},
		{name: "AUTH PLAIN with a trailing NUL", client: func(t *testing.T, sb *Sandbox) {
			c := greeted(t, sb)
			c.cmd("AUTH PLAIN", "334")
			c.cmd(b64("\x00"+user+"\x00"+pass+"\x00"), "535")
			c.cmd("QUIT", "221")
		}, want: []string{"auth_plain_layout"}, detail: "3 NUL bytes"},
		{name: "the message without DATA", client: func(t *testing.T, sb *Sandbox) {
			c := loggedIn(t, sb)
			c.cmd("MAIL FROM:<student@example.edu>", "250")
			c.cmd("RCPT TO:<friend@example.edu>", "250")
			c.send("From: <student@example.edu>")
			c.reply("221") // Postfix hangs up on a header line as a command
		}, want: []string{"message_without_data"}, detail: `"From: <student@example.edu>"`},
		{name: "the message after a refused DATA", client: func(t *testing.T, sb *Sandbox) {
			c := office365TLS(t, sb)
			c.cmd("MAIL FROM:<student@contoso.com>", "503")
			c.cmd("DATA", "503")
			// The student's client ignores the 503 and sends the message
			// in one write.
			c.write("Subject: hi\r\nFrom: <student@contoso.com>\r\n\r\nHello.\r\n.\r\n")
			for range 5 {
				c.reply("5")
			}
			c.cmd("QUIT", "221")
		}, want: []string{"message_after_refused_data", "no_ehlo_after_starttls"}, detail: "503"},
		{name: "plaintext EHLO to the implicit-TLS port", client: func(t *testing.T, sb *Sandbox) {
			c := dial(t, sb, studentHost+":465")
			c.write("EHLO student.example.org\r\n")
			c.r.ReadString('\n') // a TLS alert, or nothing
		}, want: []string{"plaintext_on_tls_port"}, detail: `"EHLO"`},
		{name: "plain TCP to the implicit-TLS port, waiting for a greeting", client: func(t *testing.T, sb *Sandbox) {
			c := dial(t, sb, studentHost+":465")
			c.conn.SetReadDeadline(time.Now().Add(600 * time.Millisecond))
			if line, err := c.r.ReadString('\n'); err == nil {
				t.Errorf("a greeting on the implicit-TLS port before TLS: %q", line)
			}
			c.conn.Close()
		}, want: []string{"tls_port_client_waits"}},
		{name: "STARTTLS on the implicit-TLS port", client: func(t *testing.T, sb *Sandbox) {
			c := dialImplicitTLS(t, sb, studentHost)
			c.reply("220")
			c.cmd("EHLO student.example.org", "250")
			c.cmd("STARTTLS", "5")
			c.cmd("QUIT", "221")
		}, want: []string{"starttls_on_tls_port"}},
		{name: "STARTTLS twice", client: func(t *testing.T, sb *Sandbox) {
			c := greeted(t, sb)
			c.cmd("STARTTLS", "5")
			c.cmd("QUIT", "221")
		}, want: []string{"starttls_twice"}},
		{name: "HELO instead of EHLO before STARTTLS", client: func(t *testing.T, sb *Sandbox) {
			c := dial(t, sb, studentHost+":587")
			c.reply("220")
			c.cmd("HELO student.example.org", "250")
			c.cmd("STARTTLS", "220")
			c.handshake()
			c.cmd("HELO student.example.org", "250")
			c.cmd("AUTH LOGIN", "334")
			c.cmd(b64(user), "334")
			c.cmd(b64(pass), "235")
			c.cmd("QUIT", "221")
		}, want: []string{"helo_not_ehlo"}, detail: "STARTTLS"},
		{name: "a mechanism the server did not offer", client: func(t *testing.T, sb *Sandbox) {
			c := office365TLS(t, sb)
			c.cmd("EHLO student.example.org", "250")
			c.cmd("AUTH CRAM-MD5", "504")
			c.cmd("QUIT", "221")
		}, want: []string{"auth_mech_not_offered"}, detail: "offered: LOGIN"},
		{name: "the user name's newline encoded (a warning: it logs in here)", client: func(t *testing.T, sb *Sandbox) {
			c := greeted(t, sb)
			c.cmd("AUTH LOGIN", "334")
			c.cmd(b64(user+"\n"), "334")
			c.cmd(b64(pass), "235")
			c.cmd("MAIL FROM:<student@example.edu>", "250")
			c.cmd("RCPT TO:<friend@example.edu>", "250")
			c.cmd("DATA", "354")
			c.write(goodMessage + ".\r\n")
			c.reply("250")
			c.cmd("QUIT", "221")
			// The login's identity is the name with its newline, which is
			// not the sender's address.
		}, want: []string{"sender_identity"}, warn: []string{"auth_encoded_newline"}, detail: "user name"},
		{name: "a message without Date: (a warning)", client: func(t *testing.T, sb *Sandbox) {
			c := inData(t, sb)
			c.write("From: <student@example.edu>\r\nSubject: hi\r\n\r\nHello.\r\n.\r\n")
			c.reply("250")
			c.cmd("QUIT", "221")
		}, warn: []string{"missing_date"}},
		{name: "reading only the first line of the EHLO reply", client: func(t *testing.T, sb *Sandbox) {
			c := dial(t, sb, studentHost+":587")
			c.reply("220")
			c.send("EHLO student.example.org")
			readOneLine(t, c) // 250-mail.example.edu
			c.send("STARTTLS")
			readOneLine(t, c) // 250-PIPELINING, taken for the 220
			// The TLS layer reads the rest of the EHLO reply and the 220
			// where the server's handshake belongs, and gives up.
			tc := tls.Client(unbuffered{c}, &tls.Config{ServerName: studentHost, RootCAs: sb.RootCAs()})
			if err := tc.Handshake(); err == nil {
				t.Fatal("the handshake succeeded over leftover plaintext")
			}
			c.conn.Close()
		}, want: []string{"reply_desync"}, detail: "11"},
		{name: "pipelined before STARTTLS", client: func(t *testing.T, sb *Sandbox) {
			c := dial(t, sb, studentHost+":587")
			c.reply("220")
			c.cmd("EHLO student.example.org", "250")
			c.write("MAIL FROM:<student@example.edu>\r\nRCPT TO:<friend@example.edu>\r\nDATA\r\n")
			for range 3 {
				c.reply("530")
			}
			c.cmd("QUIT", "221")
		}, want: []string{"before_starttls"}, detail: "MAIL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb, rec := coached(t)
			tc.client(t, sb)
			checkCoached(t, rec, rec.card(t, 1), tc.want, tc.warn, tc.detail)
			sweep(t, rec, pass)
		})
	}
}

// office365TLS is a client of the office365 profile past STARTTLS,
// before its second EHLO.
func office365TLS(t *testing.T, sb *Sandbox) *testClient {
	c := dial(t, sb, "smtp.office365.com:587")
	c.host = "smtp.office365.com"
	c.reply("220")
	c.cmd("EHLO student.example.org", "250")
	c.cmd("STARTTLS", "220")
	c.handshake()
	return c
}

// readOneLine reads one line byte by byte, as a client that calls
// readline once per reply does, leaving the rest in the socket.
func readOneLine(t *testing.T, c *testClient) string {
	t.Helper()
	var line []byte
	b := make([]byte, 1)
	for {
		if _, err := io.ReadFull(c.conn, b); err != nil {
			t.Fatalf("reading a line: %v", err)
		}
		line = append(line, b[0])
		if b[0] == '\n' {
			return string(line)
		}
	}
}

// unbuffered is the test client's connection without its reader's buffer
// (nothing was read through the buffer when it is used).
type unbuffered struct{ c *testClient }

func (u unbuffered) Read(p []byte) (int, error)  { return u.c.conn.Read(p) }
func (u unbuffered) Write(p []byte) (int, error) { return u.c.conn.Write(p) }
func (u unbuffered) Close() error                { return u.c.conn.Close() }
func (u unbuffered) LocalAddr() net.Addr         { return u.c.conn.LocalAddr() }
func (u unbuffered) RemoteAddr() net.Addr        { return u.c.conn.RemoteAddr() }
func (u unbuffered) SetDeadline(d time.Time) error {
	return u.c.conn.SetDeadline(d)
}
func (u unbuffered) SetReadDeadline(d time.Time) error  { return u.c.conn.SetReadDeadline(d) }
func (u unbuffered) SetWriteDeadline(d time.Time) error { return u.c.conn.SetWriteDeadline(d) }

// TestCoachSlowClient: a correct client that sends its message lines
// slower than the stuck-in-DATA wait finishes its message: the diagnosis
// said while it waited is withdrawn, and the report card has no mistake.
func TestCoachSlowClient(t *testing.T) {
	sb, rec := coached(t) // StuckAfter 300 ms
	c := inData(t, sb)
	for _, line := range strings.SplitAfter(goodMessage, "\r\n") {
		c.write(line)
		time.Sleep(400 * time.Millisecond)
	}
	c.write(".\r\n")
	c.reply("250")
	c.cmd("QUIT", "221")
	card := rec.card(t, 1)
	if len(card.Mistakes) != 0 || len(card.Warnings) != 0 || card.Failed {
		t.Errorf("a slow correct client's report card: %+v", card)
	}
	made, withdrawn := rec.kinds(1, DiagnosisMade), rec.kinds(1, DiagnosisWithdrawn)
	if len(made) != len(withdrawn) {
		t.Errorf("%d diagnoses made, %d withdrawn", len(made), len(withdrawn))
	}
	for _, e := range withdrawn {
		if e.Diagnosis.Rule != "stuck_in_data" {
			t.Errorf("withdrawn %+v", e.Diagnosis)
		}
	}
	// A slow TLS client on the implicit-TLS port is not waiting for a
	// greeting either.
	sb2, rec2 := coached(t)
	c2 := dial(t, sb2, studentHost+":465")
	time.Sleep(400 * time.Millisecond)
	c2.handshake()
	c2.reply("220")
	c2.cmd("EHLO student.example.org", "250")
	c2.cmd("QUIT", "221")
	card2 := rec2.card(t, 1)
	if len(card2.Mistakes) != 0 || !slices.Contains(card2.Good, "implicit TLS") {
		t.Errorf("a slow implicit-TLS client's report card: %+v", card2)
	}
}

// TestCoachFailedSessionExplained: a session that fails for a reason no
// rule names does not get "mistakes: none": the report card says it
// failed, with the last refused command and its reply.
func TestCoachFailedSessionExplained(t *testing.T) {
	_, pass := PracticeCredentials("postfix")
	sb, rec := coached(t)
	c := greeted(t, sb)
	c.cmd("AUTH LOGIN", "334")
	c.cmd(b64("student@example.edu"), "334")
	c.cmd(b64(pass+"-wrong"), "535")
	c.cmd("QUIT", "221")
	card := rec.card(t, 1)
	if !card.Failed || !card.Unexplained || card.LastRefused == nil ||
		card.LastRefused.Command != "AUTH LOGIN" || card.LastRefused.Code != 535 {
		t.Errorf("report card %+v (last refused %+v)", card, card.LastRefused)
	}
	// A refusal after the last delivery: the session ended failing (its
	// last transaction went nowhere).
	sb2, rec2 := coached(t)
	c2 := inData(t, sb2)
	c2.write(goodMessage + ".\r\n")
	c2.reply("250")
	c2.cmd("RCPT TO:<nobody@example.edu>", "503")
	c2.cmd("QUIT", "221")
	if card := rec2.card(t, 1); !card.Failed || card.LastRefused.Code != 503 {
		t.Errorf("refusal after the delivery: %+v", card)
	}
	// A delivery after the refusal: a session that recovered.
	sb3, rec3 := coached(t)
	c3 := loggedIn(t, sb3)
	c3.cmd("RCPT TO:<nobody@example.edu>", "503")
	c3.cmd("MAIL FROM:<student@example.edu>", "250")
	c3.cmd("RCPT TO:<friend@example.edu>", "250")
	c3.cmd("DATA", "354")
	c3.write(goodMessage + ".\r\n")
	c3.reply("250")
	c3.cmd("QUIT", "221")
	if card := rec3.card(t, 1); card.Failed || card.Delivered != 1 || !slices.Equal(card.Recipients, []string{"friend@example.edu"}) {
		t.Errorf("recovered session: %+v", card)
	}
}

// TestCoachNewlineUserShown: base64 of a user name and its newline is
// base64: the transcript shows the name and says what was encoded, never
// "(not base64)", and the coach does not call it a raw user name.
func TestCoachNewlineUserShown(t *testing.T) {
	user, pass := PracticeCredentials("postfix")
	sb, rec := coached(t)
	c := greeted(t, sb)
	c.cmd("AUTH LOGIN", "334")
	c.cmd(b64(user+"\n"), "334")
	c.cmd(b64(pass), "235")
	c.cmd("QUIT", "221")
	rec.card(t, 1)
	var users []string
	for _, e := range rec.kinds(1, LineReceived) {
		if e.User != "" {
			users = append(users, e.User)
		}
	}
	if !slices.Equal(users, []string{user + " (with a newline encoded)"}) {
		t.Errorf("user names shown %q", users)
	}
	if got := rules(rec.diagnoses(1)); len(got) != 0 {
		t.Errorf("mistakes %q", got)
	}
}
