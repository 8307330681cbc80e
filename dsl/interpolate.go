package dsl

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Part is a piece of a string: literal text, or a ${NAME} / ${NAME:-default}
// reference to a variable.
type Part struct {
	Pos     Pos
	End     Pos // just past the part in the source
	Lit     string
	Var     string
	Default *string
}

// Vars resolves variable names. A name that is not set reports false.
type Vars interface {
	Lookup(name string) (string, bool)
}

// MapVars are variables given explicitly, such as --var NAME=VALUE.
type MapVars map[string]string

// Lookup implements Vars.
func (m MapVars) Lookup(name string) (string, bool) { v, ok := m[name]; return v, ok }

// EnvVars reads the process environment.
type EnvVars struct{}

// Lookup implements Vars.
func (EnvVars) Lookup(name string) (string, bool) { return os.LookupEnv(name) }

// Chain looks a name up in each Vars in turn; the first that has it wins.
type Chain []Vars

// Lookup implements Vars.
func (c Chain) Lookup(name string) (string, bool) {
	for _, v := range c {
		if v == nil {
			continue
		}
		if s, ok := v.Lookup(name); ok {
			return s, true
		}
	}
	return "", false
}

// Expand returns the string with every variable substituted. A variable that
// is unset and has no default is an *Error at the reference.
func (s *String) Expand(v Vars) (string, error) { return expand(s.Parts, v) }

// Expand returns the message content with every variable substituted.
func (h *Heredoc) Expand(v Vars) (string, error) { return expand(h.Parts, v) }

// Static reports the string's value when it references no variable.
func (s *String) Static() (string, bool) {
	var b strings.Builder
	for _, p := range s.Parts {
		if p.Var != "" {
			return "", false
		}
		b.WriteString(p.Lit)
	}
	return b.String(), true
}

// Variables lists the names the string references, in order.
func (s *String) Variables() []Part {
	var out []Part
	for _, p := range s.Parts {
		if p.Var != "" {
			out = append(out, p)
		}
	}
	return out
}

func expand(parts []Part, v Vars) (string, error) {
	if len(parts) == 1 && parts[0].Var == "" {
		return parts[0].Lit, nil // most strings have no variables
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Var == "" {
			b.WriteString(p.Lit)
			continue
		}
		val, ok := "", false
		if v != nil {
			val, ok = v.Lookup(p.Var)
		}
		if !ok {
			if p.Default == nil {
				return "", unsetError(p)
			}
			val = *p.Default
		}
		b.WriteString(val)
	}
	return b.String(), nil
}

func unsetError(p Part) *Error {
	return &Error{
		Pos:   p.Pos,
		Span:  span{p.Pos, p.End}.Span(),
		Title: "variable is not set",
		Label: fmt.Sprintf("${%s} has no value", p.Var),
		Notes: []string{fmt.Sprintf("help: pass --var %s=VALUE, export %s, or give a default: ${%s:-VALUE}", p.Var, p.Var, p.Var)},
	}
}

