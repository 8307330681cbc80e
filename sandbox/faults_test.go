package sandbox

import (
	"strings"
	"testing"

	"github.com/smtprun/smtprun/sandbox/fault"
)

// TestFaultPlansInSession: plans answer in place of the profile, with the
// profile's placeholders filled in (a catalogue reply's {session}, a
// literal's {addr}), and the plans can change while the sandbox serves.
func TestFaultPlansInSession(t *testing.T) {
	plans := &fault.Plans{}
	sb := newTestSandbox(t, Options{Faults: plans})
	must := func(s string) fault.Plan {
		p, err := fault.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	plans.Set(must("rcpt#2=550 5.1.1 <{addr}>: No such user"), must("message=gmail.auth.bad_credentials"))
	user, _ := PracticeCredentials("gmail")
	c := login(t, sb, "smtp.gmail.com")
	c.cmd("MAIL FROM:<"+user+">", "250")
	c.cmd("RCPT TO:<a@example.com>", "250")
	c.expect1("RCPT TO:<b@example.com>", "550 5.1.1 <b@example.com>: No such user")
	c.cmd("DATA", "354")
	c.send("Subject: x\r\n\r\nhi\r\n.")
	got := c.reply("535")
	if len(got) != 2 || strings.Contains(got[1], "{") || !strings.HasSuffix(got[1], " - gsmtp") {
		t.Errorf("catalogue reply: %q", got)
	}
	// Cleared while the connection stays: the next message goes through.
	plans.Clear()
	c.cmd("MAIL FROM:<"+user+">", "250")
	c.cmd("RCPT TO:<b@example.com>", "250")
	c.cmd("DATA", "354")
	c.send("Subject: x\r\n\r\nhi\r\n.")
	c.reply("250")
	// Set again: "make the next RCPT fail", then it is spent.
	plans.Set(must("rcpt#1=452 4.2.2 Try later,close"))
	c.cmd("MAIL FROM:<"+user+">", "250")
	c.expect1("RCPT TO:<b@example.com>", "452 4.2.2 Try later")
	c.expectClosed()
	if l := plans.List(); len(l) != 1 || !l[0].Spent {
		t.Errorf("List after firing: %+v", l)
	}
}

// expect1 sends a line and checks its one-line reply exactly.
func (c *testClient) expect1(line, want string) {
	c.t.Helper()
	c.send(line)
	c.expect(want)
}
