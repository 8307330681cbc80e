package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/smtprun/smtprun/cmd/smtprun/internal/present"
	"github.com/smtprun/smtprun/engine"
)

// stepper pauses before each step of a --step run and reads the user's
// choice as a line (cooked mode: the terminal is never put in raw mode, so
// there is nothing to restore if smtprun is killed).
type stepper struct {
	in      *bufio.Reader
	out     io.Writer
	st      present.Style
	nonstop bool
}

func newStepper(stdin io.Reader, stdout io.Writer, st present.Style) (*stepper, error) {
	f, ok := stdin.(*os.File)
	if !ok || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return nil, errors.New("--step needs a terminal to read Enter from; standard input is not one (run it in a terminal, without a pipe or redirection)")
	}
	return &stepper{in: bufio.NewReader(stdin), out: stdout, st: st}, nil
}

type lineResult struct {
	line string
	err  error
}

// before shows the next step as the engine reports it: with its secrets
// masked, as in the transcript, never the raw script line.
func (s *stepper) before(ctx context.Context, next engine.StepStarted) error {
	if s.nonstop || next.Kind == "note" {
		return nil
	}
	fmt.Fprintf(s.out, "%s ", s.st.Step.Sprintf("next: line %d: %s   [Enter] run  [c] continue  [q] quit >", next.Pos.Line, next.Source))
	got := make(chan lineResult, 1)
	go func() {
		l, err := s.in.ReadString('\n')
		got <- lineResult{l, err}
	}()
	var r lineResult
	select {
	case <-ctx.Done():
		return ctx.Err()
	case r = <-got:
	}
	switch answer := strings.ToLower(strings.TrimSpace(r.line)); {
	case r.err != nil && r.line == "":
		fmt.Fprintln(s.out)
		return engine.ErrStopped // end of input: stop politely
	case answer == "q" || answer == "quit":
		return engine.ErrStopped
	case answer == "c" || answer == "continue":
		s.nonstop = true
	}
	return nil
}
