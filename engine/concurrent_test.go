package engine_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/internal/smtptest"
)

// TestOneProgramManyGoroutines runs one checked Program from 8 goroutines
// at once against go-smtp's server. Programs are immutable and Run keeps
// its state per call, so `go test -race` must find nothing and every run
// must deliver its message. (Before Check existed, Run re-validated the
// shared script and wrote its compiled regexes into it: a data race.)
func TestOneProgramManyGoroutines(t *testing.T) {
	g := smtptest.Start(t, false)
	prog := parse(t, strings.ReplaceAll(submission, "${MECH}", "plain"))
	eng := engine.New(
		engine.WithTimeout(5*time.Second),
		engine.WithRootCAs(g.PKI.Pool),
		engine.WithVars(dsl.MapVars{"ADDR": g.Addr, "USER": g.User, "PASS": g.Password}),
	)
	const runs = 8
	var wg sync.WaitGroup
	errs := make(chan error, runs)
	for range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res, err := eng.Run(ctx, prog)
			if err == nil && res.Messages != 1 {
				t.Errorf("run sent %d messages, want 1", res.Messages)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("run: %v", err)
		}
	}
	if n := len(g.Messages()); n != runs {
		t.Errorf("server got %d messages, want %d", n, runs)
	}
}
