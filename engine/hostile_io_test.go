package engine_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
)

// Hostile servers and message sources against the client's waits and
// writes. Every case is bounded in time.

// dataServer greets, answers EHLO (announcing binary MIME when binary),
// answers DATA with 354 and returns the content it then reads, or the
// BDAT line and its chunk.
func dataServer(binary bool) func(net.Conn, *bufio.Reader) []byte {
	return func(c net.Conn, r *bufio.Reader) []byte {
		say(c, "220 fake\r\n")
		expectLine(r) // EHLO
		say(c, "250-fake\r\n250-CHUNKING\r\n250 BINARYMIME\r\n")
		if binary {
			line := expectLine(r)
			var n int
			fmt.Sscanf(line, "BDAT %d LAST", &n)
			body := make([]byte, n)
			io.ReadFull(r, body)
			say(c, "250 ok\r\n")
			return []byte(line + "\n" + string(body))
		}
		expectLine(r) // DATA
		say(c, "354 go\r\n")
		var got strings.Builder
		for l := expectLine(r); l != "."; l = expectLine(r) {
			got.WriteString(l + "\n")
		}
		say(c, "250 ok\r\n")
		return []byte(got.String())
	}
}

// pipePath is a path that opens the read end of a pipe, as /dev/stdin
// does when smtprun is fed by a pipe.
func pipePath(t *testing.T, content string) string {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	go func() {
		io.WriteString(w, content)
		w.Close()
	}()
	return fmt.Sprintf("/proc/self/fd/%d", r.Fd())
}

// TestMessageFromAPipe: a pipe was read twice, once to check
// and once to send, and the second read found it empty: an empty message
// sent and reported as success.
func TestMessageFromAPipe(t *testing.T) {
	const content = "Subject: piped\r\n\r\nhello from a pipe\r\n"
	for _, binary := range []bool{false, true} {
		t.Run(fmt.Sprintf("binary=%v", binary), func(t *testing.T) {
			f := startFake(t, dataServer(binary))
			src := "connect \"${ADDR}\"\nexpect 220\nsend \"EHLO me\"\nexpect 250\nsend \"DATA\"\nexpect 354\nmessage file \"${FILE}\"\nexpect 250\n"
			if binary {
				src = "connect \"${ADDR}\"\nexpect 220\nsend \"EHLO me\"\nexpect 250\nmessage binary file \"${FILE}\"\nexpect 250\n"
			}
			rec, err := runFake(t, f, src, 2*time.Second, dsl.MapVars{"FILE": pipePath(t, content)})
			if err != nil {
				t.Fatalf("%v\n%s", err, rec.text())
			}
			got := string(f.result(t))
			if !strings.Contains(got, "hello from a pipe") {
				t.Errorf("the server got %q", got)
			}
			if binary && !strings.HasPrefix(got, fmt.Sprintf("BDAT %d LAST", len(content))) {
				t.Errorf("BDAT not sized from the content: %q", got)
			}
		})
	}
}

