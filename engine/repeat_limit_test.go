package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/smtptest"
)

// TestRepeatCountsFromVariablesAreCapped: a count Check could not see
// (a variable) is held to dsl.MaxSteps when the engine reads it, before
// the block sends anything; counts inside the limit run in full against
// a real server.
func TestRepeatCountsFromVariablesAreCapped(t *testing.T) {
	const head = "connect \"${ADDR}\"\nexpect 220\nsend \"EHLO client.test\"\nexpect 250\n"
	for _, tc := range []struct {
		name, body string
		vars       dsl.MapVars
		noops      int    // NOOPs the server sees
		want       string // the refusal, or "" for a run that completes
	}{
		{"one block", "repeat ${N} {\n  send \"NOOP\"\n  expect 250\n}\n", dsl.MapVars{"N": "5000001"}, 0,
			"test.smtp:5:8: too many steps: with ${N} = 5000001 the run expands to 10000007 steps; at most 10^7"},
		{"nested, refused before the outer block's first iteration runs",
			"repeat ${N} {\n  repeat ${M} {\n    send \"NOOP\"\n    expect 250\n  }\n}\n", dsl.MapVars{"N": "4000", "M": "4000"}, 0,
			"test.smtp:6:10: too many steps: with ${M} = 4000 the run expands to 32000005 steps"},
		{"a default", "repeat 100 {\n  repeat ${N:-100000} {\n    send \"NOOP\"\n    expect 250\n  }\n}\n", nil, 0,
			"test.smtp:6:10: too many steps: with ${N:-100000} = 100000 the run expands to 20000005 steps"},
		{"inside the limit", "repeat ${N} {\n  repeat ${M} {\n    send \"NOOP\"\n    expect 250\n  }\n}\n", dsl.MapVars{"N": "3", "M": "2"}, 6, ""},
		{"a count that changes each time", "repeat 3 {\n  repeat ${REPEAT} {\n    send \"NOOP\"\n    expect 250\n  }\n}\n", nil, 6, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := smtptest.Start(t, false)
			vars := dsl.MapVars{"ADDR": g.Addr}
			for k, v := range tc.vars {
				vars[k] = v
			}
			prog := parse(t, head+tc.body+"quit\n")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := engine.New(engine.WithTimeout(5*time.Second), engine.WithVars(vars)).Run(ctx, prog)
			var ie *engine.InputError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("run: %v", err)
			case tc.want != "" && (!errors.As(err, &ie) || ie.Code != engine.InputTooManySteps || !strings.HasPrefix(ie.Diag.Error(), tc.want)):
				t.Fatalf("got %v, want %s", err, tc.want)
			}
			deadline := time.Now().Add(2 * time.Second)
			for strings.Count(g.Wire(), "NOOP") < tc.noops && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := strings.Count(g.Wire(), "NOOP"); n != tc.noops {
				t.Errorf("the server saw %d NOOPs, want %d", n, tc.noops)
			}
		})
	}
}
