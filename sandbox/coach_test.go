package sandbox

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// The coach's tests drive a student's raw-socket client byte for byte:
// each mistake students make, the diagnosis it must get, and the same
// session done right, which must get none.

// coached is a sandbox with the coach on and short waits.
func coached(t *testing.T) (*Sandbox, *recorder) {
	t.Helper()
	rec := &recorder{}
	sb := newTestSandbox(t, Options{Explain: true, Observer: rec.observe,
		PregreetWait: 100 * time.Millisecond, StuckAfter: 300 * time.Millisecond})
	return sb, rec
}

// card waits for connection conn's report card.
func (r *recorder) card(t *testing.T, conn int64) *ReportCard {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if ev := r.kinds(conn, ReportCardMade); len(ev) > 0 {
			return ev[0].Report
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no report card for connection %d", conn)
	return nil
}

func (r *recorder) diagnoses(conn int64) []Diagnosis {
	var out []Diagnosis
	for _, e := range r.kinds(conn, DiagnosisMade) {
		out = append(out, *e.Diagnosis)
	}
	return out
}

// rules are the rules of the diagnoses that are mistakes (not warnings),
// each once, sorted.
func rules(ds []Diagnosis) []string {
	var out []string
	for _, d := range ds {
		if d.Severity == Mistake && !slices.Contains(out, d.Rule) {
			out = append(out, d.Rule)
		}
	}
	sort.Strings(out)
	return out
}

const (
	studentHost = "mail.example.edu"
	goodMessage = "From: <student@example.edu>\r\nTo: <friend@example.edu>\r\nDate: Mon, 27 Mar 2023 18:17:53 +0000\r\nSubject: hi\r\n\r\nHello.\r\n..A dotted line.\r\n"
)

// greeted is a client past the greeting, EHLO, STARTTLS and EHLO again.
func greeted(t *testing.T, sb *Sandbox) *testClient {
	c := dial(t, sb, studentHost+":587")
	c.reply("220")
	c.cmd("EHLO student.example.org", "250")
	c.cmd("STARTTLS", "220")
	c.handshake()
	c.cmd("EHLO student.example.org", "250")
	return c
}

func loggedIn(t *testing.T, sb *Sandbox) *testClient {
	c := greeted(t, sb)
	user, pass := PracticeCredentials("postfix")
	c.cmd("AUTH LOGIN", "334")
	c.cmd(b64(user), "334")
	c.cmd(b64(pass), "235")
	return c
}

func inData(t *testing.T, sb *Sandbox) *testClient {
	c := loggedIn(t, sb)
	c.cmd("MAIL FROM:<student@example.edu>", "250")
	c.cmd("RCPT TO:<friend@example.edu>", "250")
	c.cmd("DATA", "354")
	return c
}

func TestCoachCorrectClient(t *testing.T) {
	sb, rec := coached(t)
	c := inData(t, sb)
	c.write(goodMessage + ".\r\n")
	c.reply("250")
	c.cmd("QUIT", "221")
	card := rec.card(t, 1)
	if d := rec.diagnoses(1); len(d) != 0 {
		t.Errorf("a correct client got diagnoses: %+v", d)
	}
	want := []string{"STARTTLS", "EHLO again after STARTTLS", "AUTH", "message delivered", "QUIT"}
	if !slices.Equal(card.Good, want) || len(card.Mistakes) != 0 {
		t.Errorf("report card %+v, want good %q and no mistakes", card, want)
	}
	// The learner sees the user name, never the password.
	var users []string
	for _, e := range rec.kinds(1, LineReceived) {
		if e.User != "" {
			users = append(users, e.User)
		}
	}
	if !slices.Equal(users, []string{"student@example.edu"}) {
		t.Errorf("user names shown %q", users)
	}
}

func TestCoachMistakes(t *testing.T) {
	user, pass := PracticeCredentials("postfix")
	for _, tc := range []struct {
		name   string
		client func(t *testing.T, sb *Sandbox)
		want   []string
		detail string // a diagnosis detail must contain this
	}{
		{"bare LF in commands", func(t *testing.T, sb *Sandbox) {
			c := dial(t, sb, studentHost+":25")
			c.reply("220")
			c.write("EHLO student.example.org\n")
			c.reply("250")
			c.write("QUIT\n")
			c.reply("221")
		}, []string{"bare_lf_command"}, "1"},
		{"bare CR in a command", func(t *testing.T, sb *Sandbox) {
			c := dial(t, sb, studentHost+":25")
			c.reply("220")
			c.write("NOOP\rNOOP\r\n")
			c.reply("250")
			c.cmd("QUIT", "221")
		}, []string{"bare_cr_command"}, "1"},
		{"bare LF in the message", func(t *testing.T, sb *Sandbox) {
			c := inData(t, sb)
			c.write(strings.ReplaceAll(goodMessage, "\r\n", "\n") + ".\r\n")
			c.reply("250")
			c.cmd("QUIT", "221")
		}, []string{"bare_lf_data"}, "1"},
		{"STARTTLS and EHLO in one write", func(t *testing.T, sb *Sandbox) {
			c := dial(t, sb, studentHost+":587")
			c.reply("220")
			c.cmd("EHLO student.example.org", "250")
			c.write("STARTTLS\r\nEHLO student.example.org\r\n")
			c.reply("220")
			c.conn.Close() // the student's client hangs, then gives up
		}, []string{"after_starttls"}, "EHLO"},
		{"plaintext where the handshake belongs", func(t *testing.T, sb *Sandbox) {
			c := dial(t, sb, studentHost+":587")
			c.reply("220")
			c.cmd("EHLO student.example.org", "250")
			c.cmd("STARTTLS", "220")
			c.write("EHLO student.example.org\r\n")
			c.expectClosed()
		}, []string{"tls_handshake_plaintext"}, "EHLO"},
		{"everything in one write", func(t *testing.T, sb *Sandbox) {
			c := greeted(t, sb)
			c.write("AUTH LOGIN\r\n" + b64(user) + "\r\n" + b64(pass) + "\r\nMAIL FROM:<student@example.edu>\r\nRCPT TO:<friend@example.edu>\r\nDATA\r\n" + goodMessage + ".\r\n")
			for _, code := range []string{"334", "334", "235", "250", "250", "354", "250"} {
				c.reply(code)
			}
			c.cmd("QUIT", "221")
		}, []string{"before_334", "before_354", "pipelined_after_last"}, "bytes of the message"},
		{"pipelined without PIPELINING", func(t *testing.T, sb *Sandbox) {
			c := dial(t, sb, studentHost+":25")
			c.reply("220")
			c.cmd("HELO student.example.org", "250") // HELO announces nothing
			c.write("MAIL FROM:<a@example.org>\r\nRCPT TO:<student@example.edu>\r\n")
			c.reply("250")
			c.reply("250")
			c.cmd("QUIT", "221")
		}, []string{"pipelined_unannounced"}, "RCPT"},
		{"before the greeting", func(t *testing.T, sb *Sandbox) {
			c := dial(t, sb, studentHost+":25")
			c.write("EHLO student.example.org\r\n")
			c.reply("220")
			c.reply("250")
			c.cmd("QUIT", "221")
		}, []string{"before_greeting"}, "EHLO"},
		{"message not ended by a dot", func(t *testing.T, sb *Sandbox) {
			c := inData(t, sb)
			c.write(goodMessage)
			time.Sleep(600 * time.Millisecond) // the student's client waits for a 250
			c.conn.Close()
		}, []string{"closed_in_data", "stuck_in_data"}, "the last one"},
		{"QUIT inside the message", func(t *testing.T, sb *Sandbox) {
			c := inData(t, sb)
			c.write(goodMessage + "QUIT\r\n")
			c.conn.Close()
		}, []string{"quit_in_data"}, "QUIT"},
		{"user name not base64", func(t *testing.T, sb *Sandbox) {
			c := greeted(t, sb)
			c.cmd("AUTH LOGIN", "334")
			c.cmd(user, "535")
			c.cmd(b64(pass), "500") // the password, read as a command
			c.cmd("QUIT", "221")
		}, []string{"auth_answer_after_refusal", "auth_not_base64"}, user},
		{"raw user name that is base64 by chance", func(t *testing.T, sb *Sandbox) {
			c := greeted(t, sb)
			c.cmd("AUTH LOGIN", "334")
			c.cmd("test", "334")
			c.cmd("*", "501")
			c.cmd("QUIT", "221")
		}, []string{"auth_raw_username"}, "test"},
		{"no EHLO after STARTTLS", func(t *testing.T, sb *Sandbox) {
			c := dial(t, sb, "smtp.office365.com:587")
			c.reply("220")
			c.cmd("EHLO student.example.org", "250")
			c.cmd("STARTTLS", "220")
			c.host = "smtp.office365.com"
			c.handshake()
			c.cmd("AUTH LOGIN", "503")
			c.cmd(b64("someone@contoso.com"), "5")
			c.cmd(b64("practice-password"), "5")
			c.cmd("QUIT", "221")
		}, []string{"auth_answer_after_refusal", "no_ehlo_after_starttls"}, "AUTH"},
		{"no EHLO after STARTTLS, raw user name, base64 password", func(t *testing.T, sb *Sandbox) {
			c := dial(t, sb, "smtp.office365.com:587")
			c.reply("220")
			c.cmd("EHLO student.example.org", "250")
			c.cmd("STARTTLS", "220")
			c.host = "smtp.office365.com"
			c.handshake()
			c.cmd("AUTH LOGIN", "503")
			c.cmd("someone@contoso.com", "5")
			c.cmd(b64("practice-password"), "5")
			c.cmd("QUIT", "221")
		}, []string{"auth_answer_after_refusal", "no_ehlo_after_starttls"}, "AUTH"},
		{"AUTH before STARTTLS", func(t *testing.T, sb *Sandbox) {
			c := dial(t, sb, studentHost+":587")
			c.reply("220")
			c.cmd("EHLO student.example.org", "250")
			c.cmd("AUTH LOGIN", "530")
			c.cmd("MAIL FROM:<student@example.edu>", "530")
			c.cmd("QUIT", "221")
		}, []string{"before_starttls"}, "AUTH"},
		{"MAIL FROM syntax", func(t *testing.T, sb *Sandbox) {
			c := loggedIn(t, sb)
			c.cmd("MAIL FROM: student@example.edu", "250")
			c.cmd("RCPT TO:<friend@example.edu> FOO=BAR", "555")
			c.cmd("QUIT", "221")
		}, []string{"mail_missing_brackets", "mail_space_after_colon", "mail_unknown_parameter"}, "FOO=BAR"},
		{"message content", func(t *testing.T, sb *Sandbox) {
			c := inData(t, sb)
			c.write("Subject: no from, no date\r\nthis is no header\r\n.hidden\r\n" + strings.Repeat("x", 1200) + "\r\nna\xefve\r\n.\r\n")
			c.reply("250")
			c.cmd("QUIT", "221")
		}, []string{"dot_not_doubled", "eight_bit", "line_over_998", "missing_from", "no_blank_line"}, "1200 octets"},
		{"closed without QUIT", func(t *testing.T, sb *Sandbox) {
			c := dial(t, sb, studentHost+":25")
			c.reply("220")
			c.cmd("EHLO student.example.org", "250")
			c.conn.Close()
		}, []string{"no_quit"}, ""},
		{"closed without QUIT after a confirmed message (as nodemailer does)", func(t *testing.T, sb *Sandbox) {
			c := inData(t, sb)
			c.write(goodMessage + ".\r\n")
			c.reply("250")
			c.conn.Close()
		}, nil, ""},
		{"QUIT before the message was confirmed", func(t *testing.T, sb *Sandbox) {
			c := inData(t, sb)
			c.write(goodMessage + ".\r\nQUIT\r\n")
			c.reply("250")
			c.reply("221")
		}, []string{"quit_before_confirm"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb, rec := coached(t)
			tc.client(t, sb)
			card := rec.card(t, 1)
			// Warnings, where a case has them: not mistakes.
			warn := map[string][]string{"message content": {"missing_date"}}[tc.name]
			checkCoached(t, rec, card, tc.want, warn, tc.detail)
			sweep(t, rec, pass)
		})
	}
}

// checkCoached checks connection 1's diagnoses and report card: the
// mistakes and warnings wanted, each rule's advice and RFC, a detail that
// mentions detail, and no "unexplained" failure where there are mistakes.
func checkCoached(t *testing.T, rec *recorder, card *ReportCard, want, warn []string, detail string) {
	t.Helper()
	ds := rec.diagnoses(1)
	if got := rules(ds); !slices.Equal(got, want) {
		t.Errorf("mistakes %q, want %q (%+v)", got, want, ds)
	}
	if got := card.Rules(); !slices.Equal(got, want) {
		t.Errorf("report card mistakes %q, want %q", got, want)
	}
	if got := card.WarningRules(); !slices.Equal(got, warn) {
		t.Errorf("report card warnings %q, want %q", got, warn)
	}
	var details []string
	for _, d := range ds {
		details = append(details, d.Detail)
		a, ok := AdviceFor(d.Rule)
		if !ok || d.RFC != a.RFC || d.RFC == "" {
			t.Errorf("rule %s: RFC %q, advice %+v", d.Rule, d.RFC, a)
		}
	}
	if !strings.Contains(strings.Join(details, "\n"), detail) {
		t.Errorf("no diagnosis detail mentions %q: %q", detail, details)
	}
	if len(want) > 0 && card.Unexplained {
		t.Errorf("a session with mistakes is called unexplained: %+v", card)
	}
}

// sweep fails if any event holds the password, or its base64 (PLAIN or
// LOGIN form), anywhere.
func sweep(t *testing.T, rec *recorder, pass string) {
	t.Helper()
	user, _ := PracticeCredentials("postfix")
	secrets := []string{pass, b64(pass), plain(user, pass),
		base64.StdEncoding.EncodeToString([]byte(user + "\x00" + pass))}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, e := range rec.events {
		text := fmt.Sprintf("%s %q %s %v", e.Line, e.Lines, e.User, e.Err)
		if e.Diagnosis != nil {
			text += e.Diagnosis.Detail
		}
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("event %v holds a secret: %s", e.Kind, text)
			}
		}
	}
}

