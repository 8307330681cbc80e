package sandbox

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a sandbox clock a test moves on; Sleep moves it at once.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
}

func (c *fakeClock) options() Options {
	return Options{Clock: c.Now, Sleep: c.Sleep}
}

// send sends one message to n recipients on a logged-in connection and
// returns the reply to its end.
func sendTo(c *testClient, from string, n int) []string {
	c.t.Helper()
	c.cmd("MAIL FROM:<"+from+">", "250")
	for i := range n {
		c.cmd(fmt.Sprintf("RCPT TO:<r%d@example.com>", i), "250")
	}
	c.cmd("DATA", "354")
	c.send("Subject: quota\r\n\r\nhello\r\n.")
	lines, err := c.readReply()
	if err != nil {
		c.t.Fatalf("reply to the message: %v\n%s", err, c.transcript.String())
	}
	return lines
}

// TestGmailDailyRecipients: 500 recipients pass, the 501st message is
// refused with Gmail's 550-5.4.5, and a day later by the sandbox's clock
// the account sends again.
func TestGmailDailyRecipients(t *testing.T) {
	clock := &fakeClock{now: testClock()}
	sb := newTestSandbox(t, clock.options())
	user, _ := PracticeCredentials("gmail")
	c := login(t, sb, "smtp.gmail.com")
	for range 5 {
		if got := sendTo(c, user, 100); !strings.HasPrefix(got[0], "250 ") {
			t.Fatalf("under the limit: %q", got)
		}
		clock.Sleep(time.Hour)
	}
	got := sendTo(c, user, 1)
	if len(got) != 3 || got[0] != "550-5.4.5 Daily user sending limit exceeded. For more information on Gmail" ||
		!strings.HasPrefix(got[2], "550 5.4.5  https://support.google.com/a/answer/166852 ") || !strings.HasSuffix(got[2], " - gsmtp") {
		t.Fatalf("over the limit: %q", got)
	}
	// 24 hours after the first message, its 100 recipients no longer count.
	clock.Sleep(19 * time.Hour)
	if got := sendTo(c, user, 100); !strings.HasPrefix(got[0], "250 ") {
		t.Fatalf("a day later: %q", got)
	}
	if got := sendTo(c, user, 1); !strings.HasPrefix(got[0], "550") {
		t.Fatalf("the second hour's recipients still count: %q", got)
	}
}

// TestOffice365Throttle: 30 messages a minute pass at once; the 31st is
// answered when the first is a minute old, by the sandbox's clock, and is
// accepted (Exchange Online delays, it does not refuse).
func TestOffice365Throttle(t *testing.T) {
	clock := &fakeClock{now: testClock()}
	sb := newTestSandbox(t, clock.options())
	user, _ := PracticeCredentials("office365")
	c := login(t, sb, "smtp.office365.com")
	for i := range 30 {
		if got := sendTo(c, user, 1); !strings.HasPrefix(got[0], "250 ") {
			t.Fatalf("message %d: %q", i+1, got)
		}
		clock.Sleep(time.Second)
	}
	if len(clock.slept) != 30 {
		t.Fatalf("the sandbox waited before message 30: %v", clock.slept[30:])
	}
	if got := sendTo(c, user, 1); !strings.HasPrefix(got[0], "250 ") {
		t.Fatalf("message 31: %q", got)
	}
	if waited := clock.slept[30:]; len(waited) != 1 || waited[0] != 30*time.Second {
		t.Errorf("message 31 waited %v, want 30s (the first message was 30 s old)", waited)
	}
}

// TestOffice365RecipientsPerDay: 10,000 recipients a day, in messages of
// 500 (Exchange's recipients per message), then 554 5.2.0.
func TestOffice365RecipientsPerDay(t *testing.T) {
	clock := &fakeClock{now: testClock()}
	sb := newTestSandbox(t, clock.options())
	user, _ := PracticeCredentials("office365")
	c := login(t, sb, "smtp.office365.com")
	rcpts := strings.Repeat("RCPT TO:<friend@example.com>\r\n", 500)
	for i := range 21 {
		// Pipelined, as Office 365 announces PIPELINING; a minute apart
		// so the throttle stays out of it.
		c.write("MAIL FROM:<" + user + ">\r\n" + rcpts + "DATA\r\n")
		for range 502 {
			c.reply("")
		}
		c.send("Subject: quota\r\n\r\nhello\r\n.")
		got := c.reply("")
		switch {
		case i < 20 && !strings.HasPrefix(got[0], "250 "):
			t.Fatalf("message %d (%d recipients so far): %q", i+1, 500*i, got)
		case i == 20 && !strings.HasPrefix(got[0], "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException;"):
			t.Fatalf("message 21, over 10,000 recipients: %q", got)
		}
		clock.Sleep(time.Minute)
	}
}

// TestOffice365ConcurrentConnections: three connections of one account
// send at once; the fourth is refused at MAIL with 432 4.3.2, and sends
// once one of the three has closed. Another account is not affected.
func TestOffice365ConcurrentConnections(t *testing.T) {
	r := &recorder{}
	sb := newTestSandbox(t, Options{Observer: r.observe})
	user, _ := PracticeCredentials("office365")
	var open []*testClient
	for range 4 {
		open = append(open, login(t, sb, "smtp.office365.com"))
	}
	for _, c := range open[:3] {
		c.cmd("MAIL FROM:<"+user+">", "250")
	}
	got := open[3].cmd("MAIL FROM:<"+user+">", "432")
	if !strings.HasPrefix(got[0], "432 4.3.2 Concurrent connections limit exceeded. Visit https://aka.ms/concurrent_sending for more information. [Hostname=") {
		t.Fatalf("the fourth connection: %q", got)
	}
	open[0].cmd("QUIT", "221")
	open[0].expectClosed()
	r.waitClosed(t, 1)
	open[3].cmd("MAIL FROM:<"+user+">", "250")

	other := dial(t, sb, "smtp.office365.com:587")
	other.reply("220")
	other.cmd("EHLO client.example.org", "250")
	other.cmd("STARTTLS", "220")
	other.handshake()
	other.cmd("EHLO client.example.org", "250")
	other.cmd("AUTH LOGIN", "334")
	other.cmd(b64("teacher@contoso.onmicrosoft.com"), "334")
	other.cmd(b64("practice-password"), "235")
	other.cmd("MAIL FROM:<teacher@contoso.onmicrosoft.com>", "250")
}

// TestNoLimits: Options.NoLimits lets a fourth connection send.
func TestNoLimits(t *testing.T) {
	sb := newTestSandbox(t, Options{NoLimits: true})
	user, _ := PracticeCredentials("office365")
	for range 4 {
		login(t, sb, "smtp.office365.com").cmd("MAIL FROM:<"+user+">", "250")
	}
}
