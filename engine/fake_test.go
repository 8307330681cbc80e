package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/smtptest"
)

// fakeServer accepts one connection on 127.0.0.1:0 and hands it to serve,
// for misbehaviour a real server will not produce. Whatever serve returns
// is available from result() once the client is done.
type fakeServer struct {
	addr string
	done chan []byte
}

func startFake(t *testing.T, serve func(c net.Conn, r *bufio.Reader) []byte) *fakeServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{addr: l.Addr().String(), done: make(chan []byte, 1)}
	go func() {
		c, err := l.Accept()
		l.Close()
		if err != nil {
			f.done <- nil
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		f.done <- serve(c, bufio.NewReader(c))
	}()
	t.Cleanup(func() { l.Close() })
	return f
}

// untilCleanup is closed when the test ends: a fake server that must stay
// open waits on it rather than sleeping for a guessed time.
func untilCleanup(t *testing.T) <-chan struct{} {
	ch := make(chan struct{})
	t.Cleanup(func() { close(ch) })
	return ch
}

func (f *fakeServer) result(t *testing.T) []byte {
	select {
	case b := <-f.done:
		return b
	case <-time.After(10 * time.Second):
		t.Fatal("fake server did not finish")
		return nil
	}
}

// say writes raw bytes; expectLine reads one command line.
func say(c net.Conn, s string) { io.WriteString(c, s) }

func expectLine(r *bufio.Reader) string {
	l, _ := r.ReadString('\n')
	return strings.TrimRight(l, "\r\n")
}

// greetThen is a server that greets, answers the first command with
// reply, and hangs up.
func greetThen(reply string) func(net.Conn, *bufio.Reader) []byte {
	return func(c net.Conn, r *bufio.Reader) []byte {
		say(c, "220 fake\r\n")
		expectLine(r)
		say(c, reply)
		return nil
	}
}

func runFake(t *testing.T, f *fakeServer, src string, timeout time.Duration, vars dsl.MapVars, opts ...engine.Option) (*recorder, error) {
	t.Helper()
	if vars == nil {
		vars = dsl.MapVars{}
	}
	vars["ADDR"] = f.addr
	rec, _, err := runSrc(t, src, append([]engine.Option{engine.WithTimeout(timeout), engine.WithVars(vars)}, opts...)...)
	return rec, err
}

func TestRepliesFromFakeServers(t *testing.T) {
	greetOnly := "connect \"${ADDR}\"\nexpect 220 \"${WANT:-}\"\n"
	ehlo := "connect \"${ADDR}\"\nexpect 220\nsend \"EHLO me\"\nexpect 250\n"
	tests := []struct {
		name   string
		script string
		server string // written after the client's first line (or at once for greetings)
		ok     bool
		msg    string // in the error, when !ok
		vars   dsl.MapVars
	}{
		{"bare code", ehlo, "250\r\n", true, "", nil},
		{"multi-line greeting", greetOnly, "220-first\r\n220-second line\r\n220 last\r\n", true, "", dsl.MapVars{"WANT": "SECOND"}},
		{"bare LF line ends", greetOnly, "220-a\n220 b\n", true, "", nil},
		{"long legitimate line", greetOnly, "220 " + strings.Repeat("x", 2000) + "\r\n", true, "", nil},
		{"mismatched codes", ehlo, "250-a\r\n251 b\r\n", false, "reply code changed from 250 to 251", nil},
		{"code 999", greetOnly, "999 no\r\n", false, "invalid reply code 999", nil},
		{"code 600", greetOnly, "600 no\r\n", false, "invalid reply code 600", nil},
		{"code 199", greetOnly, "199 no\r\n", false, "invalid reply code 199", nil},
		{"code 2x0", greetOnly, "2x0 no\r\n", false, "expected a three-digit code", nil},
		{"no separator", greetOnly, "220hello\r\n", false, "followed by a space or a hyphen", nil},
		{"line too long", greetOnly, "220 " + strings.Repeat("x", engine.MaxReplyLine) + "\r\n", false, "reply line longer than", nil},
		{"endless reply", greetOnly, strings.Repeat("220-more\r\n", engine.MaxReplyLines+5), false, "reply too long", nil},
		{"closed mid-reply", greetOnly, "220-a\r\n", false, "connection closed in the middle of a multi-line reply", nil},
		{"NUL and invalid UTF-8", greetOnly + "", "220 a\x00b\xff\r\n", true, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
				if strings.Contains(tc.script, "EHLO") {
					say(c, "220 fake\r\n")
					expectLine(r)
				}
				say(c, tc.server)
				// Close after writing, except where the client must time
				// out rather than see EOF.
				return nil
			})
			rec, err := runFake(t, f, tc.script, 2*time.Second, tc.vars)
			if tc.ok {
				if err != nil {
					t.Fatalf("want success, got %v\n%s", err, rec.text())
				}
				return
			}
			var pe *engine.ProtocolError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("want ProtocolError containing %q, got %T %v", tc.msg, err, err)
			}
		})
	}
}

