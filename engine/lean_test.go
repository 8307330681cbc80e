package engine_test

import (
	"strings"
	"testing"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/smtptest"
)

// TestLeanRun: in lean mode a run reports its connection, handshake and
// each reply's verb, code and time, and nothing of the transcript: no
// step, line or content events, no outcomes.
func TestLeanRun(t *testing.T) {
	g := smtptest.Start(t, false)
	vars := dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "PASS": g.Password}
	rec, res, err := runSrc(t, strings.ReplaceAll(submission, "${MECH}", "plain"), engine.WithRootCAs(g.PKI.Pool),
		engine.WithVars(vars), engine.WithLean(true))
	if err != nil {
		t.Fatal(err)
	}
	var verbs []string
	for _, ev := range rec.events {
		switch e := ev.(type) {
		case engine.ReplyTime:
			if e.Took <= 0 || e.Code < 200 {
				t.Errorf("reply time %+v", e)
			}
			verbs = append(verbs, e.Verb)
		case engine.Connected, engine.TLSEstablished, engine.Closed:
		default:
			t.Errorf("lean run reported %T", ev)
		}
	}
	want := "(greeting) EHLO STARTTLS EHLO AUTH MAIL RCPT DATA (message) QUIT"
	if got := strings.Join(verbs, " "); got != want {
		t.Errorf("verbs %s\nwant  %s", got, want)
	}
	if len(res.Outcomes) != 0 || res.Messages != 1 || res.Replies != 10 {
		t.Errorf("outcomes %d, messages %d, replies %d", len(res.Outcomes), res.Messages, res.Replies)
	}
}
