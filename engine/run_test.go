package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/smtptest"
)

// recorder collects events; runs happen on one goroutine but tests may
// read concurrently with a server goroutine, hence the lock.
type recorder struct {
	mu     sync.Mutex
	events []engine.Event
}

func (r *recorder) Event(e engine.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// text renders the events as plain lines, for assertions and sweeps.
func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, e := range r.events {
		switch e := e.(type) {
		case engine.Sent:
			fmt.Fprintf(&b, "C: %s (tls=%v role=%s)\n", e.Line, e.TLS, e.Role)
		case engine.Received:
			for _, l := range e.Reply.Lines {
				fmt.Fprintf(&b, "S: %s (tls=%v)\n", l, e.TLS)
			}
		case engine.TLSEstablished:
			fmt.Fprintf(&b, "TLS %s verified=%v name=%s implicit=%v\n", e.Version, e.Verified, e.ServerName, e.Implicit)
		case engine.Notice:
			fmt.Fprintf(&b, "notice: %s\n", e.Code)
		case engine.StepStarted:
			fmt.Fprintf(&b, "step %d: %s\n", e.Pos.Line, e.Source)
		default:
			fmt.Fprintf(&b, "%T %+v\n", e, e)
		}
	}
	return b.String()
}

func parse(t testing.TB, src string) *dsl.Program {
	t.Helper()
	s, err := dsl.Parse("test.smtp", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	p, err := dsl.Check(s)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	return p
}

func runSrc(t testing.TB, src string, opts ...engine.Option) (*recorder, engine.Result, error) {
	t.Helper()
	rec := &recorder{}
	opts = append([]engine.Option{engine.WithTimeout(5 * time.Second), engine.WithObserver(rec)}, opts...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := engine.New(opts...).Run(ctx, parse(t, src))
	return rec, res, err
}

// tlsPrelude greets, upgrades with STARTTLS and says EHLO again; the
// script goes on with the expect for that EHLO.
const tlsPrelude = `
connect "${ADDR}"
expect 220
send "EHLO client.test"
expect 250 "STARTTLS"
starttls
send "EHLO client.test"
`

const submission = tlsPrelude + `expect 250 /AUTH .*PLAIN/
auth ${MECH} "${USER}" "${PASS}"
expect 235
send "MAIL FROM:<${USER}>"
send "RCPT TO:<friend@example.test>"
send "DATA"
expect 250
expect 250
expect 354
message """
Subject: test ${MECH}

.leading dot
..two dots
.
last line
"""
expect 250
quit
`

// TestSubmissionAgainstGoSMTP runs a submission with every mechanism the
// language accepts (dsl.Mechanisms), so the engine must implement each.
func TestSubmissionAgainstGoSMTP(t *testing.T) {
	for _, mech := range dsl.Mechanisms() {
		t.Run(mech, func(t *testing.T) {
			g := smtptest.Start(t, false)
			src := strings.ReplaceAll(submission, "${MECH}", mech)
			vars := dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "PASS": g.Password}
			if strings.Contains(mech, "oauth") {
				vars["PASS"] = smtptest.Token
			}
			rec, res, err := runSrc(t, src, engine.WithRootCAs(g.PKI.Pool), engine.WithVars(vars))
			if err != nil {
				t.Fatalf("run: %v\n%s", err, rec.text())
			}
			msgs := g.Messages()
			if len(msgs) != 1 {
				t.Fatalf("server got %d messages, want 1", len(msgs))
			}
			m := msgs[0]
			want := "Subject: test " + mech + "\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nlast line\r\n"
			if string(m.Data) != want {
				t.Errorf("delivered data:\n%q\nwant\n%q", m.Data, want)
			}
			if !m.TLS || m.User != g.User || m.From != g.User || len(m.To) != 1 || m.To[0] != "friend@example.test" {
				t.Errorf("envelope: %+v", m)
			}
			// Every reply of the conversation, plus the 334 challenges.
			challenges := map[string]int{"plain": 0, "login": 2, "cram-md5": 1}[mech]
			if res.Messages != 1 || res.Replies != 10+challenges {
				t.Errorf("result %+v", res)
			}
			tr := rec.text()
			for _, want := range []string{
				"C: STARTTLS (tls=false",
				"TLS TLS 1.3 verified=true name=127.0.0.1 implicit=false",
				"notice: starttls-forgets-capabilities",
				"C: EHLO client.test (tls=true",
				"C: ..leading dot (tls=true",
				"C: ...two dots (tls=true",
				"C: .. (tls=true",
				"S: 221 ",
			} {
				if !strings.Contains(tr, want) {
					t.Errorf("transcript lacks %q:\n%s", want, tr)
				}
			}
			assertNoLeak(t, tr, g.User, g.Password)
		})
	}
}

// assertNoLeak sweeps output for the password in every encoding the
// wire or a log could carry it in.
func assertNoLeak(t *testing.T, out, user, pass string) {
	t.Helper()
	forms := map[string]string{
		"plain":         pass,
		"base64":        base64.StdEncoding.EncodeToString([]byte(pass)),
		"hex":           hex.EncodeToString([]byte(pass)),
		"PLAIN blob":    base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass)),
		"raw base64url": base64.RawURLEncoding.EncodeToString([]byte(pass)),
	}
	for name, f := range forms {
		if strings.Contains(out, f) {
			t.Errorf("output contains the secret (%s form %q):\n%s", name, f, out)
		}
	}
}

