package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/smtprun/smtprun/dsl"
)

// iterationKey carries the number of a script's run in the context.
type iterationKey struct{}

// WithIteration returns a context whose runs see n as ${ITERATION}: load
// mode numbers its runs across connections and shards. A run without it
// sees 1.
func WithIteration(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, iterationKey{}, n)
}

// builtins are the variables the engine sets itself (dsl.Builtin): they
// are looked up before the user's, since the user cannot mean to change
// them.
type builtins struct {
	iteration int
	repeats   []int // the iteration of each enclosing repeat block, innermost last
	user      dsl.Vars
}

// Lookup implements dsl.Vars.
func (b *builtins) Lookup(name string) (string, bool) {
	switch name {
	case dsl.VarIteration:
		return strconv.Itoa(b.iteration), true
	case dsl.VarRepeat:
		if len(b.repeats) > 0 {
			return strconv.Itoa(b.repeats[len(b.repeats)-1]), true
		}
	}
	if b.user == nil {
		return "", false
	}
	return b.user.Lookup(name)
}

// withBuiltins gives the session its own view of the Engine, whose
// variables include the built-in ones: the Engine itself is shared by
// concurrent runs and never written.
func (ss *session) withBuiltins(ctx context.Context) {
	b := &builtins{iteration: 1, user: ss.e.vars}
	if n, ok := ctx.Value(iterationKey{}).(int); ok {
		b.iteration = n
	}
	e := *ss.e
	e.vars = b
	ss.e, ss.builtins = &e, b
}

// IterationError is an error inside a repeat block: which iteration of
// the block failed (from 1), and how many there were to run. The error it
// wraps says what failed, and where.
type IterationError struct {
	Block     *dsl.Repeat
	Iteration int
	Count     int
	Err       error
}

func (e *IterationError) Error() string {
	return fmt.Sprintf("in iteration %d of %d of the repeat on line %d: %v", e.Iteration, e.Count, e.Block.Pos().Line, e.Err)
}

func (e *IterationError) Unwrap() error { return e.Err }

// repeat runs a block's steps Count times on the same connection.
func (ss *session) repeat(ctx context.Context, r *dsl.Repeat) error {
	text, err := r.Count.Expand(ss.e.vars)
	if err != nil {
		return err
	}
	n, err := dsl.RepeatCount(text)
	if err != nil {
		return &InputError{Code: InputRepeatCount, Diag: &dsl.Error{Pos: r.Count.Pos(), Span: r.Count.Span(), Title: "invalid repeat count",
			Label: "after interpolation " + err.Error()}}
	}
	b := ss.builtins
	b.repeats = append(b.repeats, 0)
	defer func() { b.repeats = b.repeats[:len(b.repeats)-1] }()
	for k := 1; k <= n; k++ {
		b.repeats[len(b.repeats)-1] = k
		for _, st := range r.Steps {
			if err := ss.runStep(ctx, st); err != nil {
				if ctx.Err() != nil || errors.Is(err, ErrStopped) {
					return err
				}
				return &IterationError{Block: r, Iteration: k, Count: n, Err: err}
			}
		}
	}
	return nil
}

func (e *IterationError) redact(r *redactor) error {
	c := *e
	c.Err = r.maskErr(e.Err)
	return &c
}
