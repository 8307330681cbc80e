package sandbox

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// The hostile-client suite: what a security review did to `smtprun serve`
// with raw sockets, each probe bounded in connections and time. Every
// connection here is a real loopback TCP socket (DialContext), served by
// the same session code as `smtprun serve`'s listeners.

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// office365Relay is a greeted client on Microsoft 365's port 25 with a
// transaction open for a local recipient: no AUTH or TLS needed, and a
// SIZE limit (150 MiB) above the sandbox's 64 MiB message cap.
func office365Relay(t *testing.T, sb *Sandbox) *testClient {
	t.Helper()
	c := dial(t, sb, "smtp.office365.com:25")
	c.reply("220")
	c.cmd("EHLO client.example.org", "250")
	c.cmd("MAIL FROM:<a@example.org>", "250")
	c.cmd("RCPT TO:<user@contoso.com>", "250")
	return c
}

// Memory: "BDAT 67108864 LAST" and no data made the server
// allocate the announced 64 MiB before reading a byte, per connection.
// Now a chunk is read as it arrives: eight such connections cost next to
// nothing (before the fix: 512 MiB).
func TestHostileBDATAnnouncedSizeIsNotAllocated(t *testing.T) {
	rec := &recorder{}
	sb := newTestSandbox(t, Options{Observer: rec.observe})
	before := heapInUse()
	const conns = 8
	for range conns {
		c := office365Relay(t, sb)
		c.send("BDAT 67108864 LAST")
		c.write("only a few bytes")
	}
	// Every session has read its BDAT line and is inside the chunk.
	waitFor(t, "the BDAT commands", func() bool {
		n := 0
		for _, e := range rec.kinds(0, LineReceived) {
			if strings.HasPrefix(e.Line, "BDAT ") {
				n++
			}
		}
		return n == conns
	})
	time.Sleep(50 * time.Millisecond) // let each reach its read
	grown := int64(heapInUse()) - int64(before)
	t.Logf("heap grew %d KiB for %d connections each announcing 64 MiB", grown>>10, conns)
	if grown > 16<<20 {
		t.Fatalf("heap grew %d MiB for %d connections that sent a few bytes each", grown>>20, conns)
	}
}