func TestImplicitTLS(t *testing.T) {
	g := smtptest.Start(t, true)
	src := `
connect "${ADDR}" tls
expect 220
send "EHLO client.test"
expect 250 "AUTH"
auth plain "${USER}" "${PASS}"
expect 235
quit
`
	vars := dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "PASS": g.Password}
	rec, _, err := runSrc(t, src, engine.WithRootCAs(g.PKI.Pool), engine.WithVars(vars))
	if err != nil {
		t.Fatalf("run: %v\n%s", err, rec.text())
	}
	if !strings.Contains(rec.text(), "implicit=true") {
		t.Errorf("no implicit TLS event:\n%s", rec.text())
	}
}

func TestWrongPasswordIsLeftForExpect(t *testing.T) {
	g := smtptest.Start(t, false)
	src := tlsPrelude + `expect 250
auth login "${USER}" "${PASS}"
expect 235
`
	vars := dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "PASS": "wrong-password"}
	rec, _, err := runSrc(t, src, engine.WithRootCAs(g.PKI.Pool), engine.WithVars(vars))
	var ae *engine.AssertError
	if !errors.As(err, &ae) {
		t.Fatalf("want *AssertError, got %T %v\n%s", err, err, rec.text())
	}
	if ae.Got.Code != 535 || ae.Want != "235" || ae.Pos.Line != 10 || ae.Pos.Column != 8 {
		t.Errorf("assert error: %+v (%s)", ae, ae.Got.Summary())
	}
	assertNoLeak(t, rec.text()+err.Error(), g.User, "wrong-password")

	// The same rejection, expected, passes.
	_, _, err = runSrc(t, strings.Replace(src, "expect 235", "expect 535", 1),
		engine.WithRootCAs(g.PKI.Pool), engine.WithVars(vars))
	if err != nil {
		t.Fatalf("expect 535: %v", err)
	}
}

func TestCertificateVerification(t *testing.T) {
	g := smtptest.Start(t, false)
	src := `
connect "${ADDR}"
expect 220
send "EHLO client.test"
expect 250
starttls
`
	vars := dsl.MapVars{"ADDR": g.Addr}
	_, _, err := runSrc(t, src, engine.WithVars(vars))
	var ne *engine.NetError
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ne) || !errors.As(err, &ua) {
		t.Fatalf("want NetError wrapping x509.UnknownAuthorityError, got %T %v", err, err)
	}
	rec, _, err := runSrc(t, src, engine.WithVars(vars), engine.WithInsecure(true))
	if err != nil || !strings.Contains(rec.text(), "verified=false") {
		t.Fatalf("--insecure: %v\n%s", err, rec.text())
	}
}

func TestPlaintextAuthRefusedToRemotePeer(t *testing.T) {
	g := smtptest.Start(t, false)
	src := `
connect "${ADDR}"
expect 220
send "EHLO client.test"
expect 250
auth plain "${USER}" "${PASS}"
expect 235
`
	vars := dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "PASS": g.Password}
	// The peer looks remote, as a real provider would.
	rec, _, err := runSrc(t, src, engine.WithVars(vars), engine.WithDialer(remoteDialer{}))
	var pe *engine.PolicyError
	if !errors.As(err, &pe) || pe.Rule != engine.RulePlaintextAuth {
		t.Fatalf("want PolicyError for plaintext auth, got %T %v", err, err)
	}
	if strings.Contains(rec.text(), "C: AUTH") {
		t.Errorf("AUTH was sent:\n%s", rec.text())
	}
	assertNoLeak(t, rec.text(), g.User, g.Password)
}

func TestUnsetVariableIsAScriptError(t *testing.T) {
	src := "connect \"${NO_SUCH_HOST_VAR}\"\nexpect 220\n"
	_, _, err := runSrc(t, src, engine.WithVars(dsl.MapVars{}))
	var de *dsl.Error
	if !errors.As(err, &de) || de.Pos.Line != 1 || de.Pos.Column != 10 {
		t.Fatalf("want dsl.Error at 1:10, got %T %v", err, err)
	}
}

