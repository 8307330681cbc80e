package dsl

import (
	"errors"
	"regexp"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

var parser = participle.MustBuild[Script](
	participle.Lexer(scriptLexer),
	participle.Elide("Comment", "Whitespace"),
	participle.UseLookahead(2),
)

// Parse reads a script. path is used in positions and should be the path
// the user typed, so errors read "scripts/utep.smtp:12:8". Errors are
// *Error values; Parse does not validate, see Validate.
func Parse(path string, src []byte) (*Script, error) {
	s, err := parser.ParseBytes(path, src)
	if err != nil {
		return nil, parseError(path, src, err)
	}
	s.File = path
	s.Source = src
	s.Header = readHeader(src)
	if err := s.decodeStrings(); err != nil {
		return nil, err
	}
	return s, nil
}

func parseError(path string, src []byte, err error) error {
	var perr participle.Error
	if !errors.As(err, &perr) {
		return &Error{Pos: lexer.Position{Filename: path}, Title: "cannot parse script", Label: err.Error()}
	}
	pos := perr.Position()
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
	case strings.HasPrefix(rest, `"`):
		e.Title = "unterminated string"
		e.Label = `add the closing "`
	}
	return e
}

// tokenWidth guesses how many columns the offending token covers, so the
// caret underlines a word rather than a single character.
func tokenWidth(src []byte, pos lexer.Position) int {
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

var headerLine = regexp.MustCompile(`^#\s*([A-Za-z][A-Za-z0-9_-]*)\s*:\s*(.*?)\s*$`)

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
		if m := headerLine.FindStringSubmatch(line); m != nil {
			key := strings.ToLower(m[1])
			if _, dup := h[key]; !dup {
				h[key] = m[2]
			}
		}
	}
	return h
}

func (s *Script) decodeStrings() error {
	for _, st := range s.Steps {
		var strs []*String
		switch {
		case st.Connect != nil:
			strs = append(strs, st.Connect.Address)
		case st.Send != nil:
			strs = append(strs, st.Send.Text)
		case st.Expect != nil:
			if st.Expect.Match != nil && st.Expect.Match.Substring != nil {
				strs = append(strs, st.Expect.Match.Substring)
			}
		case st.Auth != nil:
			strs = append(strs, st.Auth.User, st.Auth.Secret)
		case st.Note != nil:
			strs = append(strs, st.Note.Text)
		case st.Raw != nil:
			st.Raw.Text.bytes = true
			strs = append(strs, st.Raw.Text)
		case st.Message != nil:
			if st.Message.File != nil {
				strs = append(strs, st.Message.File)
			} else if err := st.Message.Inline.decode(); err != nil {
				return err
			}
		}
		for _, str := range strs {
			if err := str.decode(); err != nil {
				return err
			}
		}
	}
	return nil
}
