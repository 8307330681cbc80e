package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
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
	if err := ss.steps.enter(ss.prog, r, n, ss.builtins.repeats); err != nil {
		return err
	}
	b := ss.builtins
	b.repeats = append(b.repeats, 0)
	ss.steps.open = append(ss.steps.open, n)
	defer func() {
		b.repeats = b.repeats[:len(b.repeats)-1]
		ss.steps.open = ss.steps.open[:len(ss.steps.open)-1]
	}()
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

// stepBudget holds a run to dsl.MaxSteps. Check counted the program with
// each variable count as 1; a block whose count is a variable adds the
// rest of its iterations when the engine reads the count, and the run is
// refused before the block starts if that passes the limit. A count read
// from the user's variables is the same every time the block is reached,
// so it is charged once for every time the enclosing blocks will reach
// it; one that a capture or ${REPEAT} sets is charged each time.
type stepBudget struct {
	planned int
	charged map[*dsl.Repeat]bool
	// open are the counts of the blocks running, outermost first, with
	// the iteration each is in (the builtins' REPEAT stack).
	open []int
}

// enter charges a block about to run n times; iterations are those of
// the open blocks, as open holds their counts.
func (sb *stepBudget) enter(p *dsl.Program, r *dsl.Repeat, n int, iterations []int) error {
	if _, static := r.Count.Static(); static || n == 1 || sb.charged[r] {
		return nil // counted by Check, or already for every time
	}
	fixed := true
	for _, v := range r.Count.Variables() {
		if p.IsCapture(v.Var) || dsl.Builtin(v.Var) {
			fixed = false
		}
	}
	// times is how often the block will be reached from here on: this
	// once, and once per iteration still to come of each enclosing block
	// (times the iterations of the blocks inside that one).
	// Floating point: exact below 2^53, and only compared with MaxSteps
	// above it, where products of counts would overflow an int.
	times, per := 1.0, 1.0
	for j := len(sb.open) - 1; fixed && j >= 0; j-- {
		times += float64(sb.open[j]-iterations[j]) * per
		per *= float64(sb.open[j])
	}
	total := float64(sb.planned) + float64(n-1)*float64(p.BlockSteps(r))*times
	if total > dsl.MaxSteps {
		steps := uint64(math.MaxUint64)
		if total < 1e19 {
			steps = uint64(total)
		}
		return &InputError{Code: InputTooManySteps, Diag: &dsl.Error{Pos: r.Count.Pos(), Span: r.Count.Span(), Title: "too many steps",
			Label: fmt.Sprintf("with %s = %d the run expands to %s steps; at most %s", r.Count.Raw, n, dsl.Magnitude(steps), dsl.Magnitude(dsl.MaxSteps)),
			Notes: []string{"help: give the count a smaller value; a run is at most " + dsl.Magnitude(dsl.MaxSteps) + " steps"}}}
	}
	sb.planned = int(total)
	if fixed {
		if sb.charged == nil {
			sb.charged = map[*dsl.Repeat]bool{}
		}
		sb.charged[r] = true
	}
	return nil
}