func TestLineBreakInCommandIsRefused(t *testing.T) {
	g := smtptest.Start(t, false)
	src := "connect \"${ADDR}\"\nexpect 220\nsend \"MAIL FROM:<${FROM}>\"\nexpect 250\n"
	vars := dsl.MapVars{"ADDR": g.Addr, "FROM": "a@b\r\nRCPT TO:<x@y>"}
	rec, _, err := runSrc(t, src, engine.WithVars(vars))
	var de *dsl.Error
	if !errors.As(err, &de) || de.Pos.Line != 3 {
		t.Fatalf("want dsl.Error at line 3, got %T %v", err, err)
	}
	if strings.Contains(rec.text(), "C: MAIL") {
		t.Errorf("the command was sent:\n%s", rec.text())
	}
}

func TestConnectRefused(t *testing.T) {
	src := "connect \"127.0.0.1:1\"\nexpect 220\n"
	_, _, err := runSrc(t, src)
	var ne *engine.NetError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), "127.0.0.1:1") || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("want NetError naming host, port and cause, got %T %v", err, err)
	}
}

// TestBinaryMessage: BDAT carries the bytes exactly, long lines, bare LF,
// NUL and lines that start with a dot included, to a server that announced
// CHUNKING and BINARYMIME.
func TestBinaryMessage(t *testing.T) {
	g := smtptest.Start(t, false)
	content := "Subject: binary\r\n\r\n" + strings.Repeat("z", 3000) + "\n.\r\nbare\rCR and NUL \x00 end"
	file := t.TempDir() + "/blob.bin"
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	src := tlsPrelude + `expect 250 "BINARYMIME"
auth plain "${USER}" "${PASS}"
expect 235
send "MAIL FROM:<${USER}> BODY=BINARYMIME"
send "RCPT TO:<friend@example.test>"
message binary file "${FILE}"
expect 250
expect 250
expect 250
quit
`
	vars := dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "PASS": g.Password, "FILE": file}
	rec, _, err := runSrc(t, src, engine.WithRootCAs(g.PKI.Pool), engine.WithVars(vars))
	if err != nil {
		t.Fatalf("%v\n%s", err, rec.text())
	}
	msgs := g.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages", len(msgs))
	}
	if string(msgs[0].Data) != content {
		t.Errorf("data differs:\n%q\nwant\n%q", msgs[0].Data, content)
	}
	if !strings.Contains(rec.text(), fmt.Sprintf("C: BDAT %d LAST", len(content))) {
		t.Errorf("no BDAT line:\n%s", rec.text())
	}
}

func TestBinaryMessageNeedsBINARYMIME(t *testing.T) {
	f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
		say(c, "220 fake\r\n")
		expectLine(r)
		say(c, "250-fake\r\n250 CHUNKING\r\n")
		b, _ := io.ReadAll(r)
		return b
	})
	src := "connect \"${ADDR}\"\nexpect 220\nsend \"EHLO me\"\nexpect 250\nmessage binary \"\"\"\nx\n\"\"\"\nexpect 250\n"
	_, err := runFake(t, f, src, 2*time.Second, nil)
	var pe *engine.PolicyError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "BINARYMIME") {
		t.Fatalf("want PolicyError naming BINARYMIME, got %T %v", err, err)
	}
	if got := f.result(t); bytes.Contains(got, []byte("BDAT")) {
		t.Errorf("BDAT was sent: %q", got)
	}
}

// TestBinaryMessageRefusesEarlyReply: as with DATA, a reply that arrives
// before the content is sent would be taken for the verdict on it.
func TestBinaryMessageRefusesEarlyReply(t *testing.T) {
	f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
		say(c, "220 fake\r\n")
		expectLine(r)
		say(c, "250-fake\r\n250-CHUNKING\r\n250 BINARYMIME\r\n")
		expectLine(r)
		say(c, "250 ok\r\n250 early verdict\r\n")
		b, _ := io.ReadAll(r)
		return b
	})
	src := "connect \"${ADDR}\"\nexpect 220\nsend \"EHLO me\"\nexpect 250\nsend \"RCPT TO:<a@b>\"\nexpect 250\nmessage binary \"\"\"\nx\n\"\"\"\nexpect 250\n"
	_, err := runFake(t, f, src, 2*time.Second, nil)
	var pe *engine.ProtocolError
	if !errors.As(err, &pe) || pe.Pos.Line != 7 {
		t.Fatalf("want ProtocolError at the message step, got %T %v", err, err)
	}
	if got := f.result(t); bytes.Contains(got, []byte("BDAT")) {
		t.Errorf("BDAT was sent: %q", got)
	}
}
