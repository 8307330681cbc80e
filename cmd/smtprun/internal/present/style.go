package present

import (
	"io"
	"os"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"
	"github.com/smtprun/smtprun/dsl"
)

// Style colours one output stream. Colour is decided once per stream: on
// only for a terminal, and never with NO_COLOR, TERM=dumb or --no-color.
// Each *color.Color is switched explicitly so no global state is shared.
type Style struct {
	Step, Client, Server2, Server4      *color.Color
	Server5, Note, ErrTitle, Caret, Dim *color.Color
}

// NewStyle is the style for writing to w.
func NewStyle(w io.Writer, noColor bool) Style {
	on := !noColor && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	if f, ok := w.(*os.File); !ok || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		on = false
	}
	mk := func(a ...color.Attribute) *color.Color {
		c := color.New(a...)
		if on {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return c
	}
	return Style{
		Step:     mk(color.Bold),
		Client:   mk(color.FgCyan),
		Server2:  mk(color.FgGreen),
		Server4:  mk(color.FgYellow),
		Server5:  mk(color.FgRed),
		Note:     mk(color.Faint),
		ErrTitle: mk(color.FgRed, color.Bold),
		Caret:    mk(color.FgRed),
		Dim:      mk(color.Faint),
	}
}

// Plain is a style without colour, for reports and captured text.
func Plain() Style { return NewStyle(io.Discard, true) }

// Styler colours a rendered diagnostic as the style does.
func (s Style) Styler() dsl.Styler {
	return dsl.Styler{
		Title:  func(t string) string { return s.ErrTitle.Sprint(t) },
		Gutter: func(t string) string { return s.Dim.Sprint(t) },
		Caret:  func(t string) string { return s.Caret.Sprint(t) },
	}
}

// Reply is the colour of a reply with code.
func (s Style) Reply(code int) *color.Color {
	switch {
	case code >= 500:
		return s.Server5
	case code >= 400:
		return s.Server4
	}
	return s.Server2
}
