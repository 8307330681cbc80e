package dsl

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/smtprun/smtprun/internal/smtp"
)

// Error is a user-facing error anchored in a script: a parse or validation
// mistake, an unset variable, or (built by the engine) a failed expectation.
// It renders Hurl-style with the source line and a caret under the span.
type Error struct {
	Pos   Pos
	Span  int    // columns to underline; at least one is drawn
	Title string // what went wrong, e.g. "unknown step"
	Label string // shown after the carets
	Notes []string
	// Source, if set, is the text of the file Pos is in, when that is not
	// the script being rendered (a script it includes).
	Source []byte
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s: %s", Where(e.Pos), e.Title)
	if e.Label != "" {
		msg += ": " + e.Label
	}
	return msg
}

// Diagnostic implements Diagnoser.
func (e *Error) Diagnostic() *Error { return e }

// Diagnoser is implemented by every error that points at a script line:
// *Error, ErrorList and the errors engine.Run returns. A caller renders
// the diagnostic with Render.
type Diagnoser interface {
	Diagnostic() *Error
}

// Diagnostics returns every diagnostic err carries, in source order: each
// error of an ErrorList, or the one of any other Diagnoser; nil for an
// error that points at no script line.
func Diagnostics(err error) []*Error {
	var l ErrorList
	if errors.As(err, &l) {
		return l
	}
	var d Diagnoser
	if errors.As(err, &d) {
		if e := d.Diagnostic(); e != nil {
			return []*Error{e}
		}
	}
	return nil
}

// Where formats a position as file:line:col.
func Where(p Pos) string {
	if p.Filename == "" {
		return fmt.Sprintf("%d:%d", p.Line, p.Column)
	}
	// A file name can hold an escape sequence or a newline as well as a
	// reply can; every positioned message shows it escaped.
	return fmt.Sprintf("%s:%d:%d", smtp.Escape([]byte(p.Filename)), p.Line, p.Column)
}

// ErrorList is every error validation found, in source order.
type ErrorList []*Error

// Diagnostic implements Diagnoser: the first error, which Diagnostics
// returns with the others.
func (l ErrorList) Diagnostic() *Error {
	if len(l) == 0 {
		return nil
	}
	return l[0]
}

func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Styler colours parts of a rendered diagnostic; the zero value is plain.
type Styler struct {
	Title, Gutter, Caret, Note func(string) string
}

func (s Styler) apply(f func(string) string, text string) string {
	if f == nil {
		return text
	}
	return f(text)
}

// Render writes the diagnostic with the line of src it points at:
//
//	error: expectation failed
//	  --> scripts/gmail.smtp:14:8
//	   |
//	14 | expect 235
//	   |        ^^^ server replied 535 5.7.8 ...
//	   |
func Render(e *Error, src []byte, st Styler) string {
	var b strings.Builder
	b.WriteString(st.apply(st.Title, "error: "+e.Title))
	b.WriteByte('\n')
	num := fmt.Sprint(e.Pos.Line)
	pad := strings.Repeat(" ", len(num))
	fmt.Fprintf(&b, "%s%s %s\n", pad, st.apply(st.Gutter, "-->"), Where(e.Pos))
	if e.Source != nil {
		src = e.Source
	}
	line, ok := SourceLine(src, e.Pos.Line)
	if ok && e.Pos.Line > 0 {
		bar := st.apply(st.Gutter, "|")
		fmt.Fprintf(&b, "%s %s\n", pad, bar)
		fmt.Fprintf(&b, "%s %s %s\n", st.apply(st.Gutter, num), bar, strings.ReplaceAll(line, "\t", " "))
		col := e.Pos.Column
		if col < 1 {
			col = 1
		}
		span := min(e.Span, len(line)-(col-1))
		if span < 1 {
			span = 1
		}
		caret := strings.Repeat(" ", col-1) + st.apply(st.Caret, strings.Repeat("^", span))
		if e.Label != "" {
			caret += " " + st.apply(st.Caret, e.Label)
		}
		fmt.Fprintf(&b, "%s %s %s\n", pad, bar, caret)
		for _, n := range e.Notes {
			fmt.Fprintf(&b, "%s %s %s\n", pad, bar, st.apply(st.Note, n))
		}
		fmt.Fprintf(&b, "%s %s\n", pad, bar)
	} else {
		if e.Label != "" {
			fmt.Fprintf(&b, "%s %s\n", pad, st.apply(st.Caret, e.Label))
		}
		for _, n := range e.Notes {
			fmt.Fprintf(&b, "%s %s\n", pad, st.apply(st.Note, n))
		}
	}
	return b.String()
}

// SourceLine returns line n (1-based) of src without its line ending.
func SourceLine(src []byte, n int) (string, bool) {
	if n < 1 {
		return "", false
	}
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(src, '\n')
		if j < 0 {
			return "", false
		}
		src = src[j+1:]
	}
	if j := bytes.IndexByte(src, '\n'); j >= 0 {
		src = src[:j]
	}
	return strings.TrimRight(string(src), "\r"), true
}