// Memory, the data itself: 16 MiB through BDAT and 16 MiB through DATA
// on one connection keep the heap within a small bound, the message
// streaming through a fixed buffer (and to the save file).
func TestHostileLargeMessagesStream(t *testing.T) {
	dir := t.TempDir()
	sb := newTestSandbox(t, Options{SaveDir: dir})
	c := office365Relay(t, sb)
	c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	const size = 16 << 20
	line := strings.Repeat("x", 998) + "\r\n"
	body := "Message-ID: <big@example.org>\r\n\r\n" + strings.Repeat(line, size/len(line))
	before := heapInUse()
	c.send(fmt.Sprintf("BDAT %d LAST", len(body)))
	c.write(body)
	c.reply("250")
	afterBDAT := heapInUse()
	c.cmd("MAIL FROM:<a@example.org>", "250")
	c.cmd("RCPT TO:<user@contoso.com>", "250")
	c.cmd("DATA", "354")
	c.write(body + ".\r\n")
	lines := c.reply("250")
	if !strings.Contains(lines[0], "<big@example.org>") {
		t.Errorf("the Message-ID from the streamed header is not in the reply: %q", lines)
	}
	afterDATA := heapInUse()
	for what, after := range map[string]uint64{"BDAT": afterBDAT, "DATA": afterDATA} {
		if grown := int64(after) - int64(before); grown > 4<<20 {
			t.Errorf("%s of %d MiB grew the heap by %d MiB", what, size>>20, grown>>20)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 2 {
		t.Fatalf("saved %d files, want 2", len(files))
	}
	for _, f := range files {
		if st, _ := os.Stat(f); st.Size() != int64(len(body)) {
			t.Errorf("%s: %d bytes, want %d", f, st.Size(), len(body))
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".incoming-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// Memory, the sizes: a chunk size whose sum with the chunks before it
// overflows an int64 is a syntax error, not a recovered panic that costs
// the connection.
func TestHostileBDATOverflow(t *testing.T) {
	sb := newTestSandbox(t, Options{})
	for _, size := range []string{"9223372036854775807", "9223372036854775808", "99999999999999999999", "-1", "+5", "0x10", "1e9"} {
		c := office365Relay(t, sb)
		c.send("BDAT 1")
		c.write("x")
		c.reply("250")
		c.cmd("BDAT "+size+" LAST", "501")
		c.cmd("NOOP", "250") // the connection lives on
	}
}

// Memory, the total: the sandbox-wide memory budget for message heads
// is never exceeded, and is given back when messages end.
func TestHostileMemoryBudget(t *testing.T) {
	sb := newTestSandbox(t, Options{MaxMemoryBytes: 100 << 10})
	var clients []*testClient
	for range 4 {
		c := office365Relay(t, sb)
		c.send("BDAT 100000")
		c.write(strings.Repeat("y", 100000))
		c.reply("250")
		clients = append(clients, c)
		if n := sb.memoryInUse.Load(); n > 100<<10 {
			t.Fatalf("%d bytes of message heads held, budget %d", n, 100<<10)
		}
	}
	for _, c := range clients {
		c.cmd("RSET", "250")
	}
	if n := sb.memoryInUse.Load(); n != 0 {
		t.Errorf("%d bytes still held after every transaction ended", n)
	}
}

// Masking follows the parser, or a client can hide a secret from it. A tab before the initial response
// and an AUTH line too long to parse are both credentials.
func TestHostileAuthMaskedByParser(t *testing.T) {
	rec := &recorder{}
	sb := newTestSandbox(t, Options{Observer: rec.observe})
	c := tlsReady(t, sb, "mail.example.edu")
	user, pass := PracticeCredentials("postfix")
	secret := plain(user, pass)
	c.cmd("AUTH PLAIN\t"+secret, "235")
	c.cmd("AUTH\tPLAIN "+secret, "503") // already authenticated, still a credential
	c.cmd("AUTH\u00a0PLAIN\u0085"+secret, "503")
	long := "AUTH PLAIN " + b64(strings.Repeat("Long-Line-Secret", 200))
	c.cmd(long, "500")
	c.cmd("QUIT", "221")
	rec.waitClosed(t, 1)
	var shown []string
	for _, e := range rec.kinds(1, LineReceived) {
		if strings.Contains(e.Line, secret[:20]) || strings.Contains(e.Line, long[12:40]) {
			t.Errorf("an event carries the credential: %q", e.Line)
		}
		if e.Secret {
			shown = append(shown, e.Line)
		}
	}
	want := []string{"AUTH PLAIN ********", "AUTH PLAIN ********", "AUTH PLAIN ********", "AUTH ******** (4279 bytes, too long)"}
	if !slices.Equal(shown, want) {
		t.Errorf("credential lines shown as %q, want %q", shown, want)
	}
}

// The note on a line too long gives its real length, not the bound.
func TestHostileLongLineLength(t *testing.T) {
	rec := &recorder{}
	sb := newTestSandbox(t, Options{Observer: rec.observe})
	c := relayClient(t, sb)
	for _, n := range []int{3000, 70000} {
		c.cmd("NOOP "+strings.Repeat("A", n-5), "500")
		want := fmt.Sprintf("(%d bytes, too long)", n)
		found := false
		for _, e := range rec.kinds(1, LineReceived) {
			found = found || strings.HasSuffix(e.Line, want)
		}
		if !found {
			t.Errorf("no event ends %q: %v", want, rec.kinds(1, LineReceived))
		}
	}
}

// Nothing a client sends comes back in a reply as a control
// character or an invisible Unicode format character: Office 365 echoes
// the Message-ID, Postfix the argument of VRFY, Yahoo the addresses.
func TestHostileRepliesEscapeClientText(t *testing.T) {
	sb := newTestSandbox(t, Options{})
	hostile := "\x1b]0;owned\x07\x1b[2J\u202egnp.exe\u2066\u200b\u2028\x9b31m\xff"
	check := func(what string, lines []string) {
		t.Helper()
		for _, l := range lines {
			// 0x9b is tested as a byte (a raw C1 CSI, which some terminals
			// obey) and as U+009B: in ContainsAny's rune set a lone "\x9b"
			// would stand for U+FFFD.
			if strings.ContainsAny(l, "\x1b\x07\u202e\u2066\u200b\u2028\u009b") || strings.IndexByte(l, 0x9b) >= 0 || !isValidUTF8(l) {
				t.Errorf("%s: reply carries client control text: %q", what, l)
			}
		}
	}
	c := office365Relay(t, sb)
	c.cmd("DATA", "354")
	c.write("Message-ID: <" + hostile + "@example.org>\r\n\r\nhi\r\n.\r\n")
	check("Message-ID", c.reply("250"))

	p := relayClient(t, sb)
	check("VRFY", p.cmd("VRFY "+hostile, "252"))
	check("RCPT", p.cmd("MAIL FROM:<a@example.org>", "250"))
	p.cmd("HELO "+hostile, "501") // controls in a HELO name: refused
	g := dial(t, sb, "smtp.gmail.com:25")
	g.reply("220")
	g.cmd("HELO \u202eexample.org\u200b", "250")
	g.cmd("MAIL FROM:<a@example.org>", "250")
	check("Gmail's relay_denied with {helo}", g.cmd("RCPT TO:<"+"x\u202e@example.net>", "550"))
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "\ufffd") == s }

// SaveDir's quota, so a client cannot fill the disk: by count and by bytes, with a 452 while the
// quota is used up and a 552 for a message that can never fit.
func TestHostileSaveQuota(t *testing.T) {
	dir := t.TempDir()
	sb := newTestSandbox(t, Options{SaveDir: dir, SaveMaxMessages: 2, SaveMaxBytes: 1000})
	send := func(c *testClient, body string) []string {
		c.cmd("MAIL FROM:<a@example.org>", "250")
		c.cmd("RCPT TO:<user@contoso.com>", "250")
		c.cmd("DATA", "354")
		c.write(body + ".\r\n")
		lines, err := c.readReply()
		if err != nil {
			t.Fatal(err)
		}
		return lines
	}
	c := dial(t, sb, "smtp.office365.com:25")
	c.reply("220")
	c.cmd("EHLO client.example.org", "250")
	if got := send(c, strings.Repeat("z", 2000)+"\r\n"); !strings.HasPrefix(got[0], "552 5.3.4 ") {
		t.Errorf("a message larger than the whole quota: %q, want 552 5.3.4", got)
	}
	for i := range 2 {
		if got := send(c, "small\r\n"); !strings.HasPrefix(got[0], "250 ") {
			t.Fatalf("message %d: %q", i+1, got)
		}
	}
	lines := c.cmd("MAIL FROM:<a@example.org>", "452")
	if !strings.HasPrefix(lines[0], "452 4.3.1 ") || !strings.Contains(lines[0], "2 messages") {
		t.Errorf("MAIL with the quota used up: %q", lines)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 4 { // two .eml, two .envelope.json
		t.Errorf("%d files in the save directory, want 4: %v", len(files), files)
	}

	// By bytes: 600 + 600 > 1000.
	dir2 := t.TempDir()
	sb2 := newTestSandbox(t, Options{SaveDir: dir2, SaveMaxBytes: 1000})
	c2 := dial(t, sb2, "smtp.office365.com:25")
	c2.reply("220")
	c2.cmd("EHLO client.example.org", "250")
	body := strings.Repeat("w", 598) + "\r\n"
	if got := send(c2, body); !strings.HasPrefix(got[0], "250 ") {
		t.Fatalf("first: %q", got)
	}
	if got := send(c2, body); !strings.HasPrefix(got[0], "452 4.3.1 ") {
		t.Errorf("over the byte quota: %q, want 452 4.3.1", got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir2, ".incoming-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// Password guessing: the providers lock AUTH after a run of failures, with their
// own words, and then do not check passwords at all (the right one
// included); Microsoft 365's lockout is a 421 that hangs up.
func TestHostileAuthLockout(t *testing.T) {
	for _, tc := range []struct {
		host, want string
		hangUp     bool
	}{
		{"smtp.gmail.com", "454-4.7.0 Too many login attempts, please try again later.", false},
		{"smtp.mail.yahoo.com", "535 5.7.0 (#AUTH005) Too many bad auth attempts.", false},
		{"smtp.aol.com", "535 5.7.0 (#AUTH005) Too many bad auth attempts.", false},
		{"smtp.office365.com", "421 4.7.0 Too many failed authentication attempts", true},
	} {
		t.Run(tc.host, func(t *testing.T) {
			sb := newTestSandbox(t, Options{})
			p := mustCatalog().profileForHost(tc.host)
			c := tlsReady(t, sb, tc.host)
			user, pass := PracticeCredentials(p.Name)
			for range p.MaxAuthFail {
				c.authLogin(user, "wrong")
				c.reply("535")
			}
			try := "AUTH LOGIN " + b64(user)
			if slices.Contains(p.Mechanisms, "PLAIN") {
				try = "AUTH PLAIN " + plain(user, pass) // the right password
			}
			lines := c.cmd(try, tc.want[:3])
			if !strings.HasPrefix(lines[0], tc.want) {
				t.Errorf("after %d failures: %q, want %q", p.MaxAuthFail, lines, tc.want)
			}
			if tc.hangUp {
				c.expectClosed()
				return
			}
			// Still locked, whatever is tried; the connection is bounded
			// by the error replies it keeps getting.
			for range 100 {
				c.cmd("AUTH LOGIN", tc.want[:3])
			}
		})
	}
}

// A BDAT chunk is bounded by the idle timeout between reads, as DATA is
// between lines: one that keeps arriving, however slowly, completes, and
// one that stalls gets the provider's timeout reply.
func TestHostileBDATIdleDeadline(t *testing.T) {
	sb := newTestSandbox(t, Options{IdleTimeout: 300 * time.Millisecond})
	c := office365Relay(t, sb)
	c.send("BDAT 100 LAST")
	for range 10 {
		time.Sleep(100 * time.Millisecond) // 1 s in all, each wait under 300 ms
		c.write(strings.Repeat("s", 10))
	}
	c.reply("250")

	stalled := office365Relay(t, sb)
	stalled.send("BDAT 100 LAST")
	stalled.write("only ten b")
	stalled.reply("421")
	stalled.expectClosed()
}

// The total: Serve handles at most MaxConnections at once; one more gets
// a 421 and is closed, and a place freed is a place again.
func TestHostileMaxConnections(t *testing.T) {
	rec := &recorder{}
	sb := newTestSandbox(t, Options{MaxConnections: 3, Observer: rec.observe})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go sb.Serve(l, "postfix", Submission)
	connect := func() *testClient {
		conn, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return newTestClient(t, sb, "mail.example.edu", conn)
	}
	var open []*testClient
	for range 3 {
		c := connect()
		c.reply("220")
		open = append(open, c)
	}
	extra := connect()
	lines := extra.reply("421")
	if !strings.Contains(lines[0], "too many connections") {
		t.Errorf("over the limit: %q", lines)
	}
	extra.expectClosed()
	open[0].cmd("QUIT", "221")
	open[0].expectClosed()
	waitFor(t, "the freed place", func() bool { return sb.served.Load() == 2 })
	connect().reply("220")
}
