package sandbox

import (
	"bytes"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
)

// recordings collects Options.Record's scripts.
type recordings struct {
	mu   sync.Mutex
	list []*Recording
}

func (r *recordings) add(rec *Recording) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, rec)
}

func (r *recordings) wait(t *testing.T, n int) []*Recording {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		if len(r.list) >= n {
			defer r.mu.Unlock()
			return r.list
		}
		r.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("fewer than %d recordings", n)
	return nil
}

func formatted(t *testing.T, rec *Recording) string {
	t.Helper()
	var b bytes.Buffer
	if err := dsl.Format(&b, rec.Script); err != nil {
		t.Fatal(err)
	}
	// What Format prints parses back and checks.
	s, err := dsl.Parse("recorded.smtp", b.Bytes())
	if err != nil {
		t.Fatalf("recording does not parse: %v\n%s", err, b.String())
	}
	if _, err := dsl.Check(s); err != nil {
		t.Fatalf("recording does not check: %v\n%s", err, b.String())
	}
	return b.String()
}

func TestRecordSession(t *testing.T) {
	recs := &recordings{}
	sb := newTestSandbox(t, Options{Record: recs.add})
	c := inData(t, sb)
	c.write(goodMessage + ".\r\n")
	c.reply("250")
	c.cmd("QUIT", "221")
	got := formatted(t, recs.wait(t, 1)[0])
	want := `connect "mail.example.edu:587"
expect 220 "mail.example.edu ESMTP Postfix"
send "EHLO student.example.org"
expect 250 "STARTTLS"
starttls
send "EHLO student.example.org"
expect 250 "AUTH"
auth login "${SMTP_USER}" "${SMTP_PASS}"
expect 235 "Authentication successful"
send "MAIL FROM:<student@example.edu>"
expect 250 "Ok"
send "RCPT TO:<friend@example.edu>"
expect 250 "Ok"
send "DATA"
expect 354 "End data with"
message """
From: <student@example.edu>
To: <friend@example.edu>
Date: Mon, 27 Mar 2023 18:17:53 +0000
Subject: hi

Hello.
.A dotted line.
"""
expect 250 "Ok: queued as"
quit
`
	if got != want {
		t.Errorf("recording:\n%s\nwant:\n%s", got, want)
	}
	if n := sb.memoryInUse.Load(); n != 0 {
		t.Errorf("%d bytes of the memory budget still held", n)
	}
}

// TestRecordBounded: a client that never stops does not grow the
// recording past its bound.
func TestRecordBounded(t *testing.T) {
	recs := &recordings{}
	sb := newTestSandbox(t, Options{Record: recs.add})
	sb.recordBound = 64 << 10 // 4 MiB in production; the same code path
	c := dial(t, sb, studentHost+":25")
	c.conn.SetDeadline(time.Now().Add(60 * time.Second))
	c.reply("220")
	const n = 2_000 // (4 + 64) bytes each: past the 64 KiB bound
	go func() {
		// Straight to the socket: the test client's transcript would
		// hold all of it.
		batch := strings.Repeat("NOOP\r\n", 1000)
		for i := 0; i < n/1000; i++ { // n is a multiple of 1000
			c.conn.Write([]byte(batch))
		}
		c.conn.Write([]byte("QUIT\r\n"))
	}()
	for i := 0; i <= n; i++ {
		line, err := c.r.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "250 ") && !strings.HasPrefix(line, "221 ") {
			t.Fatalf("reply %d: %q %v", i, line, err)
		}
	}
	rec := recs.wait(t, 1)[0]
	if len(rec.Script.Steps) > int(sb.recordBound/64)+2 {
		t.Errorf("%d steps recorded", len(rec.Script.Steps))
	}
	if !strings.Contains(formatted(t, rec), "over the recording's memory bound") {
		t.Errorf("no note that the recording stopped")
	}
	if n := sb.memoryInUse.Load(); n != 0 {
		t.Errorf("%d bytes of the memory budget still held", n)
	}
}

