package main

import (
	"context"
	"errors"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
)

// Exit codes, as documented in --help and the README.
const (
	exitOK          = 0
	exitUsage       = 1
	exitScript      = 2
	exitRuntime     = 3
	exitExpectation = 4
	exitUnformatted = 5 // fmt --check: a file is not in canonical form
	exitInterrupted = 130
)

func exitCode(err error) int {
	var (
		de *dsl.Error
		dl dsl.ErrorList
		ae *engine.AssertError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ae):
		return exitExpectation
	case errors.As(err, &de), errors.As(err, &dl):
		return exitScript
	case errors.Is(err, context.Canceled), errors.Is(err, engine.ErrStopped):
		return exitInterrupted
	default:
		return exitRuntime
	}
}