// TestAuthAftermathMasked: a password must not leak with the coach off either. After
// a refused AUTH, the client's answers arrive as commands; they are
// credentials and are masked.
func TestAuthAftermathMasked(t *testing.T) {
	user, pass := PracticeCredentials("postfix")
	rec := &recorder{}
	sb := newTestSandbox(t, Options{Observer: rec.observe})
	// Refused before TLS (530), answers sent anyway.
	c := dial(t, sb, studentHost+":587")
	c.reply("220")
	c.cmd("EHLO student.example.org", "250")
	c.write("AUTH LOGIN\r\n" + b64(user) + "\r\n" + b64(pass) + "\r\n")
	c.reply("530")
	c.reply("500")
	c.reply("500")
	// A malformed user name, then the password as a command.
	c.cmd("STARTTLS", "220")
	c.handshake()
	c.cmd("EHLO student.example.org", "250")
	c.cmd("AUTH LOGIN", "334")
	c.cmd(user, "535")
	c.cmd(b64(pass), "500")
	// AUTH PLAIN with a blob, refused as already authenticated? No: a bad
	// mechanism, then the blob on its own line.
	c.cmd("AUTH FOO", "535")
	c.cmd(plain(user, pass), "500")
	c.cmd("QUIT", "221")
	rec.waitClosed(t, 1)
	sweep(t, rec, pass)
	var masked int
	for _, e := range rec.kinds(1, LineReceived) {
		if e.Secret && e.Line == secretMask {
			masked++
		}
	}
	if masked < 4 {
		t.Errorf("%d lines masked, want at least 4", masked)
	}
	// The harmless QUIT and the mechanism stay readable.
	var lines []string
	for _, e := range rec.kinds(1, LineReceived) {
		lines = append(lines, e.Line)
	}
	if !slices.Contains(lines, "QUIT") || !slices.Contains(lines, "AUTH FOO") {
		t.Errorf("lines %q", lines)
	}
}