// TestRecordMemoryAccounted: what a recording charges to the memory
// budget is what its steps really hold on the heap (a recording once
// charged a sixteenth of it, and 20 clients sending NOOPs took 660 MB
// under a 32 MiB budget).
func TestRecordMemoryAccounted(t *testing.T) {
	sb := newTestSandbox(t, Options{Record: func(*Recording) {}, MaxMemoryBytes: 1 << 40})
	sb.recordBound = 1 << 40
	for _, tc := range []struct {
		name  string
		steps func(ss *session)
	}{
		{"NOOP and its reply", func(ss *session) {
			ss.recordLine("NOOP", 4)
			ss.recordReply(250, []string{"250 2.0.0 Ok"}, "noop")
		}},
		{"a long RCPT and its reply", func(ss *session) {
			line := "RCPT TO:<" + strings.Repeat("a", 200) + "@example.edu>"
			ss.recordLine(line, len(line))
			ss.recordReply(250, []string{"250 2.1.5 Ok"}, "rcpt_ok")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ss := &session{sb: sb, rec: &sessionRecorder{sb: sb}}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range 20_000 {
				tc.steps(ss)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			ratio := float64(heap) / float64(ss.rec.held)
			t.Logf("the steps hold %d bytes, the recording charged %d (ratio %.2f)", heap, ss.rec.held, ratio)
			if ratio > 1.1 || ratio < 0.4 {
				t.Errorf("the steps hold %d bytes, the recording charged %d (ratio %.2f)", heap, ss.rec.held, ratio)
			}
			runtime.KeepAlive(ss.rec.steps)
			ss.rec.release()
		})
	}
}

// TestRecordVariablesOnlyInAuth: the recording puts ${SMTP_USER} and
// ${SMTP_PASS} where credentials go, the auth step, and nowhere else: a
// message that quotes the password must not become one that mails out
// the replayer's own.
func TestRecordVariablesOnlyInAuth(t *testing.T) {
	user, pass := PracticeCredentials("postfix")
	recs := &recordings{}
	sb := newTestSandbox(t, Options{Record: recs.add})
	c := inData(t, sb)
	c.write("From: <" + user + ">\r\nSubject: my password\r\n\r\nIt is " + pass + ".\r\n.\r\n")
	c.reply("250")
	c.cmd("QUIT", "221")
	got := formatted(t, recs.wait(t, 1)[0])
	if n := strings.Count(got, "${SMTP_PASS}"); n != 1 || !strings.Contains(got, `auth login "${SMTP_USER}" "${SMTP_PASS}"`) {
		t.Errorf("${SMTP_PASS} %d times, want once, in the auth step:\n%s", n, got)
	}
	if strings.Count(got, "${SMTP_USER}") != 1 || !strings.Contains(got, "It is "+pass+".") || !strings.Contains(got, "MAIL FROM:<"+user+">") {
		t.Errorf("the message or the envelope was rewritten:\n%s", got)
	}
}

// TestRecordMalformedAuth: a malformed AUTH LOGIN exchange (the user name
// not encoded) is recorded line by line with stand-ins that hold no
// credential, and checks: no note standing where a reply is owed.
func TestRecordMalformedAuth(t *testing.T) {
	user, pass := PracticeCredentials("postfix")
	recs := &recordings{}
	sb := newTestSandbox(t, Options{Record: recs.add})
	c := greeted(t, sb)
	c.cmd("AUTH LOGIN", "334")
	c.cmd(user, "535")
	c.cmd(b64(pass), "500")
	c.cmd("QUIT", "221")
	got := formatted(t, recs.wait(t, 1)[0])
	for _, want := range []string{"send \"AUTH LOGIN\"\nexpect 334\nsend \"" + standInNotB64 + "\"\nexpect 535", "send \"********\"\nexpect 500"} {
		if !strings.Contains(got, want) {
			t.Errorf("recording lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, user) || strings.Contains(got, b64(pass)) {
		t.Errorf("recording holds a credential:\n%s", got)
	}
	// docs/coach.md shows this recording.
	doc, err := os.ReadFile("../docs/coach.md")
	if err != nil {
		t.Fatal(err)
	}
	_, example, _ := strings.Cut(string(doc), "```\nnote \"recorded: an AUTH LOGIN exchange")
	example, _, _ = strings.Cut("note \"recorded: an AUTH LOGIN exchange"+example, "```")
	if !strings.Contains(got, example) {
		t.Errorf("docs/coach.md's example:\n%s\nis not in the recording:\n%s", example, got)
	}
}
