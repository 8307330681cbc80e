package sandbox_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/sandbox"
)

// TestRecordReplaysRandomSessions is the recorder's promise as a
// property: random client sessions, mistakes included (bare LF, raw and
// malformed AUTH answers, wrong passwords, a message after a refused DATA,
// dot lines, STARTTLS twice), recorded by one sandbox and replayed by the
// engine against another, get the same replies, code for code.
func TestRecordReplaysRandomSessions(t *testing.T) {
	n := 60
	if testing.Short() {
		n = 15
	}
	if s := os.Getenv("SMTPRUN_REPLAY_SESSIONS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	for seed := range n {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			checkReplay(t, uint64(seed))
		})
	}
}

// replies collects the codes of the replies a sandbox sent.
type replies struct {
	mu    sync.Mutex
	codes []int
	recs  []*sandbox.Recording
}

func (r *replies) observe(e sandbox.Event) {
	if e.Kind == sandbox.ReplySent {
		r.mu.Lock()
		r.codes = append(r.codes, e.Code)
		r.mu.Unlock()
	}
}

func (r *replies) record(rec *sandbox.Recording) {
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.mu.Unlock()
}

func checkReplay(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 17))
	host := []string{"mail.example.edu", "smtp.office365.com", "smtp.gmail.com"}[rng.IntN(3)]
	profile := sandbox.ProfileForHost(host)
	user, pass := sandbox.PracticeCredentials(profile)

	original := &replies{}
	sbA, err := sandbox.New(sandbox.Options{Observer: original.observe, Record: original.record})
	if err != nil {
		t.Fatal(err)
	}
	defer sbA.Close()
	steps := randomSession(t, sbA, rng, host, user, pass)

	deadline := time.Now().Add(10 * time.Second)
	for {
		original.mu.Lock()
		done := len(original.recs) > 0
		original.mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(original.recs) == 0 {
		t.Fatal("no recording")
	}
	var script bytes.Buffer
	if err := dsl.Format(&script, original.recs[0].Script); err != nil {
		t.Fatal(err)
	}
	parsed, err := dsl.Parse("recorded.smtp", script.Bytes())
	if err != nil {
		t.Fatalf("the recording does not parse: %v\n%s", err, script.String())
	}
	prog, err := dsl.Check(parsed)
	if err != nil {
		t.Fatalf("the recording does not check: %v\nclient: %q\n%s", err, steps, script.String())
	}
	for _, secret := range []string{pass, base64.StdEncoding.EncodeToString([]byte(pass))} {
		if strings.Contains(script.String(), secret) {
			t.Fatalf("the recording holds the password:\n%s", script.String())
		}
	}

	replay := &replies{}
	sbB, err := sandbox.New(sandbox.Options{Observer: replay.observe})
	if err != nil {
		t.Fatal(err)
	}
	defer sbB.Close()
	e := engine.New(engine.WithDialer(sbB), engine.WithRootCAs(sbB.RootCAs()), engine.WithTimeout(5*time.Second),
		engine.WithVars(dsl.MapVars{"SMTP_USER": user, "SMTP_PASS": pass}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := e.Run(ctx, prog); err != nil {
		t.Fatalf("the replay failed: %v\nclient: %q\n%s", err, steps, script.String())
	}
	time.Sleep(50 * time.Millisecond) // the last reply's event
	original.mu.Lock()
	replay.mu.Lock()
	defer original.mu.Unlock()
	defer replay.mu.Unlock()
	if fmt.Sprint(original.codes) != fmt.Sprint(replay.codes) {
		t.Errorf("replies differ\n  session: %v\n  replay:  %v\nclient: %q\n%s", original.codes, replay.codes, steps, script.String())
	}
}

// student is a raw-socket client that reads one reply per line it sends.
type student struct {
	t      *testing.T
	sb     *sandbox.Sandbox
	host   string
	conn   net.Conn
	r      *bufio.Reader
	closed bool
	sent   []string
}

func (s *student) write(b string) {
	s.sent = append(s.sent, b)
	if _, err := io.WriteString(s.conn, b); err != nil {
		s.closed = true
	}
}

// reply reads one reply and returns its code; 0 once the server hung up.
func (s *student) reply() int {
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			s.closed = true
			return 0
		}
		if len(line) < 4 || line[3] != '-' {
			code, _ := strconv.Atoi(line[:3])
			if code == 221 || code == 421 {
				s.closed = true
			}
			return code
		}
	}
}

