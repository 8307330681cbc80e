package engine_test

import (
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
send "MAIL FROM:<${USER}>"
expect 250
send "RCPT TO:<friend@example.test>"
expect 250
send "DATA"
expect 354
message """
Subject: every step

"""
expect 250
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
