package sandbox

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// A tiny raw-socket SMTP client for the tests: it writes exactly what it is
// told and reads replies line by line, recording the transcript. It does
// not import the engine; the sandbox must stand on its own.

var testClock = func() time.Time { return time.Date(2023, 3, 27, 18, 17, 53, 123_000_000, time.UTC) }

// testRand is a deterministic random stream, the same for every run.
func testRand() io.Reader { return rand.NewChaCha8([32]byte{'s', 'm', 't', 'p', 'r', 'u', 'n'}) }

// newTestSandbox makes a deterministic sandbox that is closed with the test.
func newTestSandbox(t *testing.T, opts Options) *Sandbox {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = testClock
	}
	if opts.Rand == nil {
		opts.Rand = testRand()
	}
	sb, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb
}

type testClient struct {
	t          *testing.T
	sb         *Sandbox
	host       string
	conn       net.Conn
	r          *bufio.Reader
	transcript strings.Builder
}

// dial connects through DialContext and reads nothing yet.
func dial(t *testing.T, sb *Sandbox, address string) *testClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := sb.DialContext(ctx, "tcp", address)
	if err != nil {
		t.Fatalf("dial %s: %v", address, err)
	}
	host, _, _ := net.SplitHostPort(address)
	return newTestClient(t, sb, host, conn)
}

func newTestClient(t *testing.T, sb *Sandbox, host string, conn net.Conn) *testClient {
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	return &testClient{t: t, sb: sb, host: host, conn: conn, r: bufio.NewReader(conn)}
}

// dialImplicitTLS connects to port 465 and does the TLS handshake at once.
func dialImplicitTLS(t *testing.T, sb *Sandbox, host string) *testClient {
	c := dial(t, sb, host+":465")
	c.handshake()
	return c
}

// send writes one command line.
func (c *testClient) send(line string) {
	c.t.Helper()
	c.transcript.WriteString("C: " + line + "\n")
	c.write(line + "\r\n")
}

// write writes raw bytes.
func (c *testClient) write(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// readReply reads one whole reply (RFC 5321 4.2.1: lines "NNN-" up to
// "NNN ") and returns its lines.
func (c *testClient) readReply() ([]string, error) {
	var lines []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return lines, err
		}
		if !strings.HasSuffix(line, "\r\n") {
			return lines, fmt.Errorf("reply line %q does not end in CRLF", line)
		}
		line = strings.TrimSuffix(line, "\r\n")
		c.transcript.WriteString("S: " + line + "\n")
		lines = append(lines, line)
		if len(line) < 4 || line[3] != '-' {
			return lines, nil
		}
	}
}

// reply reads a reply and fails the test unless it has the code.
func (c *testClient) reply(code string) []string {
	c.t.Helper()
	lines, err := c.readReply()
	if err != nil {
		c.t.Fatalf("reading reply (want %s): %v; got %q\ntranscript:\n%s", code, err, lines, c.transcript.String())
	}
	if !strings.HasPrefix(lines[0], code) {
		c.t.Fatalf("got reply %q, want code %s\ntranscript:\n%s", lines, code, c.transcript.String())
	}
	return lines
}

// expect reads a reply and checks it line by line against want.
func (c *testClient) expect(want ...string) {
	c.t.Helper()
	lines, err := c.readReply()
	if err != nil {
		c.t.Fatalf("reading reply (want %q): %v\ntranscript:\n%s", want, err, c.transcript.String())
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		c.t.Fatalf("got reply\n  %s\nwant\n  %s", strings.Join(lines, "\n  "), strings.Join(want, "\n  "))
	}
}

// cmd sends a line and reads the reply, which must have the code.
func (c *testClient) cmd(line, code string) []string {
	c.t.Helper()
	c.send(line)
	return c.reply(code)
}

// handshake runs TLS as the client, verifying the certificate for the
// emulated host against the sandbox's CA.
func (c *testClient) handshake() {
	c.t.Helper()
	tc := tls.Client(c.conn, &tls.Config{ServerName: c.host, RootCAs: c.sb.RootCAs()})
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake for %s: %v", c.host, err)
	}
	c.transcript.WriteString("-- TLS handshake; certificate verified for " + c.host + "\n")
	c.conn = tc
	c.r = bufio.NewReader(tc)
}

// expectClosed checks that the server hung up without another reply.
func (c *testClient) expectClosed() {
	c.t.Helper()
	line, err := c.r.ReadString('\n')
	if err == nil || line != "" {
		c.t.Fatalf("want the connection closed, read %q (err %v)", line, err)
	}
	if !errors.Is(err, io.EOF) && !isReset(err) {
		c.t.Fatalf("want EOF, got %v", err)
	}
	c.conn.Close() // as a client does; the server stops waiting for it
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "reset by peer") || strings.Contains(err.Error(), "broken pipe"))
}

// login goes from connect to authenticated: greeting, EHLO, STARTTLS,
// EHLO, AUTH LOGIN (which every provider offers) with the practice
// credentials.
func login(t *testing.T, sb *Sandbox, host string) *testClient {
	t.Helper()
	c := dial(t, sb, host+":587")
	c.reply("220")
	c.cmd("EHLO client.example.org", "250")
	c.cmd("STARTTLS", "220")
	c.handshake()
	c.cmd("EHLO client.example.org", "250")
	user, pass := PracticeCredentials(ProfileForHost(host))
	c.cmd("AUTH LOGIN", "334")
	c.cmd(b64(user), "334")
	c.cmd(b64(pass), "235")
	return c
}

func plain(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// recorder collects observer events.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) observe(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) kinds(conn int64, kind EventKind) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Event
	for _, e := range r.events {
		if (conn == 0 || e.Conn == conn) && e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// waitClosed waits until the server reports connection conn closed.
func (r *recorder) waitClosed(t *testing.T, conn int64) Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if ev := r.kinds(conn, ConnClosed); len(ev) > 0 {
			return ev[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("connection %d not closed", conn)
	return Event{}
}

// tlsClientFor wraps the connection in a verifying TLS client without
// doing the handshake.
func tlsClientFor(c *testClient, serverName string) *tls.Conn {
	return tls.Client(c.conn, &tls.Config{ServerName: serverName, RootCAs: c.sb.RootCAs()})
}