func TestNULShownEscaped(t *testing.T) {
	f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte { say(c, "220 a\x00b\xff\x1b[31m\r\n"); return nil })
	rec, err := runFake(t, f, "connect \"${ADDR}\"\nexpect 220\n", 2*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rec.text(), `S: 220 a\x00b\xff\x1b[31m`) {
		t.Errorf("bytes not escaped:\n%q", rec.text())
	}
}

func TestSilentServerTimesOut(t *testing.T) {
	hold := make(chan struct{})
	f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte { <-hold; return nil })
	defer close(hold)
	start := time.Now()
	_, err := runFake(t, f, "connect \"${ADDR}\"\nexpect 220\n", 300*time.Millisecond, nil)
	var te *engine.TimeoutError
	if !errors.As(err, &te) || te.Op != "reply" || te.Pos.Line != 2 {
		t.Fatalf("want TimeoutError for the reply at line 2, got %T %v", err, err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s, deadline was 300ms", d)
	}
}

// TestStartTLSResponseInjection: a reply sent in plaintext after the 220
// to STARTTLS (CVE-2011-0411) is refused, whether it arrives with the 220
// or in a later segment, once the client has started the handshake. The
// server does TLS for real and answers EHLO after it, so a client without
// the check would run the whole script successfully.
func TestStartTLSResponseInjection(t *testing.T) {
	pki := smtptest.NewPKI(t)
	for _, split := range []bool{false, true} {
		t.Run(fmt.Sprintf("split=%v", split), func(t *testing.T) {
			f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
				say(c, "220 fake\r\n")
				expectLine(r) // STARTTLS
				if split {
					say(c, "220 go ahead\r\n")
					// The ClientHello shows the client has read the 220
					// and begun the handshake: inject only now.
					if _, err := r.Peek(1); err != nil {
						return nil
					}
					say(c, "250 injected\r\n")
				} else {
					say(c, "220 go ahead\r\n250 injected\r\n")
				}
				tc := tls.Server(&prereadConn{Conn: c, r: r}, pki.ServerConfig())
				if err := tc.Handshake(); err != nil {
					return nil
				}
				tr := bufio.NewReader(tc)
				expectLine(tr) // EHLO
				say(tc, "250 fake\r\n")
				return nil
			})
			rec, err := runFake(t, f, "connect \"${ADDR}\"\nexpect 220\nstarttls\nsend \"EHLO me\"\nexpect 250\n", 2*time.Second, nil,
				engine.WithRootCAs(pki.Pool))
			var pe *engine.ProtocolError
			if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "response injection") || !strings.Contains(pe.Detail, "250") {
				t.Fatalf("want the injection refused, got %T %v\n%s", err, err, rec.text())
			}
			if strings.Contains(rec.text(), "S: 250 injected") || strings.Contains(rec.text(), "TLS TLS") {
				t.Errorf("went on after the injection:\n%s", rec.text())
			}
			f.result(t)
		})
	}
}

