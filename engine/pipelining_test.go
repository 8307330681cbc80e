package engine_test

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/smtprun/smtprun/engine"
)

// TestPipeliningNotice: a script that sends a command before reading the
// reply to the one before gets a Notice when the server's EHLO did not
// announce PIPELINING (mailpit does not), and none when it did.
func TestPipeliningNotice(t *testing.T) {
	const script = "connect \"${ADDR}\"\nexpect 220\nsend \"EHLO me\"\nexpect 250\n" +
		"send \"MAIL FROM:<a@example.org>\"\nsend \"RCPT TO:<b@example.org>\"\nexpect 250\nexpect 250\nquit\n"
	for _, tc := range []struct {
		name   string
		ehlo   string
		notice bool
	}{
		{"not announced", "250-fake\r\n250 8BITMIME\r\n", true},
		{"announced", "250-fake\r\n250 PIPELINING\r\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
				say(c, "220 fake\r\n")
				expectLine(r)
				say(c, tc.ehlo)
				expectLine(r)
				expectLine(r)
				say(c, "250 ok\r\n250 ok\r\n")
				expectLine(r)
				say(c, "221 bye\r\n")
				return nil
			})
			rec, err := runFake(t, f, script, 5*time.Second, nil)
			if err != nil {
				t.Fatal(err)
			}
			var notices []engine.NoticeCode
			rec.mu.Lock()
			for _, e := range rec.events {
				if n, ok := e.(engine.Notice); ok {
					notices = append(notices, n.Code)
				}
			}
			rec.mu.Unlock()
			got := len(notices) == 1 && notices[0] == engine.NoticePipeliningUnannounced
			if got != tc.notice || len(notices) > 1 {
				t.Errorf("notices %q, want the pipelining notice: %v", notices, tc.notice)
			}
		})
	}
}
