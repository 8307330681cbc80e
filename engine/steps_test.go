package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/smtptest"
)

// everyStep uses each kind of step once, against go-smtp's server.
const everyStep = tlsPrelude + `expect 250
note "one of each step"
auth plain "${USER}" "${PASS}"
expect 235
repeat 2 {
  send "MAIL FROM:<${USER}>"
  expect 250
  send "RCPT TO:<friend@example.test>"
  expect 250
  send "DATA"
  expect 354
  message """
Subject: every step, ${REPEAT} of run ${ITERATION}

"""
  expect 250
}
raw "NOOP\r\n"
expect 250
quit
`

// TestEveryStepKindRuns is the engine's side of the step registry's
// contract: a run that uses every kind dsl registers must start each of
// them and pass, so a step added to the language without its case in
// exec's type switch fails here (exec answers "unknown step").
func TestEveryStepKindRuns(t *testing.T) {
	g := smtptest.Start(t, false)
	vars := dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "PASS": g.Password}
	rec, _, err := runSrc(t, everyStep, engine.WithRootCAs(g.PKI.Pool), engine.WithVars(vars))
	if err != nil {
		t.Fatalf("run: %v\n%s", err, rec.text())
	}
	started := map[string]bool{}
	for _, ev := range rec.events {
		if s, ok := ev.(engine.StepStarted); ok {
			started[s.Kind] = true
		}
	}
	for _, k := range dsl.StepKinds() {
		if k.Keyword == "include" {
			continue // dsl.Check splices it away: a Program never holds one
		}
		if !started[k.Keyword] {
			t.Errorf("no %s step ran; add one to everyStep", k.Keyword)
		}
	}
}

// TestRepeatRunsTheBlockWithItsNumber: the block's transaction runs twice
// on one connection, each message numbered by ${REPEAT} and the run by
// ${ITERATION}; an error inside names the iteration.
func TestRepeatRunsTheBlockWithItsNumber(t *testing.T) {
	g := smtptest.Start(t, false)
	vars := dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "PASS": g.Password}
	ctx := engine.WithIteration(context.Background(), 7)
	prog := parse(t, everyStep)
	res, err := engine.New(engine.WithRootCAs(g.PKI.Pool), engine.WithVars(vars)).Run(ctx, prog)
	if err != nil {
		t.Fatal(err)
	}
	msgs := g.Messages()
	if len(msgs) != 2 || res.Messages != 2 {
		t.Fatalf("%d messages delivered, %d reported; want 2", len(msgs), res.Messages)
	}
	for i, m := range msgs {
		want := fmt.Sprintf("Subject: every step, %d of run 7", i+1)
		if !strings.Contains(string(m.Data), want) {
			t.Errorf("message %d lacks %q:\n%s", i, want, m.Data)
		}
	}

	// The second iteration's RCPT is refused: the error says which.
	bad := strings.Replace(everyStep, `"RCPT TO:<friend@example.test>"`, `"RCPT TO:<friend${REPEAT}@example.test>"`, 1)
	bad = strings.Replace(bad, "  expect 250\n  send \"DATA\"", "  expect 250 \"friend1\"\n  send \"DATA\"", 1)
	_, err = engine.New(engine.WithRootCAs(g.PKI.Pool), engine.WithVars(vars)).Run(context.Background(), parse(t, bad))
	var ie *engine.IterationError
	var ae *engine.AssertError
	if !errors.As(err, &ie) || ie.Iteration != 2 || ie.Count != 2 || !errors.As(err, &ae) {
		t.Fatalf("got %v, want iteration 2 of 2 wrapping an AssertError", err)
	}
}

// TestCommandsAfterTheDotAreCommands: MAIL, RCPT and DATA written right
// after a message's content, before its verdict is read (one RFC 2920
// group), are commands whose replies are matched to them in order, not
// more content.
func TestCommandsAfterTheDotAreCommands(t *testing.T) {
	g := smtptest.Start(t, false)
	vars := dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "PASS": g.Password}
	src := tlsPrelude + `expect 250
auth plain "${USER}" "${PASS}"
expect 235
send "MAIL FROM:<${USER}>"
send "RCPT TO:<friend@example.test>"
send "DATA"
expect 250
expect 250
expect 354
message """
Subject: first

"""
send "MAIL FROM:<${USER}>"
send "RCPT TO:<friend@example.test>"
send "DATA"
expect 250
expect 250
expect 250
expect 354
message """
Subject: second

"""
expect 250
quit
`
	rec, _, err := runSrc(t, src, engine.WithRootCAs(g.PKI.Pool), engine.WithVars(vars))
	if err != nil {
		t.Fatalf("run: %v\n%s", err, rec.text())
	}
	var answers []string
	for _, ev := range rec.events {
		if r, ok := ev.(engine.Received); ok {
			answers = append(answers, r.Answers)
		}
	}
	want := "(message)|MAIL FROM:<" + g.User + ">|RCPT TO:<friend@example.test>|DATA|(message)|QUIT"
	if got := strings.Join(answers[len(answers)-6:], "|"); got != want {
		t.Errorf("replies answer %s\nwant %s", got, want)
	}
	if n := len(g.Messages()); n != 2 {
		t.Errorf("%d messages delivered, want 2", n)
	}
}
