package present

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
)

// RenderFailure prints a run error with the script line it belongs to,
// the help for its kind, and the known-error hint for the server's reply,
// if any. extra notes (where an included step came from) follow the help.
// Errors that point at no line, and lists of script errors, are printed
// as RenderError prints them.
func RenderFailure(w io.Writer, st Style, src []byte, err error, host string, extra ...string) {
	ds := dsl.Diagnostics(err)
	if len(ds) != 1 {
		RenderError(w, st, src, err)
		return
	}
	// The notes are added to a copy: the diagnostic may be the error
	// itself (a *dsl.Error), which a later rendering would show again.
	d := *ds[0]
	d.Notes = append(iterationNotes(err), d.Notes...)
	if h := helpFor(err); h != "" {
		d.Notes = append(d.Notes, "help: "+h)
	}
	d.Notes = append(d.Notes, hintsFor(err, host)...)
	d.Notes = append(d.Notes, extra...)
	fmt.Fprintln(w, dsl.Render(&d, src, st.Styler()))
}

// iterationNotes say in which iteration of each enclosing repeat block
// an error happened, outermost first.
func iterationNotes(err error) []string {
	var notes []string
	for it := (*engine.IterationError)(nil); errors.As(err, &it); err = it.Err {
		notes = append(notes, fmt.Sprintf("note: in iteration %d of %d of the repeat on line %d", it.Iteration, it.Count, it.Block.Pos().Line))
	}
	return notes
}

// RenderError prints an error as it is: each diagnostic it carries with
// its source line, else one "error:" line.
func RenderError(w io.Writer, st Style, src []byte, err error) {
	if ds := dsl.Diagnostics(err); len(ds) > 0 {
		for _, d := range ds {
			fmt.Fprintln(w, dsl.Render(d, src, st.Styler()))
		}
		return
	}
	msg := err.Error()
	if errors.Is(err, context.Canceled) {
		msg = "interrupted"
	}
	fmt.Fprintf(w, "%s\n", st.ErrTitle.Sprint("error: "+msg))
}
