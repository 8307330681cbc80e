package engine_test

import (
	"bufio"
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/smtptest"
)

// TestReplyTimes: a reply is timed from the command it answers, by when
// its bytes arrived. The second of two pipelined replies comes 100ms
// after the first, during a 500ms pause before the next step, and the
// command sent after the pause goes out later still: neither the pause
// nor that later write may change the 100ms.
func TestReplyTimes(t *testing.T) {
	const gap, pauseFor = 100 * time.Millisecond, 500 * time.Millisecond
	open := untilCleanup(t)
	f := startFake(t, func(c net.Conn, r *bufio.Reader) []byte {
		say(c, "220 fake\r\n")
		expectLine(r) // MAIL
		expectLine(r) // RCPT
		say(c, "250 one\r\n")
		time.Sleep(gap) // the server's own delay is what is measured
		say(c, "250 two\r\n")
		expectLine(r) // NOOP
		say(c, "250 three\r\n")
		<-open
		return nil
	})
	src := `connect "${ADDR}"
expect 220
send "MAIL FROM:<a@b>"
send "RCPT TO:<c@d>"
expect 250
send "NOOP"
expect 250
expect 250
`
	pause := func(ctx context.Context, next engine.StepStarted) error {
		if next.Kind == "send" && next.Source == `send "NOOP"` {
			time.Sleep(pauseFor) // a user pondering a --step prompt
		}
		return nil
	}
	rec, res, err := runSrc(t, src, engine.WithVars(dsl.MapVars{"ADDR": f.addr}), engine.WithBeforeStep(pause))
	if err != nil {
		t.Fatalf("%v\n%s", err, rec.text())
	}
	var rcpt engine.Received
	var rcptSent engine.Sent
	for _, ev := range rec.events {
		switch ev := ev.(type) {
		case engine.Received:
			if ev.Answers == "RCPT TO:<c@d>" {
				rcpt = ev
			}
		case engine.Sent:
			if ev.Line == "RCPT TO:<c@d>" {
				rcptSent = ev
			}
		}
	}
	if rcpt.Reply == nil || rcpt.Reply.Lines[0] != "250 two" {
		t.Fatalf("no reply matched to RCPT:\n%s", rec.text())
	}
	if d := rcpt.Elapsed(); d < gap-10*time.Millisecond || d >= pauseFor-50*time.Millisecond {
		t.Errorf("RCPT's reply took %s; want about %s (Asked %s, First %s, Last %s)", d, gap,
			rcpt.Asked.Format(time.StampMicro), rcpt.First.Format(time.StampMicro), rcpt.Last.Format(time.StampMicro))
	}
	if rcpt.Asked.Before(rcptSent.At) || rcpt.First.After(rcpt.Last) || rcpt.Step != 6 {
		t.Errorf("times out of order or wrong step: sent %v, %+v", rcptSent.At, rcpt)
	}

	// The result has every step, with its kind, line and replies.
	var kinds []string
	var replies []int
	for i, o := range res.Outcomes {
		if o.Index != i || !o.OK || o.Start.IsZero() {
			t.Errorf("outcome %d: %+v", i, o)
		}
		kinds = append(kinds, o.Kind)
		replies = append(replies, len(o.Replies))
	}
	if want := []string{"connect", "expect", "send", "send", "expect", "send", "expect", "expect"}; !slices.Equal(kinds, want) {
		t.Errorf("kinds %q, want %q", kinds, want)
	}
	if want := []int{0, 1, 0, 0, 1, 0, 1, 1}; !slices.Equal(replies, want) {
		t.Errorf("replies per step %v, want %v", replies, want)
	}
	if o := res.Outcomes[6]; o.Line != 7 || o.Replies[0].Elapsed() != rcpt.Elapsed() {
		t.Errorf("outcome of line 7: %+v", o)
	}
}

// TestFailedStepOutcome: the step that fails is the last outcome, not OK.
func TestFailedStepOutcome(t *testing.T) {
	f := startFake(t, greetThen("550 no\r\n"))
	_, res, err := runSrc(t, "connect \"${ADDR}\"\nexpect 220\nsend \"NOOP\"\nexpect 250\n", engine.WithVars(dsl.MapVars{"ADDR": f.addr}))
	if err == nil || len(res.Outcomes) != 4 {
		t.Fatalf("err %v, outcomes %+v", err, res.Outcomes)
	}
	last := res.Outcomes[3]
	if last.OK || last.Kind != "expect" || len(last.Replies) != 1 || last.Replies[0].Reply.Code != 550 {
		t.Errorf("failed step: %+v", last)
	}
}

// TestPausesOverTLS: reading ahead during pauses, over plaintext and over
// TLS, leaves the conversation intact (a pause before every step of a
// whole submission, as --step makes).
func TestPausesOverTLS(t *testing.T) {
	g := smtptest.Start(t, false)
	src := strings.ReplaceAll(submission, "${MECH}", "login")
	vars := dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "PASS": g.Password}
	pauses := 0
	pause := func(context.Context, engine.StepStarted) error {
		pauses++
		time.Sleep(5 * time.Millisecond)
		return nil
	}
	rec, res, err := runSrc(t, src, engine.WithRootCAs(g.PKI.Pool), engine.WithVars(vars), engine.WithBeforeStep(pause))
	if err != nil {
		t.Fatalf("run: %v\n%s", err, rec.text())
	}
	if len(g.Messages()) != 1 || pauses != res.Steps {
		t.Errorf("%d messages, %d pauses for %d steps", len(g.Messages()), pauses, res.Steps)
	}
}