// TestCoachMessageShown: in explain mode the transcript shows the header,
// the first and last body lines, and the count of the others before the
// final dot.
func TestCoachMessageShown(t *testing.T) {
	sb, rec := coached(t)
	c := inData(t, sb)
	var body strings.Builder
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&body, "line %d\r\n", i)
	}
	c.write("From: <student@example.edu>\r\nDate: Mon, 27 Mar 2023 18:17:53 +0000\r\n\r\n" + body.String() + ".\r\n")
	c.reply("250")
	c.cmd("QUIT", "221")
	rec.card(t, 1)
	var got []string
	seenData := false
	rec.mu.Lock()
	for _, e := range rec.events {
		switch {
		case e.Kind == LineReceived && e.Line == "DATA":
			seenData = true
		case !seenData:
		case e.Kind == MessageLine:
			got = append(got, e.Line)
		case e.Kind == Note:
			got = append(got, "("+e.Line+")")
		case e.Kind == LineReceived:
			got = append(got, e.Line)
		}
	}
	rec.mu.Unlock()
	want := []string{"From: <student@example.edu>", "Date: Mon, 27 Mar 2023 18:17:53 +0000", "",
		"line 1", "line 2", "line 3", "(4 more message lines not shown)", "line 8", "line 9", "line 10", ".", "QUIT"}
	if !slices.Equal(got, want) {
		t.Errorf("explain transcript of the message:\n got %q\nwant %q", got, want)
	}
}

