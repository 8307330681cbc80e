package main

import (
	"context"
	"errors"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/internal/safefile"
	"github.com/smtprun/smtprun/internal/smtp"
)

// What smtprun reads whole into memory is bounded, one limit per kind,
// far above any real file of that kind: /dev/zero or `yes` behind a FIFO
// named as one of them ends in a named error, not in all of memory.
const (
	// A script or an include: a few times what dsl parses
	// (dsl.MaxScriptBytes), so that an oversized script gets dsl's
	// positioned error and only a file far past it (a device) stops here.
	maxScriptBytes        = 4 * dsl.MaxScriptBytes
	maxVariablesFileBytes = 1 << 20
	maxCAFileBytes        = 4 << 20  // a PEM bundle; the system's is about 200 KiB
	maxLoadReportBytes    = 64 << 20 // load merge's inputs; a shard's is a few KiB
)

// inputs reads the files a command is given (scripts, includes,
// --variables-file, --ca) within their limits, the timeout for the open
// (a FIFO waits there for a writer) and each read, and until ctx is
// cancelled by Ctrl-C or SIGTERM.
type inputs struct {
	ctx     context.Context
	timeout time.Duration
}

func (in inputs) read(path, kind string, limit int64) ([]byte, error) {
	b, err := safefile.Read(in.ctx, path, limit, in.timeout)
	var le *safefile.LimitError
	if errors.As(err, &le) {
		le.Kind = kind
	}
	return b, err
}

// script reads a script, and is the loader of the scripts it includes.
func (in inputs) script(path string) ([]byte, error) {
	return in.read(path, "a script", maxScriptBytes)
}

func (in inputs) loader() dsl.CheckOption { return dsl.WithLoader(in.script) }

// inputError reports an input that could not be read: interrupted (exit
// 130) or otherwise a usage error.
func (inv *invocation) inputError(err error) int {
	if errors.Is(err, context.Canceled) {
		return inv.failf(exitInterrupted, "interrupted while reading its input")
	}
	return inv.usageError(err.Error())
}

// escName makes a file name safe to print: a name may hold an escape
// sequence or a newline as well as a reply may.
func escName(path string) string { return smtp.Escape([]byte(path)) }