// prereadConn reads first what a bufio.Reader already took off the
// connection.
type prereadConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *prereadConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestBytesAfter354(t *testing.T) {
	f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
		say(c, "220 fake\r\n")
		expectLine(r)
		say(c, "354 go\r\n250 early verdict\r\n")
		b, _ := io.ReadAll(r)
		return b
	})
	src := "connect \"${ADDR}\"\nexpect 220\nsend \"DATA\"\nexpect 354\nmessage \"\"\"\nhello\n\"\"\"\nexpect 250\n"
	_, err := runFake(t, f, src, 2*time.Second, nil)
	var pe *engine.ProtocolError
	if !errors.As(err, &pe) || pe.Pos.Line != 5 {
		t.Fatalf("want ProtocolError at the message step, got %T %v", err, err)
	}
	if got := f.result(t); bytes.Contains(got, []byte("hello")) {
		t.Errorf("message content was sent: %q", got)
	}
}

// TestMessageWireBytes checks the exact bytes of DATA content: CRLF line
// ends, bare CR and bare LF turned into CRLF (never passed on, the SMTP
// smuggling vector), dot-stuffing, and the terminator.
func TestMessageWireBytes(t *testing.T) {
	f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
		say(c, "220 fake\r\n")
		expectLine(r)
		say(c, "354 go\r\n")
		var data []byte
		for !bytes.HasSuffix(data, []byte("\r\n.\r\n")) {
			b, err := r.ReadByte()
			if err != nil {
				return data
			}
			data = append(data, b)
		}
		say(c, "250 ok\r\n")
		return data
	})
	src := "connect \"${ADDR}\"\nexpect 220\nsend \"DATA\"\nexpect 354\nmessage \"\"\"\nSubject: x\n\n.start\n..two\n.\n${SMUGGLE}\nend\n\"\"\"\nexpect 250\n"
	vars := dsl.MapVars{"SMUGGLE": "a\n.\nb\r.\rc\rd\r\ne"}
	rec, err := runFake(t, f, src, 2*time.Second, vars)
	if err != nil {
		t.Fatalf("%v\n%s", err, rec.text())
	}
	want := "Subject: x\r\n\r\n..start\r\n...two\r\n..\r\na\r\n..\r\nb\r\n..\r\nc\r\nd\r\ne\r\nend\r\n.\r\n"
	if got := string(f.result(t)); got != want {
		t.Errorf("wire bytes:\n%q\nwant\n%q", got, want)
	}
}

func TestMessageContentRefusedBeforeSending(t *testing.T) {
	for name, tc := range map[string]struct{ content, msg string }{
		"NUL":       {"a\x00b", "NUL"},
		"long line": {strings.Repeat("y", engine.MaxLineOctets+1), "longer than 998 octets"},
	} {
		t.Run(name, func(t *testing.T) {
			f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
				say(c, "220 fake\r\n")
				expectLine(r)
				say(c, "354 go\r\n")
				b, _ := io.ReadAll(r)
				return b
			})
			src := "connect \"${ADDR}\"\nexpect 220\nsend \"DATA\"\nexpect 354\nmessage \"\"\"\nok line\n${BODY}\n\"\"\"\nexpect 250\n"
			_, err := runFake(t, f, src, 2*time.Second, dsl.MapVars{"BODY": tc.content})
			var de *dsl.Error
			if !errors.As(err, &de) || !strings.Contains(de.Label, tc.msg) || de.Pos.Line != 7 {
				t.Fatalf("want a script error at line 7 about %s, got %T %v", tc.msg, err, err)
			}
			if got := f.result(t); bytes.Contains(got, []byte("ok line")) {
				t.Errorf("part of the message was sent: %q", got)
			}
		})
	}
}

func TestNonBase64ChallengeCancels(t *testing.T) {
	f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
		say(c, "220 fake\r\n")
		var got []string
		got = append(got, expectLine(r))
		say(c, "334 this is not base64!\r\n")
		got = append(got, expectLine(r))
		say(c, "501 cancelled\r\n")
		return []byte(strings.Join(got, "|"))
	})
	src := "connect \"${ADDR}\"\nexpect 220\nauth login \"u\" \"s3cret-pw\"\nexpect 235\n"
	_, err := runFake(t, f, src, 2*time.Second, nil)
	var pe *engine.ProtocolError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "not valid base64") {
		t.Fatalf("want ProtocolError about base64, got %T %v", err, err)
	}
	if got := string(f.result(t)); got != "AUTH LOGIN|*" {
		t.Errorf("client sent %q, want AUTH LOGIN then *", got)
	}
}

