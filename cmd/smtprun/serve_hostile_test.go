package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/sandbox"
)

// rawClient is a hand-written SMTP client for `smtprun serve`: it sends
// exactly the bytes a test gives it, as a hostile classmate's program
// would.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialServe(t *testing.T, addr string) *rawClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	c := &rawClient{t: t, conn: conn, r: bufio.NewReader(conn)}
	c.expect("220")
	return c
}

func (c *rawClient) expect(code string) string {
	c.t.Helper()
	var all []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading reply (want %s): %v; got %q", code, err, all)
		}
		all = append(all, line)
		if len(line) < 4 || line[3] != '-' {
			break
		}
	}
	if !strings.HasPrefix(all[0], code) {
		c.t.Fatalf("got %q, want %s", all, code)
	}
	return strings.Join(all, "")
}

func (c *rawClient) cmd(raw, code string) string {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(raw + "\r\n")); err != nil {
		c.t.Fatal(err)
	}
	return c.expect(code)
}

// startTLS upgrades the connection, verifying the server with the CA
// `serve --ca-out` wrote.
func (c *rawClient) startTLS(caFile string) {
	c.t.Helper()
	c.cmd("EHLO hostile.example", "250")
	c.cmd("STARTTLS", "220")
	pem, err := os.ReadFile(caFile)
	if err != nil {
		c.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tc := tls.Client(c.conn, &tls.Config{ServerName: "mail.example.edu", RootCAs: pool})
	if err := tc.Handshake(); err != nil {
		c.t.Fatal(err)
	}
	c.conn, c.r = tc, bufio.NewReader(tc)
	c.cmd("EHLO hostile.example", "250")
}

// waitForOutput waits until the transcript holds s.
func waitForOutput(t *testing.T, out *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("transcript never showed %q:\n%s", s, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Issue 13, item 3: a client's ESC/OSC sequences, backspaces, bare CRs
// and Unicode controls reach the person running serve as visible escapes,
// never as terminal commands; no line of the transcript can be forged.
func TestServeTranscriptEscapesClient(t *testing.T) {
	sub, _, out := startServe(t)
	c := dialServe(t, sub)
	hostile := []string{
		"NOOP \x1b]0;pwned\x07\x1b[2J\x1b[H",                         // retitle, clear screen
		"NOOP \r[7] S: 235 2.7.0 Authentication successful (forged)", // bare CR over the line
		"NOOP \x08\x08\x08\x08\x08ok",                                // backspaces
		"NOOP \u202etxt.exe\u2066\u2069\u200b\u2028\u2029\ufeff",     // bidi, zero-width, separators
		"NOOP \xc2\x9b31m \xff\xfe",                                  // C1 CSI, not UTF-8
		"VRFY \x1b[31mred",                                           // echoed by Postfix's 252
	}
	for _, line := range hostile {
		c.cmd(line, "2")
	}
	c.cmd("QUIT", "221")
	waitForOutput(t, out, "closed")
	got := out.String()
	for _, bad := range []string{"\x1b", "\x07", "\x08", "\r", "\u202e", "\u2066", "\u2069", "\u200b", "\u2028", "\u2029", "\ufeff", "\u009b", "\xff"} {
		if strings.Contains(got, bad) {
			t.Errorf("transcript contains raw %q:\n%s", bad, got)
		}
	}
	for _, l := range strings.Split(got, "\n") {
		// A forged line would start a line, with or without a time.
		if u := unstamped(l); strings.HasPrefix(u, "[7]") || strings.HasPrefix(u, "[1] S: 235") {
			t.Errorf("forged transcript line: %q", l)
		}
	}
	for _, want := range []string{`C: NOOP \x1b]0;pwned\x07`, `C: NOOP \r[7] S: 235`, `\u202etxt.exe`, `\xff\xfe`, `S: 252 2.0.0 ?[31mred`} {
		if !strings.Contains(got, want) {
			t.Errorf("transcript lacks the escaped form %q:\n%s", want, got)
		}
	}
}

// The secrets sweep, for serve's transcript: passwords with a backslash,
// control bytes, DEL, bytes that are not UTF-8 and very short ones, sent
// by every route a client has (AUTH PLAIN with a space or a tab before
// the response, PLAIN and LOGIN prompts, an AUTH line too long), never
// appear in any encoding.
func TestServeSecretsNeverPrinted(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	sub, _, out := startServe(t, "--ca-out", ca)
	user := "student@example.edu"
	passwords := []string{`Tr0ub4dor\&3`, "ctl\x01\x1b[0mpass", "del\x7fpassword", "not-utf8-\xff\xfe\xc3", `\`, "\x7f", "é", "Q7"}
	for _, pass := range passwords {
		c := dialServe(t, sub)
		c.startTLS(ca)
		blob := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
		c.cmd("AUTH PLAIN "+blob, "535")
		c.cmd("AUTH PLAIN\t"+blob, "535")
		c.cmd("AUTH PLAIN", "334")
		c.cmd(blob, "535")
		c.cmd("AUTH LOGIN", "334")
		c.cmd(base64.StdEncoding.EncodeToString([]byte(user)), "334")
		c.cmd(base64.StdEncoding.EncodeToString([]byte(pass)), "535")
		c.cmd("AUTH PLAIN "+blob+strings.Repeat("A", 3000), "500")
		c.cmd("QUIT", "221")
	}
	waitForOutput(t, out, "["+strconv.Itoa(len(passwords))+"] closed")
	got := out.String()
	for _, pass := range passwords {
		forms := serveLeakForms(user, pass)
		forms["escaped"] = sandbox.EscapeLine(pass)
		forms["quoted"] = strconv.Quote(pass)
		for name, form := range forms {
			// A form of one or two characters occurs in any transcript
			// (a backslash in an escape, "Q7" in a random ID): those are
			// covered by the longer forms that embed them.
			if len(form) < 4 && name != "PLAIN blob" {
				continue
			}
			if strings.Contains(got, form) {
				t.Errorf("password %q: the transcript contains its %s form %q", pass, name, form)
			}
		}
	}
	if n := strings.Count(got, "******** (credentials)") + strings.Count(got, "too long) (credentials)"); n != 6*len(passwords) {
		t.Errorf("%d masked credential lines, want %d:\n%s", n, 6*len(passwords), got)
	}
	if t.Failed() {
		t.Logf("transcript:\n%s", got)
	}
}

// serveLeakForms is leakForms (secrets_test.go) safe for passwords of a
// byte or two, whose base64 at an offset is shorter than what it trims.
func serveLeakForms(user, pass string) map[string]string {
	if len(pass) >= 6 {
		return leakForms(user, pass)
	}
	return map[string]string{
		"plain":      pass,
		"hex":        fmt.Sprintf("%x", pass),
		"base64":     base64.StdEncoding.EncodeToString([]byte(pass)),
		"PLAIN blob": base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass)),
	}
}

// Item 4: a non-loopback --listen needs --public; with it, a loud warning.
func TestServeRefusesPublicListen(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:2525", "[::]:2525", ":2525", "192.0.2.1:2525", "example.com:2525"} {
		for _, flag := range []string{"--listen", "--listen-tls", "--listen-relay"} {
			code, _, errOut := cli(t, "serve", flag, addr)
			if code != exitUsage || !strings.Contains(errOut, "not a loopback address") || !strings.Contains(errOut, "--public") {
				t.Errorf("%s %s: exit %d\n%s", flag, addr, code, errOut)
			}
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0", "127.0.0.2:0"} {
		if !isLoopbackAddr(addr) {
			t.Errorf("%s is loopback", addr)
		}
	}
	var b strings.Builder
	warnPublic(&b, "0.0.0.0:2525", "gmail", true)
	if !strings.Contains(b.String(), "WARNING") || !strings.Contains(b.String(), "practice-password") {
		t.Errorf("warning:\n%s", b.String())
	}
}

// Item 5 from the command line: --save-max-messages reaches the client
// as a 452 and the transcript says why.
func TestServeSaveQuota(t *testing.T) {
	dir := t.TempDir()
	_, _, out := startServe(t, "--listen-relay", "127.0.0.1:0", "--save", filepath.Join(dir, "saved"), "--save-max-messages", "1")
	relay := ""
	deadline := time.Now().Add(5 * time.Second)
	for relay == "" && time.Now().Before(deadline) {
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.Contains(l, "relay rules") {
				relay = strings.TrimSuffix(strings.Fields(l)[2], ":")
			}
		}
	}
	c := dialServe(t, relay)
	c.cmd("EHLO hostile.example", "250")
	c.cmd("MAIL FROM:<a@example.org>", "250")
	c.cmd("RCPT TO:<student@example.edu>", "250")
	c.cmd("DATA", "354")
	c.cmd("hi\r\n.", "250")
	reply := c.cmd("MAIL FROM:<a@example.org>", "452")
	if !strings.Contains(reply, "4.3.1 Insufficient system storage") {
		t.Errorf("reply %q", reply)
	}
}
