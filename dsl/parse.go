package dsl

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/alecthomas/participle/v2"
)

// Parse reads a script. path is used in positions and should be the path
// the user typed, so errors read "scripts/utep.smtp:12:8". Errors are
// *Error values; Parse does not check the script, see Check. A script
// over MaxScriptBytes or MaxScriptLines is refused before it is parsed.
func Parse(path string, src []byte) (*Script, error) {
	if err := checkSize(path, src); err != nil {
		return nil, err
	}
	g, err := parser().ParseBytes(path, src)
	if err != nil {
		return nil, parseError(path, src, err)
	}
	s := &Script{Steps: lower(g), File: path, Source: src, Header: readHeader(src)}
	if err := s.decodeStrings(); err != nil {
		return nil, err
	}
	return s, nil
}

func parseError(path string, src []byte, err error) error {
	var perr participle.Error
	if !errors.As(err, &perr) {
		return &Error{Pos: Pos{Filename: path}, Title: "cannot parse script", Label: err.Error()}
	}
	pos := Pos(perr.Position())
	msg := perr.Message()
	e := &Error{Pos: pos, Span: tokenWidth(src, pos), Title: "syntax error", Label: msg}
	line, _ := SourceLine(src, pos.Line)
	rest := ""
	if pos.Column-1 <= len(line) && pos.Column >= 1 {
		rest = line[pos.Column-1:]
	}
	switch {
	case strings.Contains(msg, "expected (<eol>+ | <eof>)"):
		e.Title = "unexpected text after the step"
		e.Label = "a step is one line, and this one was already complete"
		if strings.HasPrefix(rest, "//") {
			e.Notes = []string{"help: comments start with #"}
		}
	case strings.HasPrefix(rest, `"""`):
		e.Title = "unterminated message"
		e.Label = `no closing """ on a line of its own`
	case strings.HasPrefix(rest, `"`) && !quoted().MatchString(rest):
		e.Title = "unterminated string"
		e.Label = `add the closing "`
	case strings.TrimSpace(line) == strings.TrimSpace(rest):
		// The line starts with something that is no word, like a string.
		e.Title = "unknown step"
		e.Label = "a line starts with a step"
		e.Notes = []string{"steps are: " + strings.Join(Keywords(), ", ")}
		if lit := quoted().FindString(rest); lit != "" {
			e.Span = len(lit)
			e.Notes = append([]string{"help: to send a command line, write: send " + lit}, e.Notes...)
		}
	default:
		// A step's rule failed part-way (`auth plain "u"`): say so in the
		// words of the step's usage, not in the grammar's type names.
		word, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if use, ok := usageOf(word); ok {
			tok, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
			e.Title = "invalid " + word + " step"
			e.Label = fmt.Sprintf("unexpected %s; usage: %s", describeToken(tok), use)
		}
	}
	return e
}

// tokenWidth guesses how many columns the offending token covers, so the
// caret underlines a word rather than a single character.
func tokenWidth(src []byte, pos Pos) int {
	line, ok := SourceLine(src, pos.Line)
	if !ok || pos.Column < 1 || pos.Column > len(line) {
		return 1
	}
	rest := line[pos.Column-1:]
	if i := strings.IndexAny(rest, " \t"); i > 0 {
		return i
	}
	if rest == "" {
		return 1
	}
	return len(rest)
}

// quoted matches a complete string literal at the start of a text.
var quoted = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^"(?:\\.|[^"\\\n])*"`) })

var headerLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*:\s*(.*?)\s*$`) })

// readHeader collects "# key: value" comments before the first step, such as
// "# scenario: auth-disabled" for the sandbox.
func readHeader(src []byte) map[string]string {
	h := map[string]string{}
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "#") {
			break
		}
		if m := headerLine().FindStringSubmatch(line); m != nil {
			key := strings.ToLower(m[1])
			if _, dup := h[key]; !dup {
				h[key] = m[2]
			}
		}
	}
	return h
}

// decodeStrings unquotes every string and heredoc, and keeps the source
// line of each Unknown step, where Check looks for what failed.
func (s *Script) decodeStrings() error {
	var err error
	counts := map[*String]bool{}
	Walk(s, func(n Node) bool {
		if err != nil || n == nil {
			return false
		}
		switch n := n.(type) {
		case *Unknown:
			n.line, _ = SourceLine(s.Source, n.pos.Line)
		case *Repeat:
			// The count's parts are made by the lowering: nothing to unquote.
			counts[n.Count] = true
		case *String:
			if !counts[n] {
				err = n.decode()
			}
		case *Heredoc:
			err = n.decode()
		}
		return true
	})
	return err
}
