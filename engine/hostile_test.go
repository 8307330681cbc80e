package engine_test

import (
	"bufio"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
)

// Hostile and broken servers: each case asserts what the client does, and
// that no credentials are sent where TLS did not happen.

const tlsThenAuth = `connect "${ADDR}"
expect 220
send "EHLO me"
expect 250
starttls
send "EHLO me"
expect 250
auth plain "user@example.test" "${PASS}"
expect 235
`

func TestStartTLSRefusedSendsNoCredentials(t *testing.T) {
	for _, reply := range []string{
		"502 5.5.1 Unrecognized command\r\n",
		"454 4.7.0 TLS not available due to local problem\r\n",
		"421 4.7.0 closing\r\n",
		"500 STARTTLS?\r\n",
	} {
		t.Run(reply[:3], func(t *testing.T) {
			f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
				say(c, "220 fake\r\n")
				expectLine(r)
				say(c, "250-fake\r\n250 AUTH PLAIN\r\n") // no STARTTLS offered
				expectLine(r)
				say(c, reply)
				c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
				rest, _ := r.ReadString(0)
				return []byte(rest)
			})
			_, err := runFake(t, f, tlsThenAuth, 2*time.Second, dsl.MapVars{"PASS": "hunter2-secret"})
			var ne *engine.NetError
			if !errors.As(err, &ne) || ne.Op != "STARTTLS" || ne.Pos.Line != 5 {
				t.Fatalf("want NetError at the starttls step, got %T %v", err, err)
			}
			if got := string(f.result(t)); got != "" {
				t.Errorf("client sent more after the refused STARTTLS: %q", got)
			}
		})
	}
}

func TestEHLORefused(t *testing.T) {
	f := startFake(t, greetThen("554 5.7.1 go away\r\n"))
	_, err := runFake(t, f, tlsThenAuth, 2*time.Second, dsl.MapVars{"PASS": "x"})
	var ae *engine.AssertError
	if !errors.As(err, &ae) || ae.Got.Code != 554 || ae.Pos.Line != 4 {
		t.Fatalf("want AssertError for the 554 at line 4, got %T %v", err, err)
	}
}

func TestDrippingReplyHitsTheDeadline(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
		for {
			select {
			case <-stop:
				return nil
			case <-time.After(20 * time.Millisecond):
				if _, err := c.Write([]byte("220-still greeting\r\n")); err != nil {
					return nil
				}
			}
		}
	})
	start := time.Now()
	_, err := runFake(t, f, "connect \"${ADDR}\"\nexpect 220\n", 300*time.Millisecond, nil)
	var te *engine.TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("want TimeoutError, got %T %v", err, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s with a 300ms deadline", d)
	}
}

func TestFewerPipelinedRepliesThanCommands(t *testing.T) {
	open := untilCleanup(t)
	f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
		say(c, "220 fake\r\n")
		expectLine(r)
		expectLine(r)
		say(c, "250 one\r\n") // the second reply never comes
		<-open
		return nil
	})
	src := "connect \"${ADDR}\"\nexpect 220\nsend \"MAIL FROM:<a@b>\"\nsend \"RCPT TO:<c@d>\"\nexpect 250\nexpect 250\n"
	_, err := runFake(t, f, src, 300*time.Millisecond, nil)
	var te *engine.TimeoutError
	if !errors.As(err, &te) || te.Pos.Line != 6 {
		t.Fatalf("want a timeout at line 6, got %T %v", err, err)
	}
}

func TestClosedAfterDataIsNotConfirmed(t *testing.T) {
	for name, closeAt := range map[string]string{"after 354": "354", "before the verdict": "."} {
		t.Run(name, func(t *testing.T) {
			f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
				say(c, "220 fake\r\n")
				expectLine(r)
				say(c, "354 go\r\n")
				if closeAt == "." {
					for expectLine(r) != "." {
					}
				}
				return nil
			})
			src := "connect \"${ADDR}\"\nexpect 220\nsend \"DATA\"\nexpect 354\nmessage \"\"\"\nhello\n\"\"\"\nexpect 250\n"
			_, err := runFake(t, f, src, 2*time.Second, nil)
			var ne *engine.NetError
			if !errors.As(err, &ne) || !errors.Is(err, engine.ErrClosed) || ne.Pos.Line != 8 {
				t.Fatalf("want NetError(closed) at the expect on line 8, got %T %v", err, err)
			}
			if !errors.Is(err, engine.ErrNotConfirmed) || !strings.Contains(err.Error(), "message not confirmed") {
				t.Errorf("error does not say the message is unconfirmed: %v", err)
			}
		})
	}
}

func Test421ToAnyCommand(t *testing.T) {
	f := startFake(t, greetThen("421 4.3.2 System not accepting network messages\r\n"))
	rec, err := runFake(t, f, tlsThenAuth, 2*time.Second, dsl.MapVars{"PASS": "x"})
	var ae *engine.AssertError
	if !errors.As(err, &ae) || ae.Got.Code != 421 {
		t.Fatalf("want the 421 reported, got %T %v", err, err)
	}
	if strings.Contains(rec.text(), "STARTTLS") {
		t.Errorf("client went on after 421:\n%s", rec.text())
	}
}

// TestEchoedSecretIsMasked: a server that quotes the client's AUTH data
// back in its reply must not make the secret appear in the output.
func TestEchoedSecretIsMasked(t *testing.T) {
	f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
		say(c, "220 fake\r\n")
		line := expectLine(r)
		blob := strings.TrimPrefix(line, "AUTH PLAIN ")
		say(c, "535-5.7.8 bad credentials: "+blob+"\r\n535 5.7.8 password was pa55-w0rd-echo\r\n")
		return nil
	})
	src := "connect \"${ADDR}\"\nexpect 220\nauth plain \"user@example.test\" \"${PASS}\"\nexpect 235\n"
	rec, err := runFake(t, f, src, 2*time.Second, dsl.MapVars{"PASS": "pa55-w0rd-echo"})
	var ae *engine.AssertError
	if !errors.As(err, &ae) {
		t.Fatalf("want AssertError, got %v", err)
	}
	out := rec.text() + err.Error() + ae.Got.String() + dsl.Render(ae.Diagnostic(), nil, dsl.Styler{})
	assertNoLeak(t, out, "user@example.test", "pa55-w0rd-echo")
	if !strings.Contains(out, engine.Mask) {
		t.Errorf("nothing was masked:\n%s", out)
	}
}
