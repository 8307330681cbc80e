package smtptest

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// Serve runs a hand-written server on loopback, for misbehaviour no real
// server shows: handle gets each connection, with a reader on it, in its
// own goroutine and under a 10 s deadline, so a test cannot hang on it.
// The listener closes when the test ends. It returns the address.
func Serve(t testing.TB, handle func(c net.Conn, r *bufio.Reader)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				handle(c, bufio.NewReader(c))
			}()
		}
	}()
	return l.Addr().String()
}

// NeverAnswersNOOP greets, leaves the first command (a NOOP) unanswered,
// and reports the line that follows (what an interrupted client says, as
// QUIT) on quits, answering 221: a conversation that is certainly still
// open when the test interrupts it.
func NeverAnswersNOOP(quits chan<- string) func(net.Conn, *bufio.Reader) {
	return func(c net.Conn, r *bufio.Reader) {
		c.Write([]byte("220 slow server\r\n"))
		r.ReadString('\n') // NOOP, never answered
		line, _ := r.ReadString('\n')
		c.Write([]byte("221 bye\r\n"))
		quits <- strings.TrimSpace(line)
	}
}
