package main

import (
	"io"
	"os"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"
	"github.com/smtprun/smtprun/dsl"
)

// style colours one output stream. Colour is decided once per stream: on
// only for a terminal, and never with NO_COLOR, TERM=dumb or --no-color.
// Each *color.Color is switched explicitly so no global state is shared.
type style struct {
	step, client, server2, server4      *color.Color
	server5, note, errTitle, caret, dim *color.Color
}

func newStyle(w io.Writer, noColor bool) style {
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
	return style{
		step:     mk(color.Bold),
		client:   mk(color.FgCyan),
		server2:  mk(color.FgGreen),
		server4:  mk(color.FgYellow),
		server5:  mk(color.FgRed),
		note:     mk(color.Faint),
		errTitle: mk(color.FgRed, color.Bold),
		caret:    mk(color.FgRed),
		dim:      mk(color.Faint),
	}
}

func (s style) styler() dsl.Styler {
	return dsl.Styler{
		Title:  func(t string) string { return s.errTitle.Sprint(t) },
		Gutter: func(t string) string { return s.dim.Sprint(t) },
		Caret:  func(t string) string { return s.caret.Sprint(t) },
	}
}

func (s style) reply(code int) *color.Color {
	switch {
	case code >= 500:
		return s.server5
	case code >= 400:
		return s.server4
	}
	return s.server2
}
