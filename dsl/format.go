package dsl

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Format writes the script as canonical text: one step per line, one
// space between tokens, lower-case keywords, mechanisms and code
// wildcards, strings quoted with the fewest escapes (\" \\, $${ for a
// literal ${, and in raw strings \r \n \t and \xNN for other bytes that
// are not printable ASCII), heredocs closed by """ at the start of a line.
//
// Comments and blank lines are kept: the lexer drops comments, so they
// are recovered from s.Source by position (full-line comments where they
// stood, trailing ones after their step), and each run of blank lines
// becomes one. A script without Source (built in code) has none.
//
// Parsing the output gives the same steps, and formatting it again gives
// the same text (FuzzParse checks both). A script with a line that is not
// a step is refused with that line's *Error, as gofmt refuses code that
// does not parse.
func Format(w io.Writer, s *Script) error {
	type item struct {
		line, endLine int
		depth         int
		text          string
	}
	var items []item
	trailing := map[int]string{} // end line of a step -> its comment
	stepEnds := map[int]int{}    // end line -> end column of the step ending there
	type block struct{ from, to int }
	var blocks []block // lines of repeat blocks, to indent the comments inside
	Walk(s, func(n Node) bool {
		if st, ok := n.(Step); ok {
			stepEnds[st.End().Line] = st.End().Column
		}
		switch n := n.(type) {
		case *Repeat:
			stepEnds[n.Open.End().Line] = n.Open.End().Column
			blocks = append(blocks, block{n.Pos().Line, n.Close.Pos().Line})
			return true
		case *Script:
			return true
		}
		return false
	})
	for _, c := range comments(s) {
		if col, ok := stepEnds[c.line]; ok && col <= c.col {
			trailing[c.line] = c.text
			continue
		}
		depth := 0
		for _, b := range blocks {
			if b.from < c.line && c.line < b.to {
				depth++
			}
		}
		items = append(items, item{c.line, c.line, depth, c.text})
	}
	var err error
	var open []Node // the Script, then the repeat blocks being printed
	Walk(s, func(n Node) bool {
		if err != nil && n != nil {
			return false // refused already: the first error is the one
		}
		depth := max(0, len(open)-1)
		switch n := n.(type) {
		case nil:
			if r, ok := open[len(open)-1].(*Repeat); ok {
				text := "}"
				if c, ok := trailing[r.Close.End().Line]; ok {
					text += " " + c
				}
				items = append(items, item{r.Close.Pos().Line, r.Close.End().Line, depth - 1, text})
			}
			open = open[:len(open)-1]
			return false
		case *Script:
			open = append(open, n)
			return true
		case *Repeat:
			text := "repeat " + countText(n.Count) + " {"
			if c, ok := trailing[n.Open.End().Line]; ok {
				text += " " + c
			}
			items = append(items, item{n.Pos().Line, n.Open.End().Line, depth, text})
			open = append(open, n)
			return true
		case Step:
			text, ferr := formatStep(n)
			if ferr != nil {
				if err == nil {
					err = ferr
				}
				return false
			}
			if c, ok := trailing[n.End().Line]; ok {
				text += " " + c
			}
			items = append(items, item{n.Pos().Line, n.End().Line, depth, text})
		}
		return false
	})
	if err != nil {
		return err
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].line < items[j].line })
	var b strings.Builder
	prev := 0
	for i, it := range items {
		if i > 0 && it.line > prev+1 {
			b.WriteByte('\n') // blank lines stood here: keep one
		}
		b.WriteString(strings.Repeat("  ", it.depth))
		b.WriteString(it.text)
		b.WriteByte('\n')
		prev = it.endLine
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// countText is a repeat count as written: a number or ${NAME}.
func countText(s *String) string {
	if n, ok := s.Static(); ok {
		return n
	}
	var b strings.Builder
	for _, p := range s.Parts {
		writeRef(&b, p)
	}
	return b.String()
}

// FormatProgram writes a checked program back as canonical script text,
// comments included: what the recording and coaching features will use to
// write scripts.
func FormatProgram(w io.Writer, p *Program) error {
	return Format(w, p.Script())
}

type comment struct {
	line, col int
	text      string
}

// comments finds the script's comments by lexing its source again: the
// parser elides them, but the lexer still produces them, with positions.
func comments(s *Script) []comment {
	if len(s.Source) == 0 {
		return nil
	}
	lx, err := scriptDefinition{}.LexBytes(s.File, s.Source)
	if err != nil {
		return nil
	}
	var out []comment
	for {
		t, err := lx.Next()
		if err != nil || t.EOF() {
			return out
		}
		if t.Type == tokComment {
			out = append(out, comment{t.Pos.Line, t.Pos.Column, strings.TrimRight(t.Value, " \t\r")})
		}
	}
}

// FormatStep is one step as canonical text; a message's heredoc spans
// several lines.
func FormatStep(st Step) (string, error) { return formatStep(st) }

func formatStep(st Step) (string, error) {
	switch st := st.(type) {
	case *Connect:
		out := "connect " + quote(st.Address)
		if st.TLS != nil {
			out += " tls"
		}
		return out, nil
	case *Send:
		return "send " + quote(st.Text), nil
	case *Expect:
		codes := make([]string, len(st.Codes))
		for i, c := range st.Codes {
			codes[i] = strings.ToLower(c.Text)
		}
		out := "expect " + strings.Join(codes, "|")
		if st.Closed != nil {
			// A text after closed is refused by Check, but Format prints
			// what was written: it must not change a script's meaning,
			// not even a wrong one.
			out = "expect closed"
		}
		if m := st.Match; m != nil {
			if m.Regex != nil {
				out += " " + m.Regex.Text
			} else {
				out += " " + quote(m.Substring)
			}
		}
		return out, nil
	case *StartTLS:
		return "starttls", nil
	case *Auth:
		return fmt.Sprintf("auth %s %s %s", strings.ToLower(st.Mechanism.Text), quote(st.User), quote(st.Secret)), nil
	case *Message:
		out := "message"
		if st.Binary != nil {
			out += " binary"
		}
		if st.File != nil {
			return out + " file " + quote(st.File), nil
		}
		out += ` """`
		if st.Inline.Comment != "" {
			out += " " + st.Inline.Comment
		}
		return out + "\n" + heredocBody(st.Inline.Parts) + `"""`, nil
	case *Quit:
		return "quit", nil
	case *Raw:
		return "raw " + quote(st.Text), nil
	case *Note:
		return "note " + quote(st.Text), nil
	case *Include:
		return "include " + quote(st.Path), nil
	case *Repeat:
		// A block alone, without its comments (Format keeps those).
		var b strings.Builder
		b.WriteString("repeat " + countText(st.Count) + " {\n")
		for _, in := range st.Steps {
			text, err := formatStep(in)
			if err != nil {
				return "", err
			}
			b.WriteString("  " + text + "\n")
		}
		b.WriteString("}")
		return b.String(), nil
	case *Unknown:
		// A line that is no step is a syntax error in all but name:
		// like gofmt, refuse to guess how to print it.
		return "", unknownStep(st)
	}
	return "", fmt.Errorf("dsl.Format: unhandled step %T", st)
}

// quote writes a string literal that parses back to the same parts.
func quote(s *String) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, p := range s.Parts {
		if p.Var != "" {
			writeRef(&b, p)
			continue
		}
		lit := strings.ReplaceAll(p.Lit, "${", "$${")
		for i := 0; i < len(lit); i++ {
			c := lit[i]
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case s.Bytes && c == '\r':
				b.WriteString(`\r`)
			case s.Bytes && c == '\n':
				b.WriteString(`\n`)
			case s.Bytes && c == '\t':
				b.WriteString(`\t`)
			case s.Bytes && (c < 0x20 || c >= 0x7f):
				fmt.Fprintf(&b, `\x%02x`, c)
			default:
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func heredocBody(parts []Part) string {
	var b strings.Builder
	for _, p := range parts {
		if p.Var != "" {
			writeRef(&b, p)
			continue
		}
		b.WriteString(strings.ReplaceAll(p.Lit, "${", "$${"))
	}
	return b.String()
}

func writeRef(b *strings.Builder, p Part) {
	b.WriteString("${" + p.Var)
	if p.Default != nil {
		b.WriteString(":-" + *p.Default)
	}
	b.WriteByte('}')
}
