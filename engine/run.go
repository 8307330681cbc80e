package engine

import (
	"context"
	"errors"
	"time"

	"github.com/smtprun/smtprun/dsl"
)

// Result summarises a run that ended without error.
type Result struct {
	Steps    int           // steps executed
	Replies  int           // replies read
	Messages int           // message contents sent
	Duration time.Duration // wall time of the run
}

// Run executes a validated script. It returns at the first failure with one
// of the typed errors described in the package doc.
func (e *Engine) Run(ctx context.Context, s *dsl.Script) (Result, error) {
	return Result{}, errors.New("not implemented yet")
}
