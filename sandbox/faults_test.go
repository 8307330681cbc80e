package sandbox

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/internal/smtp"
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

// TestGreetingRefusedByPlan: a connect plan answers the greeting. After a
// 554 the session stays open, every command but QUIT gets 503 and the
// client that sent it is told it never checked the greeting; a client
// that says QUIT at once is told nothing. A 421 hangs up. Either way the
// report card names the greeting as what failed the session.
func TestGreetingRefusedByPlan(t *testing.T) {
	plans := &fault.Plans{}
	rec := &recorder{}
	sb := newTestSandbox(t, Options{Faults: plans, Explain: true, Observer: rec.observe, PregreetWait: 50 * time.Millisecond})
	for _, s := range []string{"connect#1=554 5.7.1 No SMTP service here", "connect#2=554 5.7.1 No SMTP service here", "connect#3=421 4.3.2 Service not available", "connect#4=554 5.7.1 No SMTP service here"} {
		p, err := fault.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		plans.Add(p)
	}

	c := dial(t, sb, studentHost+":25") // talks on
	c.reply("554")
	c.cmd("EHLO student.example.org", "503")
	c.cmd("MAIL FROM:<student@example.edu>", "503")
	c.cmd("QUIT", "221")
	c.expectClosed()
	card := rec.card(t, 1)
	if got := rules(rec.diagnoses(1)); !slices.Equal(got, []string{"ignored_greeting"}) {
		t.Errorf("the client that talked on: mistakes %q", got)
	}
	if ds := rec.diagnoses(1); len(ds) != 1 || ds[0].Detail != "EHLO" {
		t.Errorf("ignored_greeting once, naming EHLO: %+v", ds)
	}
	if !card.Failed || card.LastRefused == nil || card.LastRefused.Command != smtp.Greeting || card.LastRefused.Code != 554 {
		t.Errorf("report card: %+v (refused %+v)", card, card.LastRefused)
	}

	c = dial(t, sb, studentHost+":25") // reads the code and leaves
	c.reply("554")
	c.cmd("QUIT", "221")
	c.expectClosed()
	if card := rec.card(t, 2); len(rec.diagnoses(2)) != 0 || card.Unexplained || !card.Failed {
		t.Errorf("the client that said QUIT: diagnoses %+v, card %+v", rec.diagnoses(2), card)
	}

	c = dial(t, sb, studentHost+":25")
	c.reply("421")
	c.expectClosed()
	if card := rec.card(t, 3); len(rec.diagnoses(3)) != 0 || card.LastRefused == nil || card.LastRefused.Code != 421 {
		t.Errorf("after 421: diagnoses %+v, card %+v", rec.diagnoses(3), card)
	}

	c = dial(t, sb, studentHost+":25") // closes without QUIT, as Python's smtplib does
	c.reply("554")
	c.conn.Close()
	if card := rec.card(t, 4); len(rec.diagnoses(4)) != 0 || card.Unexplained {
		t.Errorf("the client that closed: diagnoses %+v, card %+v", rec.diagnoses(4), card)
	}

	c = dial(t, sb, studentHost+":25") // the plans are spent
	c.reply("220")
	c.cmd("QUIT", "221")
}