func (s *student) cmd(line string) int {
	if s.closed {
		return 0
	}
	s.write(line)
	return s.reply()
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// randomSession runs one random session against sb and returns what the
// client sent.
func randomSession(t *testing.T, sb *sandbox.Sandbox, rng *rand.Rand, host, user, pass string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := sb.DialContext(ctx, "tcp", host+":587")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	s := &student{t: t, sb: sb, host: host, conn: conn, r: bufio.NewReader(conn)}
	s.reply()
	message := []string{
		"From: <" + user + ">\r\nSubject: hi\r\n\r\nHello.\r\n..dotted\r\n.\r\n",
		"Subject: bare\nFrom: <" + user + ">\n\nhello\n.\r\n",
		"Subject: dot\r\n\r\n.hidden line\r\n.\r\n",
	}
	actions := []func(){
		func() { s.cmd("EHLO student.example.org\r\n") },
		func() { s.cmd("EHLO student.example.org\n") },
		func() { s.cmd("HELO student.example.org\r\n") },
		func() { s.cmd("NOOP\r\n") },
		func() { s.cmd("NOOP\n") },
		func() { s.cmd("RSET\r\n") },
		func() { s.cmd("FROBNICATE\r\n") },
		func() { s.cmd("VRFY someone\r\n") },
		func() { s.cmd("MAIL FROM:<" + user + ">\r\n") },
		func() { s.cmd("MAIL FROM: " + user + "\r\n") },
		func() { s.cmd("RCPT TO:<friend@example.edu>\r\n") },
		func() { s.cmd("RCPT TO:<friend@example.net>\r\n") },
		func() {
			if s.cmd("DATA\r\n") == 354 {
				s.write(message[rng.IntN(len(message))])
				s.reply()
			} else if !s.closed && rng.IntN(2) == 0 {
				// The message anyway, line by line, each answered.
				for _, l := range []string{"Subject: refused\r\n", "\r\n", "Hello.\r\n", ".\r\n"} {
					s.cmd(l)
				}
			}
		},
		func() {
			end := []string{"\r\n", "\n"}[rng.IntN(2)]
			if s.cmd("STARTTLS"+end) == 220 {
				tc := tls.Client(s.conn, &tls.Config{ServerName: s.host, RootCAs: s.sb.RootCAs()})
				if err := tc.Handshake(); err != nil {
					s.closed = true
					return
				}
				s.conn, s.r = tc, bufio.NewReader(tc)
			}
		},
		func() { // AUTH LOGIN, right or wrong, answers encoded or not
			answers := [][2]string{{b64(user), b64(pass)}, {b64(user), b64(pass + "x")}, {user, b64(pass)}, {b64(user + "\n"), b64(pass)}, {b64(user), "*"}}[rng.IntN(5)]
			if s.cmd("AUTH LOGIN\r\n") == 334 && s.cmd(answers[0]+"\r\n") == 334 {
				s.cmd(answers[1] + "\r\n")
			}
		},
		func() { // AUTH PLAIN, initial response or prompted, layouts right and wrong
			blob := []string{"\x00" + user + "\x00" + pass, user + "\x00" + pass, "\x00" + user + "\x00" + pass + "\x00", "\x00" + user + "\x00wrong"}[rng.IntN(4)]
			if rng.IntN(2) == 0 {
				s.cmd("AUTH PLAIN " + b64(blob) + "\r\n")
			} else if s.cmd("AUTH PLAIN\r\n") == 334 {
				s.cmd(b64(blob) + "\r\n")
			}
		},
		func() { // AUTH PLAIN answered with something not base64
			if s.cmd("AUTH PLAIN\r\n") == 334 {
				s.cmd(user + " " + pass + "\r\n")
			}
		},
		func() { s.cmd("AUTH CRAM-MD5\r\n") },
	}
	for i := rng.IntN(14); i >= 0 && !s.closed; i-- {
		actions[rng.IntN(len(actions))]()
	}
	if !s.closed && rng.IntN(4) > 0 {
		s.cmd("QUIT\r\n")
	}
	return s.sent
}