func TestPipeliningFlushesOnce(t *testing.T) {
	f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
		say(c, "220 fake\r\n")
		// All three commands must arrive before any reply is sent.
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		var cmds []string
		for i := 0; i < 3; i++ {
			cmds = append(cmds, expectLine(r))
		}
		say(c, "250 a\r\n250 b\r\n354 c\r\n")
		return []byte(strings.Join(cmds, "|"))
	})
	src := "connect \"${ADDR}\"\nexpect 220\nsend \"MAIL FROM:<a@b>\"\nsend \"RCPT TO:<c@d>\"\nsend \"DATA\"\nexpect 250 \"a\"\nexpect 250 \"b\"\nexpect 354\n"
	_, err := runFake(t, f, src, 2*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(f.result(t)); got != "MAIL FROM:<a@b>|RCPT TO:<c@d>|DATA" {
		t.Errorf("server read %q", got)
	}
}

func TestRawWritesExactBytes(t *testing.T) {
	f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
		say(c, "220 fake\r\n")
		var got []byte
		want := len("EHLO x\nMAIL FROM:<a@b>\r\n\x00.\r")
		for len(got) < want {
			b, err := r.ReadByte()
			if err != nil {
				break
			}
			got = append(got, b)
		}
		say(c, "550 5.5.2 Error: bare <LF> received\r\n")
		c.Close()
		return got
	})
	src := "connect \"${ADDR}\"\nexpect 220\nraw \"EHLO x\\nMAIL FROM:<a@b>\\r\\n\\x00.\\r\"\nexpect 550\nexpect closed\n"
	rec, err := runFake(t, f, src, 2*time.Second, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, rec.text())
	}
	if got := string(f.result(t)); got != "EHLO x\nMAIL FROM:<a@b>\r\n\x00.\r" {
		t.Errorf("server got %q", got)
	}
	if !strings.Contains(rec.text(), `C: EHLO x\nMAIL FROM:<a@b>\r\n\x00.\r (tls=false`) {
		t.Errorf("raw bytes not shown escaped:\n%s", rec.text())
	}
}

func TestExpectClosed(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server string
		ok     bool
	}{
		{"closes", "421 4.7.0 bye\r\n", true},
		{"replies instead", "421 4.7.0 bye\r\n250 still here\r\n", false},
		{"stays open", "421 4.7.0 bye\r\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open := untilCleanup(t)
			f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
				say(c, "220 fake\r\n")
				expectLine(r)
				say(c, "500 no\r\n")
				expectLine(r)
				say(c, tc.server)
				if !tc.ok {
					<-open
				}
				return nil
			})
			src := "connect \"${ADDR}\"\nexpect 220\nsend \"BAD\"\nexpect 500\nsend \"BAD\"\nexpect 421\nexpect closed\n"
			_, err := runFake(t, f, src, 500*time.Millisecond, nil)
			var ae *engine.AssertError
			switch {
			case tc.ok && err != nil:
				t.Fatalf("want success, got %v", err)
			case !tc.ok && (!errors.As(err, &ae) || ae.Want != "closed"):
				t.Fatalf("want AssertError(closed), got %T %v", err, err)
			}
		})
	}
}

func TestInterruptSaysQuit(t *testing.T) {
	f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
		say(c, "220 fake\r\n")
		expectLine(r) // NOOP, never answered
		line := expectLine(r)
		say(c, "221 bye\r\n")
		return []byte(line)
	})
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	eng := engine.New(engine.WithTimeout(5*time.Second), engine.WithObserver(rec),
		engine.WithVars(dsl.MapVars{"ADDR": f.addr}))
	start := time.Now()
	_, err := eng.Run(ctx, parse(t, "connect \"${ADDR}\"\nexpect 220\nsend \"NOOP\"\nexpect 250\n"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("interrupt took %s", d)
	}
	if got := string(f.result(t)); got != "QUIT" {
		t.Errorf("server got %q after the interrupt, want QUIT", got)
	}
	if !strings.Contains(rec.text(), "S: 221 bye") {
		t.Errorf("goodbye not reported:\n%s", rec.text())
	}
}