// decode unquotes a double-quoted string: \" and \\ are the only escapes.
func (s *String) decode() error {
	raw := s.Raw
	if len(raw) < 2 || !strings.HasSuffix(raw, `"`) || strings.HasSuffix(raw, `\"`) && !evenBackslashesBefore(raw, len(raw)-1) {
		return &Error{Pos: s.pos, Span: s.Span(), Title: "unterminated string", Label: `add the closing "`}
	}
	body := raw[1 : len(raw)-1]
	// Column of body[0].
	at := func(i int) Pos {
		p := s.pos
		p.Offset += 1 + i
		p.Column += 1 + i
		return p
	}
	var lit strings.Builder
	var litStart = -1
	flush := func(end int) {
		if litStart >= 0 {
			s.Parts = append(s.Parts, Part{Pos: at(litStart), End: at(end), Lit: lit.String()})
			lit.Reset()
			litStart = -1
		}
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if litStart < 0 && !strings.HasPrefix(body[i:], "${") {
			litStart = i
		}
		switch {
		case c == '\\':
			if i+1 < len(body) && (body[i+1] == '"' || body[i+1] == '\\') {
				lit.WriteByte(body[i+1])
				i++
				continue
			}
			if s.Bytes {
				if b, n, ok := byteEscape(body[i:]); ok {
					lit.WriteByte(b)
					i += n - 1
					continue
				}
			}
			esc := `\`
			if i+1 < len(body) {
				esc += string(body[i+1])
			}
			e := &Error{Pos: at(i), Span: len(esc), Title: "unknown escape", Label: fmt.Sprintf("`%s` is not an escape; only \\\" and \\\\ are", esc)}
			switch {
			case s.Bytes:
				e.Label = fmt.Sprintf("`%s` is not an escape; raw accepts \\r \\n \\t \\xNN \\\" and \\\\", esc)
			case esc == `\r` || esc == `\n`:
				e.Notes = []string{"help: send appends CRLF itself, and a command line cannot contain a line break; `raw` writes exact bytes"}
			}
			return e
		case strings.HasPrefix(body[i:], "$${"):
			lit.WriteString("${")
			i += 2
		case strings.HasPrefix(body[i:], "${"):
			flush(i)
			p, n, err := parseRef(body[i:], at(i))
			if err != nil {
				return err
			}
			s.Parts = append(s.Parts, p)
			i += n - 1
		default:
			lit.WriteByte(c)
		}
	}
	flush(len(body))
	return nil
}

func evenBackslashesBefore(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 0
}

// parseRef parses "${NAME}" or "${NAME:-default}" at the start of text and
// returns the part and the bytes it used.
func parseRef(text string, pos Pos) (Part, int, error) {
	end := strings.IndexByte(text, '}')
	// Look for a line break only before the '}' (or, unterminated, to the
	// end): searching the whole rest of the text at every reference made
	// a line of N references cost O(N²).
	head := text
	if end >= 0 {
		head = text[:end]
	}
	if nl := strings.IndexByte(head, '\n'); end < 0 || nl >= 0 {
		return Part{}, 0, &Error{Pos: pos, Span: 2, Title: "unterminated variable", Label: "add the closing } (write $${ for a literal ${)"}
	}
	inner := text[2:end]
	name, def, hasDef := strings.Cut(inner, ":-")
	if !ValidName(name) {
		return Part{}, 0, &Error{Pos: pos, Span: end + 1, Title: "invalid variable name",
			Label: fmt.Sprintf("%q: names are letters, digits and _, not starting with a digit", name)}
	}
	p := Part{Pos: pos, End: advance(pos, text[:end+1]), Var: name}
	if strings.Contains(def, "${") {
		return Part{}, 0, &Error{Pos: pos, Span: end + 1, Title: "nested variable",
			Label: "a default is plain text; it cannot contain ${...}"}
	}
	if hasDef {
		p.Default = &def
	}
	return p, end + 1, nil
}

// ValidName reports whether n can name a variable in ${NAME}: a letter
// or underscore, then letters, digits and underscores. Variables files
// use the same rule, so every name they set can be used in a script.
func ValidName(n string) bool {
	if n == "" {
		return false
	}
	for i, c := range n {
		switch {
		case c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// decode extracts the content lines of a heredoc: everything after the line
// that opens it up to the line that closes it, each line keeping its "\n".
// Content is verbatim except ${...} interpolation (and $${ for a literal ${).
func (h *Heredoc) decode() error {
	raw := h.Raw
	nl := strings.IndexByte(raw, '\n')
	closing := strings.LastIndex(raw, `"""`)
	if nl < 0 || closing <= nl || !strings.HasSuffix(raw, `"""`) {
		return &Error{Pos: h.pos, Span: 3, Title: "unterminated message", Label: `no closing """ on a line of its own`}
	}
	rest := strings.TrimSpace(raw[3:nl])
	if strings.HasPrefix(rest, "#") {
		h.Comment = rest
	} else if rest != "" {
		p := h.pos
		p.Column += 3 + strings.Index(raw[3:nl], rest)
		return &Error{Pos: p, Span: len(rest), Title: "text after opening \"\"\"", Label: "the message starts on the next line"}
	}
	lastLineStart := strings.LastIndexByte(raw[:closing], '\n') + 1
	content := raw[nl+1 : lastLineStart]
	line, col := h.pos.Line+1, 1
	pos := func() Pos {
		return Pos{Filename: h.pos.Filename, Line: line, Column: col}
	}
	var lit strings.Builder
	var litPos Pos
	started := false
	flush := func() {
		if started {
			h.Parts = append(h.Parts, Part{Pos: litPos, End: pos(), Lit: lit.String()})
			lit.Reset()
			started = false
		}
	}
	for i := 0; i < len(content); i++ {
		if !started && !strings.HasPrefix(content[i:], "${") {
			litPos, started = pos(), true
		}
		switch {
		case strings.HasPrefix(content[i:], "$${"):
			lit.WriteString("${")
			i += 2
			col += 3
			continue
		case strings.HasPrefix(content[i:], "${"):
			flush()
			p, n, err := parseRef(content[i:], pos())
			if err != nil {
				return err
			}
			h.Parts = append(h.Parts, p)
			i += n - 1
			col += n
			continue
		}
		lit.WriteByte(content[i])
		if content[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	flush()
	return nil
}

// byteEscape decodes \r, \n, \t or \xNN at the start of s.
func byteEscape(s string) (b byte, n int, ok bool) {
	if len(s) < 2 {
		return 0, 0, false
	}
	switch s[1] {
	case 'r':
		return '\r', 2, true
	case 'n':
		return '\n', 2, true
	case 't':
		return '\t', 2, true
	case 'x':
		if len(s) >= 4 {
			if v, err := strconv.ParseUint(s[2:4], 16, 8); err == nil {
				return byte(v), 4, true
			}
		}
	}
	return 0, 0, false
}