func mkfifo(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFIFOMessageHonoursDeadlineAndCancel: opening a FIFO nobody
// writes to blocked in open(2), past --timeout and every signal.
func TestFIFOMessageHonoursDeadlineAndCancel(t *testing.T) {
	src := "connect \"${ADDR}\"\nexpect 220\nsend \"EHLO me\"\nexpect 250\nsend \"DATA\"\nexpect 354\nmessage file \"${FILE}\"\nexpect 250\n"
	t.Run("timeout", func(t *testing.T) {
		f := startFake(t, dataServer(false))
		start := time.Now()
		_, err := runFake(t, f, src, 500*time.Millisecond, dsl.MapVars{"FILE": mkfifo(t)})
		var te *engine.TimeoutError
		if !errors.As(err, &te) {
			t.Fatalf("want TimeoutError, got %T %v", err, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %s with a 500ms timeout", d)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		f := startFake(t, dataServer(false))
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(300*time.Millisecond, cancel)
		eng := engine.New(engine.WithTimeout(time.Minute), engine.WithVars(dsl.MapVars{"ADDR": f.addr, "FILE": mkfifo(t)}))
		start := time.Now()
		_, err := eng.Run(ctx, parse(t, src))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("want context.Canceled, got %T %v", err, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("cancel took %s", d)
		}
	})
	t.Run("endless writer", func(t *testing.T) {
		f := startFake(t, dataServer(false))
		p := mkfifo(t)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			w, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			defer w.Close()
			line := []byte(strings.Repeat("y\n", 32<<10))
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := w.Write(line); err != nil {
					return
				}
			}
		}()
		defer engine.SetMaxStreamedMessage(1 << 20)()
		start := time.Now()
		_, err := runFake(t, f, src, 2*time.Second, dsl.MapVars{"FILE": p})
		var de *dsl.Error
		if !errors.As(err, &de) || !strings.Contains(de.Label, "more than 1 MiB") {
			t.Fatalf("want the size bound reported, got %T %v", err, err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("took %s", d)
		}
	})
}

// smallBuffers fixes both sides' socket buffers small (Linux autotunes a
// loopback receiver up to tens of MB), so a few MB fill them and a write
// blocks, quickly even under the race detector.
type smallBuffers struct{}

func (smallBuffers) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err == nil {
		c.(*net.TCPConn).SetWriteBuffer(16 << 10)
	}
	return c, err
}

func smallReadBuffer(c net.Conn) { c.(*net.TCPConn).SetReadBuffer(16 << 10) }

// neverReads greets and then reads nothing, so the client's writes fill
// the socket buffers and block.
func neverReads(t *testing.T) func(net.Conn, *bufio.Reader) []byte {
	open := untilCleanup(t)
	return func(c net.Conn, r *bufio.Reader) []byte {
		smallReadBuffer(c)
		say(c, "220 fake\r\n")
		<-open
		return nil
	}
}

// TestLargeWriteHasADeadline: a send line larger than the write
// buffer went straight to the connection without a deadline.
func TestLargeWriteHasADeadline(t *testing.T) {
	f := startFake(t, neverReads(t))
	start := time.Now()
	_, err := runFake(t, f, "connect \"${ADDR}\"\nexpect 220\nsend \"${BIG}\"\nexpect 250\n", 500*time.Millisecond,
		dsl.MapVars{"BIG": strings.Repeat("x", 4<<20)}, engine.WithDialer(smallBuffers{}))
	var te *engine.TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("want TimeoutError, got %T %v", err, err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("took %s with a 500ms timeout", d)
	}
}

// TestWriteErrorsInAMessageAreRuntimeErrors: a server that stalls
// or resets mid-DATA was reported as a script error ("cannot send
// message", exit 2); it is the network's doing (exit 3).
func TestWriteErrorsInAMessageAreRuntimeErrors(t *testing.T) {
	body := strings.Repeat(strings.Repeat("z", 900)+"\n", 1_000) // 900 KB, far beyond the small buffers
	src := "connect \"${ADDR}\"\nexpect 220\nsend \"DATA\"\nexpect 354\nmessage \"\"\"\n${BODY}\n\"\"\"\nexpect 250\n"
	for _, reset := range []bool{false, true} {
		t.Run(fmt.Sprintf("reset=%v", reset), func(t *testing.T) {
			open := untilCleanup(t)
			f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
				smallReadBuffer(c)
				say(c, "220 fake\r\n")
				expectLine(r)
				say(c, "354 go\r\n")
				expectLine(r)
				if reset {
					c.(*net.TCPConn).SetLinger(0)
					c.Close()
					return nil
				}
				<-open
				return nil
			})
			start := time.Now()
			_, err := runFake(t, f, src, 500*time.Millisecond, dsl.MapVars{"BODY": body}, engine.WithDialer(smallBuffers{}))
			var de *dsl.Error
			if err == nil || errors.As(err, &de) {
				t.Fatalf("want a runtime error, got %T %v", err, err)
			}
			var te *engine.TimeoutError
			var ne *engine.NetError
			if !errors.As(err, &te) && !errors.As(err, &ne) {
				t.Errorf("want TimeoutError or NetError, got %T %v", err, err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

// TestInterruptAfterDATASaysNothing: Ctrl-C while the reply to
// DATA was pending sent QUIT, which a server that had sent 354 reads as
// message text; and an interrupt during the TLS handshake could write a
// plaintext QUIT.
func TestInterruptAfterDATASaysNothing(t *testing.T) {
	for _, tc := range []struct{ name, src, cmd string }{
		{"DATA", "connect \"${ADDR}\"\nexpect 220\nsend \"DATA\"\nexpect 354\n", "DATA"},
		{"TLS handshake", "connect \"${ADDR}\"\nexpect 220\nstarttls\nsend \"EHLO me\"\nexpect 250\n", "STARTTLS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
				say(c, "220 fake\r\n")
				expectLine(r)
				if tc.cmd == "STARTTLS" {
					say(c, "220 go ahead\r\n")
					r.Peek(5) // the ClientHello begins; the handshake stalls here
					r.Discard(r.Buffered())
				}
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				rest, _ := io.ReadAll(r)
				return rest
			})
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(300*time.Millisecond, cancel)
			eng := engine.New(engine.WithTimeout(5*time.Second), engine.WithVars(dsl.MapVars{"ADDR": f.addr}))
			_, err := eng.Run(ctx, parse(t, tc.src))
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("want context.Canceled, got %v", err)
			}
			if got := string(f.result(t)); strings.Contains(got, "QUIT") {
				t.Errorf("client wrote QUIT after %s: %q", tc.cmd, got)
			}
		})
	}
}

// TestSecretInSendKeepsThePlaintextRule: a hand-written AUTH with
// send went out unencrypted to a remote peer where auth is refused.
func TestSecretInSendKeepsThePlaintextRule(t *testing.T) {
	const pass = "plain-text-secret"
	for name, line := range map[string]string{
		"base64":   base64.StdEncoding.EncodeToString([]byte(pass)),
		"as is":    "AUTH PLAIN " + pass,
		"PLAIN":    "AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00u\x00"+pass)),
		"raw step": "",
	} {
		t.Run(name, func(t *testing.T) {
			f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
				say(c, "220 fake\r\n")
				c.SetReadDeadline(time.Now().Add(time.Second))
				rest, _ := io.ReadAll(r)
				return rest
			})
			step := "send \"${LINE}\""
			if line == "" {
				step, line = "raw \"AUTH LOGIN ${B64}\\r\\n\"", ""
			}
			src := "connect \"${ADDR}\"\nexpect 220\n" + step + "\nexpect 334\nstarttls\nauth plain \"u\" \"${PASS}\"\nexpect 235\n"
			_, err := runFake(t, f, src, 2*time.Second,
				dsl.MapVars{"PASS": pass, "LINE": line, "B64": base64.StdEncoding.EncodeToString([]byte(pass))},
				engine.WithDialer(remoteDialer{}))
			var pe *engine.PolicyError
			if !errors.As(err, &pe) || pe.Rule != engine.RulePlaintextAuth || pe.Pos.Line != 3 {
				t.Fatalf("want the plaintext rule at line 3, got %T %v", err, err)
			}
			if got := string(f.result(t)); got != "" {
				t.Errorf("server got %q", got)
			}
		})
	}
}

