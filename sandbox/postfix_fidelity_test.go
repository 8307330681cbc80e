package sandbox

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/internal/testenv"
)

// TestPostfixFidelity runs the same conversations against the real
// Postfix that .ci/setup-postfix installs (Debian's 3.7) and against the
// postfix profile, and compares them reply code by reply code: the
// profile must behave like the server it is named after, lenient where
// Postfix is lenient (the strict scenario is for the rest).
func TestPostfixFidelity(t *testing.T) {
	env := readPostfixEnv(t)
	domain := env["SMTPRUN_POSTFIX_RCPT"][strings.IndexByte(env["SMTPRUN_POSTFIX_RCPT"], '@')+1:]
	user, pass, rcpt := env["SMTPRUN_POSTFIX_USER"], env["SMTPRUN_POSTFIX_PASS"], env["SMTPRUN_POSTFIX_RCPT"]
	pem, err := os.ReadFile(env["SMTPRUN_POSTFIX_CA"])
	if err != nil {
		t.Fatal(err)
	}
	realPool := x509.NewCertPool()
	realPool.AppendCertsFromPEM(pem)

	// The profile, serving the real server's domain, with the real
	// server's account.
	sb := newTestSandbox(t, Options{Credentials: map[string]string{user: pass}})
	host := "mx." + domain
	emulated := map[string]string{}
	for port, mode := range map[string]Mode{"25": Relay, "587": Submission} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go sb.ServeHost(l, host, mode)
		emulated[port] = l.Addr().String()
	}
	real := map[string]string{"25": env["SMTPRUN_POSTFIX_SMTP"], "587": env["SMTPRUN_POSTFIX_SUBMISSION"]}

	const tlsUp = "\x00starttls" // upgrade the connection here
	plainAuth := "AUTH PLAIN " + plain(user, pass) + "\r\n"
	for _, c := range []struct {
		name  string
		port  string
		lines []string // each write; every one is answered by one reply
	}{
		{"MAIL before HELO", "25", []string{"MAIL FROM:<a@" + domain + ">\r\n", "RCPT TO:<" + rcpt + ">\r\n", "RSET\r\n", "QUIT\r\n"}},
		{"addresses without brackets", "25", []string{"EHLO client.example.org\r\n", "MAIL FROM: a@" + domain + "\r\n", "RCPT TO: " + rcpt + "\r\n", "QUIT\r\n"}},
		{"unknown parameters", "25", []string{"EHLO client.example.org\r\n", "MAIL FROM:<a@" + domain + "> FOO=BAR\r\n", "MAIL FROM:<a@" + domain + "> SIZE=100 BODY=8BITMIME\r\n", "RCPT TO:<" + rcpt + "> FOO=BAR\r\n", "QUIT\r\n"}},
		{"bare LF in the message", "25", []string{"EHLO client.example.org\r\n", "MAIL FROM:<a@" + domain + ">\r\n", "RCPT TO:<" + rcpt + ">\r\n", "DATA\r\n", "Subject: bare\nFrom: <a@" + domain + ">\n\nhello\n.\r\n", "QUIT\r\n"}},
		{"bare LF commands", "25", []string{"EHLO client.example.org\n", "MAIL FROM:<a@" + domain + ">\n", "QUIT\n"}},
		{"message text after a refused DATA", "25", []string{"EHLO client.example.org\r\n", "DATA\r\n", "Subject: hello\r\n", "QUIT\r\n"}},
		{"HTTP to SMTP", "25", []string{"GET / HTTP/1.1\r\n", "QUIT\r\n"}},
		{"out of sequence", "25", []string{"HELO\r\n", "EHLO\r\n", "EHLO client.example.org\r\n", "RCPT TO:<" + rcpt + ">\r\n", "DATA\r\n", "MAIL FROM:<>\r\n", "MAIL FROM:<a@" + domain + ">\r\n", "RCPT TO:<>\r\n", "MAIL FROM:\r\n", "FOO\r\n", "RSET\r\n", "NOOP\r\n", "QUIT\r\n"}},
		{"AUTH and MAIL before STARTTLS", "587", []string{"EHLO client.example.org\r\n", "AUTH LOGIN\r\n", "MAIL FROM:<" + user + ">\r\n", "QUIT\r\n"}},
		{"AUTH after STARTTLS without EHLO", "587", []string{"EHLO client.example.org\r\n", "STARTTLS\r\n", tlsUp, plainAuth, "MAIL FROM:<" + user + ">\r\n", "RCPT TO:<" + rcpt + ">\r\n", "QUIT\r\n"}},
		{"AUTH LOGIN with a raw user name", "587", []string{"EHLO client.example.org\r\n", "STARTTLS\r\n", tlsUp, "EHLO client.example.org\r\n", "AUTH LOGIN\r\n", user + "\r\n", "QUIT\r\n"}},
		{"wrong password, then the right one", "587", []string{"EHLO client.example.org\r\n", "STARTTLS\r\n", tlsUp, "EHLO client.example.org\r\n", "AUTH PLAIN " + plain(user, pass+"x") + "\r\n", plainAuth, "AUTH LOGIN\r\n", "MAIL FROM:<" + user + ">\r\n", "RCPT TO:<" + rcpt + ">\r\n", "QUIT\r\n"}},
		{"transaction before STARTTLS", "587", []string{"EHLO client.example.org\r\n", "MAIL FROM:<" + user + ">\r\n", "RCPT TO:<" + rcpt + ">\r\n", "DATA\r\n", "QUIT\r\n"}},
		{"MAIL before AUTH on submission", "587", []string{"EHLO client.example.org\r\n", "STARTTLS\r\n", tlsUp, "EHLO client.example.org\r\n", "MAIL FROM:<" + user + ">\r\n", "RCPT TO:<" + rcpt + ">\r\n", "RCPT TO:<friend@example.net>\r\n", "DATA\r\n", "QUIT\r\n"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := converse(t, real[c.port], "localhost", realPool, c.lines)
			got := converse(t, emulated[c.port], host, sb.RootCAs(), c.lines)
			if !slices.Equal(codes(got), codes(want)) {
				t.Errorf("reply codes differ\n  real Postfix: %q\n  profile:      %q", want, got)
			}
		})
	}
	// Where the words matter too: the reply to a malformed AUTH PLAIN
	// response (too few or too many NUL bytes), which a student reads to
	// find the mistake.
	for _, blob := range []string{user + "\x00" + pass, "\x00" + user + "\x00" + pass + "\x00"} {
		lines := []string{"EHLO client.example.org\r\n", "STARTTLS\r\n", tlsUp, "EHLO client.example.org\r\n",
			"AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte(blob)) + "\r\n", "QUIT\r\n"}
		want := converse(t, real["587"], "localhost", realPool, lines)
		got := converse(t, emulated["587"], host, sb.RootCAs(), lines)
		if len(want) < 5 || len(got) < 5 || want[4] != got[4] {
			t.Errorf("malformed AUTH PLAIN (%d NUL bytes):\n  real Postfix: %q\n  profile:      %q", strings.Count(blob, "\x00"), want, got)
		}
	}
}

