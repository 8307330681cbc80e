package sandbox

import (
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/smtprun/smtprun/internal/smtp"
)

// The practice password logs in with any user name, on every profile and
// with every mechanism the profile runs: a learner's script with their own
// address (auth plain "me@gmail.com" "${SMTP_PASS}") works unchanged. Any
// other password is still refused.
func TestPracticePasswordAnyUser(t *testing.T) {
	sb := newTestSandbox(t, Options{})
	n := 0
	for _, p := range Profiles() {
		host := "mail.example.edu"
		if !p.Generic {
			host = p.Hosts[0]
		}
		_, practice := PracticeCredentials(p.Name)
		user := "me@" + strings.TrimPrefix(host, "smtp.")
		prof := mustCatalog().byName[p.Name]
		for _, mech := range prof.Mechanisms {
			practice := practice
			if prof.OAuth != nil && strings.Contains(mech, "OAUTH") {
				// Only issued tokens open the account (oauth_test.go).
				practice = sb.oauth.PracticeToken(prof.OAuth, user)
			}
			for pass, want := range map[string]string{practice: "235", practice + "x": "535"} {
				authAs(t, tlsReady(t, sb, host), mech, user, pass, want)
				n++
			}
		}
	}
	if n < 2*len(Profiles()) {
		t.Errorf("only %d logins tried", n)
	}
}

// authAs runs one AUTH exchange and checks its final reply code.
func authAs(t *testing.T, c *testClient, mech, user, pass, want string) {
	t.Helper()
	switch mech {
	case "PLAIN":
		c.cmd("AUTH PLAIN "+plain(user, pass), want)
	case "LOGIN":
		c.authLogin(user, pass)
		c.reply(want)
	case "CRAM-MD5":
		lines := c.cmd("AUTH CRAM-MD5", "334")
		challenge, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(lines[0], "334 "))
		if err != nil {
			t.Fatal(err)
		}
		c.cmd(b64(smtp.CRAMMD5Response(user, []byte(pass), challenge)), want)
	case "XOAUTH2", "OAUTHBEARER":
		ir := "user=" + user + "\x01auth=Bearer " + pass + "\x01\x01"
		ack := ""
		if mech == "OAUTHBEARER" {
			ir, ack = "n,a="+user+",\x01host=h\x01port=587\x01auth=Bearer "+pass+"\x01\x01", b64("\x01")
		}
		lines := c.cmd("AUTH "+mech+" "+b64(ir), "")
		if strings.HasPrefix(lines[0], "334 ") {
			// Google's JSON error challenge, answered so the 535 follows.
			c.cmd(ack, want)
		} else if !strings.HasPrefix(lines[0], want) {
			t.Fatalf("AUTH %s: %q, want %s", mech, lines, want)
		}
	default:
		t.Fatalf("mechanism %s has no case here", mech)
	}
}

// A user with a password of their own in Options.Credentials needs that
// one; the practice password does not open their account.
func TestOwnPasswordOverridesPractice(t *testing.T) {
	sb := newTestSandbox(t, Options{Credentials: map[string]string{"Me@utep.edu": "secret"}})
	_, pass := PracticeCredentials("postfix")
	c := tlsReady(t, sb, "mail.example.edu")
	c.cmd("AUTH PLAIN "+plain("me@utep.edu", pass), "535")
	c.cmd("AUTH PLAIN "+plain("me@utep.edu", "secret"), "235")
}

// Reply events carry the code, the lines and why the session chose the
// reply, so an observer never re-parses text.
func TestReplyEvents(t *testing.T) {
	rec := &recorder{}
	sb := newTestSandbox(t, Options{Observer: rec.observe, Scenario: "mailbox-full"})
	c := tlsReady(t, sb, "smtp.gmail.com")
	c.authLogin(PracticeCredentials("gmail"))
	c.reply("235")
	c.cmd("MAIL FROM:<a@example.org>", "250")
	c.cmd("RCPT TO:<b@example.org>", "552")
	c.cmd("QUIT", "221")
	rec.waitClosed(t, 1)
	var reasons []string
	for _, e := range rec.kinds(1, ReplySent) {
		reasons = append(reasons, e.Reason)
		if len(e.Lines) == 0 || !strings.HasPrefix(e.Lines[0], strconv.Itoa(e.Code)) {
			t.Errorf("%s: code %d, lines %q", e.Reason, e.Code, e.Lines)
		}
		if e.Reason == "mailbox-full" && (e.Code != 552 || len(e.Lines) != 3) {
			t.Errorf("scenario reply: %d %q", e.Code, e.Lines)
		}
	}
	want := []string{"greeting", "ehlo", "starttls", "ehlo_tls", "auth_prompt_user", "auth_prompt_pass", "auth_ok", "mail_ok", "mailbox-full", "quit"}
	if !slices.Equal(reasons, want) {
		t.Errorf("reasons %q\nwant    %q", reasons, want)
	}
}
