package dsl

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: any input parses and checks to a program or to positioned
// errors that render, never a panic; and whatever parses survives the
// printer: parse -> Format -> parse gives the same steps (positions
// aside), and formatting that again changes nothing.
func FuzzParse(f *testing.F) {
	var files []string
	for _, pattern := range []string{"testdata/*.smtp", "testdata/format/*.smtp", "../scripts/*.smtp", "../scripts/*/*.smtp"} {
		more, _ := filepath.Glob(pattern)
		files = append(files, more...)
	}
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse("f.smtp", src)
		if err == nil {
			_, err = Check(s)
			if err == nil {
				roundTrip(t, s)
			}
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

func roundTrip(t *testing.T, s *Script) {
	t.Helper()
	var out bytes.Buffer
	if err := Format(&out, s); err != nil {
		t.Fatalf("format: %v", err)
	}
	s2, err := Parse("f.smtp", out.Bytes())
	if err != nil {
		t.Fatalf("formatted text does not parse: %v\n--- source\n%q\n--- formatted\n%q", err, s.Source, out.String())
	}
	if a, b := shape(s), shape(s2); a != b {
		t.Fatalf("format changed the script\n--- source\n%q\n--- formatted\n%q\n--- before\n%s--- after\n%s", s.Source, out.String(), a, b)
	}
	if a, b := commentTexts(s), commentTexts(s2); a != b {
		t.Fatalf("format lost or changed comments\n--- source\n%q\n--- formatted\n%q", s.Source, out.String())
	}
	if _, err := Check(s2); err != nil {
		t.Fatalf("the formatted script does not check: %v\n--- formatted\n%q", err, out.String())
	}
	var again bytes.Buffer
	if err := Format(&again, s2); err != nil {
		t.Fatalf("format: %v", err)
	}
	if again.String() != out.String() {
		t.Fatalf("format is not idempotent\n--- once\n%q\n--- twice\n%q", out.String(), again.String())
	}
}

func commentTexts(s *Script) string {
	var out []string
	for _, c := range comments(s) {
		out = append(out, c.text)
	}
	return strings.Join(out, "\n")
}

// shape is a script's steps without positions: what Format must keep.
func shape(s *Script) string {
	var b strings.Builder
	str := func(x *String) string {
		var out []string
		for _, p := range x.Parts {
			switch {
			case p.Var == "":
				out = append(out, fmt.Sprintf("%q", p.Lit))
			case p.Default != nil:
				out = append(out, fmt.Sprintf("${%s:-%q}", p.Var, *p.Default))
			default:
				out = append(out, "${"+p.Var+"}")
			}
		}
		// Adjacent literals print as one; compare them joined.
		return strings.ReplaceAll(strings.Join(out, " "), `" "`, "")
	}
	Walk(s, func(n Node) bool {
		if _, script := n.(*Script); script {
			return true
		}
		switch st := n.(type) {
		case nil, *Word, *Code, *String, *Heredoc, *Matcher:
			return false
		case *Repeat:
			// The block's steps follow (Walk); their count closes it.
			fmt.Fprintf(&b, "repeat %s %d\n", str(st.Count), len(st.Steps))
		case *Connect:
			fmt.Fprintf(&b, "connect %s %v\n", str(st.Address), st.TLS != nil)
		case *Send:
			fmt.Fprintf(&b, "send %s\n", str(st.Text))
		case *Expect:
			fmt.Fprintf(&b, "expect closed=%v", st.Closed != nil)
			for _, c := range st.Codes {
				fmt.Fprintf(&b, " %s", strings.ToLower(c.Text))
			}
			if m := st.Match; m != nil && m.Regex != nil {
				fmt.Fprintf(&b, " regex %s", m.Regex.Text)
			} else if m != nil {
				fmt.Fprintf(&b, " substring %s", str(m.Substring))
			}
			b.WriteByte('\n')
		case *StartTLS:
			b.WriteString("starttls\n")
		case *Auth:
			fmt.Fprintf(&b, "auth %s %s %s\n", strings.ToLower(st.Mechanism.Text), str(st.User), str(st.Secret))
		case *Message:
			fmt.Fprintf(&b, "message binary=%v ", st.Binary != nil)
			if st.File != nil {
				fmt.Fprintf(&b, "file %s\n", str(st.File))
			} else {
				fmt.Fprintf(&b, "inline %q %s\n", st.Inline.Comment, str(&String{Parts: st.Inline.Parts}))
			}
		case *Quit:
			b.WriteString("quit\n")
		case *Raw:
			fmt.Fprintf(&b, "raw %s\n", str(st.Text))
		case *Note:
			fmt.Fprintf(&b, "note %s\n", str(st.Text))
		default:
			panic(fmt.Sprintf("shape: unhandled %T", st))
		}
		_, block := n.(*Repeat)
		return block
	})
	return b.String()
}

// FuzzExpand: interpolation of any string body either fails with an
// *Error at a position inside the string, or yields text in which every
// well-formed reference was substituted: the result equals a reference
// model that walks the body on its own, so no ${NAME} of a set variable
// survives and $${ becomes a literal ${.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"EHLO ${HOST}", "${A:-b}c", "$${x}", "${", "${1}", `a\"b\\c`, "${A:-${B}}", "x$", "$$${HOST}", "${UNSET:-d}"} {
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
			if e.Pos.Line != 1 || e.Pos.Column < 6 || e.Pos.Column > len(src) {
				t.Fatalf("bad error position for %q: %v", src, err)
			}
			return
		}
		send, ok := s.Steps[0].(*Send)
		if !ok {
			return
		}
		got, err := send.Text.Expand(vars)
		want, wantOK := expandModel(body, vars)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Pos.Line != 1 || e.Pos.Column < 6 || e.Pos.Column > len(src) {
				t.Fatalf("bad error position for %q: %v", src, err)
			}
			if wantOK {
				t.Fatalf("%q: Expand failed (%v), the model gives %q", body, err, want)
			}
			return
		}
		if !wantOK || got != want {
			t.Fatalf("%q: Expand = %q, model = %q (ok=%v)", body, got, want, wantOK)
		}
	})
}

// expandModel is an independent reading of a string body: \" and \\
// escapes, $${ for a literal ${, ${NAME} and ${NAME:-default}. ok is
// false where a variable is unset without a default; malformed bodies
// never reach it (Parse rejects them).
func expandModel(body string, vars MapVars) (string, bool) {
	var out strings.Builder
	for i := 0; i < len(body); {
		switch {
		case body[i] == '\\' && i+1 < len(body):
			out.WriteByte(body[i+1])
			i += 2
		case strings.HasPrefix(body[i:], "$${"):
			out.WriteString("${")
			i += 3
		case strings.HasPrefix(body[i:], "${"):
			end := strings.IndexByte(body[i:], '}')
			name, def, hasDef := strings.Cut(body[i+2:i+end], ":-")
			if v, ok := vars[name]; ok {
				out.WriteString(v)
			} else if hasDef {
				out.WriteString(def)
			} else {
				return "", false
			}
			i += end + 1
		default:
			out.WriteByte(body[i])
			i++
		}
	}
	return out.String(), true
}
