package engine_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/smtptest"
)

// captureScript captures the sender go-smtp's server echoes back and uses
// it in a later step.
const captureScript = tlsPrelude + `expect 250
auth plain "${USER}" "${PASS}"
expect 235
send "MAIL FROM:<${FROM}>"
expect 250 /accepting mail from <(?P<sender>[^>]+)>/
note "sender ${sender}"
send "RSET"
expect 250
quit
`

// TestCapturesArePerRun: one Program run concurrently with different
// variables; each run sees only its own capture, and the Program (shared,
// immutable) is never written.
func TestCapturesArePerRun(t *testing.T) {
	g := smtptest.Start(t, false)
	prog := parse(t, captureScript)
	const runs = 4
	var wg sync.WaitGroup
	notes := make([]string, runs)
	captured := make([]string, runs)
	errs := make([]error, runs)
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := string(rune('a'+i)) + "@client.test"
			vars := dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "PASS": g.Password, "FROM": from}
			obs := engine.ObserverFunc(func(ev engine.Event) {
				switch ev := ev.(type) {
				case engine.Narration:
					notes[i] = ev.Text
				case engine.Captured:
					captured[i] = ev.Name + "=" + ev.Value
				}
			})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, errs[i] = engine.New(engine.WithTimeout(5*time.Second), engine.WithRootCAs(g.PKI.Pool),
				engine.WithVars(vars), engine.WithObserver(obs)).Run(ctx, prog)
		}()
	}
	wg.Wait()
	for i := range runs {
		from := string(rune('a'+i)) + "@client.test"
		if errs[i] != nil {
			t.Fatalf("run %d: %v", i, errs[i])
		}
		if notes[i] != "sender "+from || captured[i] != "sender="+from {
			t.Errorf("run %d: note %q, captured %q; want its own sender %s", i, notes[i], captured[i], from)
		}
	}
	if c := prog.Captures(); len(c) != 1 || c[0].Name != "sender" {
		t.Errorf("Program.Captures() = %+v", c)
	}
}

// TestCaptureGroupNotParticipating: a named group outside the match is a
// runtime failure that names it, not an empty variable.
func TestCaptureGroupNotParticipating(t *testing.T) {
	g := smtptest.Start(t, false)
	vars := dsl.MapVars{"ADDR": g.Addr}
	_, _, err := runSrc(t, `connect "${ADDR}"
expect 220 /ESMTP( (?P<never>NO-SUCH-WORD))?/
note "${never}"
quit
`, engine.WithVars(vars))
	var ce *engine.CaptureError
	if !errors.As(err, &ce) || ce.Name != "never" || ce.Pos.Line != 2 || ce.Pos.Column != 12 {
		t.Fatalf("err = %v, want a CaptureError for \"never\" at 2:12", err)
	}
	if d := ce.Diagnostic(); d.Title != "capture failed" {
		t.Errorf("diagnostic %+v", d)
	}
}