// converse writes each line and reads one reply per line (and the
// greeting first); a reply is "closed" once the server has hung up.
func converse(t *testing.T, addr, serverName string, pool *x509.CertPool, lines []string) []string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	var out []string
	read := func() {
		var reply []string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				if errors.Is(err, io.EOF) || isReset(err) {
					out = append(out, "closed")
					return
				}
				t.Fatalf("%s: reading a reply: %v (so far %q)", addr, err, out)
			}
			reply = append(reply, strings.TrimRight(line, "\r\n"))
			if len(line) < 4 || line[3] != '-' {
				break
			}
		}
		out = append(out, strings.Join(reply, " / "))
	}
	read()
	for _, l := range lines {
		if len(out) > 0 && out[len(out)-1] == "closed" {
			break
		}
		if l == "\x00starttls" {
			tc := tls.Client(conn, &tls.Config{ServerName: serverName, RootCAs: pool})
			if err := tc.Handshake(); err != nil {
				t.Fatalf("%s: TLS: %v", addr, err)
			}
			conn = tc
			r = bufio.NewReader(tc)
			continue
		}
		if _, err := io.WriteString(conn, l); err != nil {
			out = append(out, "closed")
			break
		}
		read()
	}
	return out
}

// codes keeps each reply's code (and "closed").
func codes(replies []string) []string {
	var out []string
	for _, r := range replies {
		out = append(out, r[:min(len(r), 3)])
	}
	return out
}

// readPostfixEnv reads .ci/setup-postfix's settings; without them the
// test is skipped (or fails under SMTPRUN_REQUIRE_INTEGRATION=1).
func readPostfixEnv(t *testing.T) map[string]string {
	t.Helper()
	path := os.Getenv("SMTPRUN_POSTFIX_ENV")
	if path == "" {
		path = "/etc/smtprun-test/postfix.env"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		testenv.Missing(t, fmt.Sprintf("Postfix test setup not found (%s); run `sudo .ci/setup-postfix` to enable", path))
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			env[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	for _, k := range []string{"SMTPRUN_POSTFIX_SMTP", "SMTPRUN_POSTFIX_SUBMISSION", "SMTPRUN_POSTFIX_USER", "SMTPRUN_POSTFIX_PASS", "SMTPRUN_POSTFIX_RCPT", "SMTPRUN_POSTFIX_CA"} {
		if env[k] == "" {
			t.Fatalf("%s: %s is missing; re-run `sudo .ci/setup-postfix`", path, k)
		}
	}
	return env
}