// TestBinaryMessageWriteDeadline: the binary form of the above. The BDAT chunk used to
// be written under whatever deadline an earlier flush had set: a chunk to
// a server that stops reading must end in a timeout (a runtime error),
// and one to a server that keeps reading must not be cut off by it.
func TestBinaryMessageWriteDeadline(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(file, []byte(strings.Repeat("\x00\x01binary", 1<<17)), 0o600); err != nil { // 1 MB
		t.Fatal(err)
	}
	src := "connect \"${ADDR}\"\nexpect 220\nsend \"EHLO me\"\nexpect 250\nmessage binary file \"${FILE}\"\nexpect 250\n"
	t.Run("stalled", func(t *testing.T) {
		open := untilCleanup(t)
		f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
			smallReadBuffer(c)
			say(c, "220 fake\r\n")
			expectLine(r)
			say(c, "250-fake\r\n250-CHUNKING\r\n250 BINARYMIME\r\n")
			<-open
			return nil
		})
		start := time.Now()
		_, err := runFake(t, f, src, 500*time.Millisecond, dsl.MapVars{"FILE": file}, engine.WithDialer(smallBuffers{}))
		var te *engine.TimeoutError
		if !errors.As(err, &te) {
			t.Fatalf("want TimeoutError, got %T %v", err, err)
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("took %s", d)
		}
	})
	t.Run("slow but moving", func(t *testing.T) {
		f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
			smallReadBuffer(c)
			say(c, "220 fake\r\n")
			expectLine(r)
			say(c, "250-fake\r\n250-CHUNKING\r\n250 BINARYMIME\r\n")
			var n int
			fmt.Sscanf(expectLine(r), "BDAT %d LAST", &n)
			// Over a second in all, each pause far under the timeout.
			buf := make([]byte, 256<<10)
			for n > 0 {
				time.Sleep(40 * time.Millisecond)
				k, err := r.Read(buf[:min(len(buf), n)])
				if err != nil {
					return nil
				}
				n -= k
			}
			say(c, "250 ok\r\n")
			return nil
		})
		rec, err := runFake(t, f, src, 700*time.Millisecond, dsl.MapVars{"FILE": file}, engine.WithDialer(smallBuffers{}))
		if err != nil {
			t.Fatalf("a moving transfer was cut off: %v\n%s", err, rec.text())
		}
	})
}