// TestCoachShowsUserNames: the user name, decoded, from every AUTH form
// that carries one; never the password.
func TestCoachShowsUserNames(t *testing.T) {
	user, pass := PracticeCredentials("postfix")
	sb, rec := coached(t)
	c := greeted(t, sb)
	c.cmd("AUTH PLAIN "+plain(user, pass+"x"), "535")
	c.cmd("AUTH LOGIN "+b64("jane@example.org"), "334")
	c.cmd(b64(pass+"y"), "535")
	c.cmd("AUTH LOGIN", "334")
	c.cmd(b64(pass), "334") // the password where the user name belongs
	c.cmd("*", "501")
	c.cmd("QUIT", "221")
	rec.card(t, 1)
	var users []string
	for _, e := range rec.kinds(1, LineReceived) {
		if e.User != "" {
			users = append(users, e.User)
		}
	}
	if !slices.Equal(users, []string{user, "jane@example.org"}) {
		t.Errorf("user names shown %q", users)
	}
	sweep(t, rec, pass)
}

// TestAnyUserLogsIn: any user name logs in with the practice password,
// as serve's banner says; a wrong password does not.
func TestAnyUserLogsIn(t *testing.T) {
	sb := newTestSandbox(t, Options{})
	for _, host := range []string{"smtp.office365.com", "smtp.gmail.com", studentHost} {
		_, pass := PracticeCredentials(ProfileForHost(host))
		c := dial(t, sb, host+":587")
		c.host = host
		c.reply("220")
		c.cmd("EHLO student.example.org", "250")
		c.cmd("STARTTLS", "220")
		c.handshake()
		c.cmd("EHLO student.example.org", "250")
		for _, try := range []struct{ pass, code string }{{pass + "x", "535"}, {pass, "235"}} {
			c.cmd("AUTH LOGIN", "334")
			c.cmd(b64("jane.doe@miners.utep.edu"), "334")
			c.cmd(b64(try.pass), try.code)
		}
	}
}

