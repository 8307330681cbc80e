package dsl

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: any input parses and validates to a script or to positioned
// errors that render, never a panic.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.smtp")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse("f.smtp", src)
		if err == nil {
			_, err = Check(s)
		}
		if err == nil {
			return
		}
		var list ErrorList
		var one *Error
		switch {
		case errors.As(err, &list):
		case errors.As(err, &one):
			list = ErrorList{one}
		default:
			t.Fatalf("error without a position: %T %v", err, err)
		}
		for _, e := range list {
			if e.Pos.Line < 1 {
				t.Fatalf("error at line %d: %v", e.Pos.Line, e)
			}
			Render(e, src, Styler{})
		}
	})
}

// FuzzExpand: interpolation of any string body either fails at a position
// inside the string or yields text without the reference syntax left over
// from a well-formed ${...}.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"EHLO ${HOST}", "${A:-b}c", "$${x}", "${", "${1}", `a\"b\\c`, "${A:-${B}}", "x$"} {
		f.Add(s)
	}
	vars := MapVars{"HOST": "mx", "A": "1"}
	f.Fuzz(func(t *testing.T, body string) {
		if strings.ContainsAny(body, "\n\"") {
			return // the lexer would split or end the string there
		}
		src := "send \"" + body + "\""
		s, err := Parse("f.smtp", []byte(src))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%T %v", err, err)
			}
			return
		}
		if _, ok := s.Steps[0].(*Send); !ok {
			return
		}
		_, err = s.Steps[0].(*Send).Text.Expand(vars)
		var e *Error
		if err != nil && (!errors.As(err, &e) || e.Pos.Line != 1 || e.Pos.Column < 6 || e.Pos.Column > len(src)) {
			t.Fatalf("bad error position for %q: %v", src, err)
		}
	})
}