// TestSizeHonoured: a profile accepts what its SIZE announces; Office 365
// once refused 70 MB under its 150 MiB SIZE.
func TestSizeHonoured(t *testing.T) {
	sb := newTestSandbox(t, Options{})
	c := login(t, sb, "smtp.office365.com")
	c.conn.SetDeadline(time.Now().Add(60 * time.Second))
	const size = 70_000_000
	c.cmd(fmt.Sprintf("MAIL FROM:<student@contoso.onmicrosoft.com> SIZE=%d", size), "250")
	c.cmd("RCPT TO:<friend@example.net>", "250")
	c.cmd("DATA", "354")
	line := strings.Repeat("x", 998) + "\r\n"
	block := strings.Repeat(line, 1000)
	c.write("Subject: big\r\n\r\n")
	for n := 0; n < size; n += len(block) {
		c.write(block)
	}
	c.write(".\r\n")
	c.reply("250")
}

// TestEnvelopeSaved: each saved .eml has its envelope beside it, and the
// .eml itself is only what the client sent.
func TestEnvelopeSaved(t *testing.T) {
	dir := t.TempDir()
	sb := newTestSandbox(t, Options{SaveDir: dir})
	c := login(t, sb, studentHost)
	c.cmd("MAIL FROM:<student@example.edu>", "250")
	c.cmd("RCPT TO:<friend@example.edu>", "250")
	c.cmd("RCPT TO:<other@example.net>", "250")
	c.cmd("DATA", "354")
	c.write(goodMessage + ".\r\n")
	c.reply("250")
	emls, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(emls) != 1 {
		t.Fatalf("%d messages saved", len(emls))
	}
	if got, _ := os.ReadFile(emls[0]); string(got) != strings.Replace(goodMessage, "..A", ".A", 1) {
		t.Errorf("saved %q", got)
	}
	data, err := os.ReadFile(strings.TrimSuffix(emls[0], ".eml") + ".envelope.json")
	if err != nil {
		t.Fatal(err)
	}
	var env Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatal(err)
	}
	if env.Message != filepath.Base(emls[0]) || env.MailFrom != "student@example.edu" ||
		!slices.Equal(env.RcptTo, []string{"friend@example.edu", "other@example.net"}) ||
		env.AuthUser != "student@example.edu" || !strings.HasPrefix(env.TLS, "TLS 1.") ||
		env.Helo != "client.example.org" || env.Profile != "postfix" || env.Size != int64(len(goodMessage)-1) {
		t.Errorf("envelope %s", data)
	}
}
