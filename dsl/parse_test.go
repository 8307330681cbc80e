package dsl

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGolden parses and validates every testdata/*.smtp. A script named
// ok-* must be accepted, and its golden file holds the AST; err-* must be
// rejected, and its golden file holds the rendered error, exactly as a user
// sees it.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.smtp")
	if len(files) == 0 {
		t.Fatal("no test scripts")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".smtp")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Parse(f, src)
			if err == nil {
				err = Validate(s)
			}
			var got string
			switch {
			case strings.HasPrefix(name, "ok-"):
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				got = dump(s)
			case strings.HasPrefix(name, "err-"):
				if err == nil {
					t.Fatalf("accepted, want an error")
				}
				got = render(t, err, src)
			default:
				t.Fatalf("name test scripts ok-* or err-*")
			}
			golden := strings.TrimSuffix(f, ".smtp") + ".golden"
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./dsl -update writes it)", err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func render(t *testing.T, err error, src []byte) string {
	var list ErrorList
	var one *Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = ErrorList{one}
	default:
		t.Fatalf("error is %T, not a positioned *Error: %v", err, err)
	}
	var b strings.Builder
	for _, e := range list {
		if e.Pos.Line < 1 || e.Pos.Column < 1 || e.Pos.Filename == "" {
			t.Errorf("error without a full position: %+v", e)
		}
		b.WriteString(Render(e, src, Styler{}))
	}
	return b.String()
}

// dump is a compact, stable rendering of the AST with positions.
func dump(s *Script) string {
	var b strings.Builder
	if len(s.Header) > 0 {
		keys := make([]string, 0, len(s.Header))
		for k := range s.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "header %s = %q\n", k, s.Header[k])
		}
	}
	for _, st := range s.Steps {
		fmt.Fprintf(&b, "%d:%d ", st.Pos.Line, st.Pos.Column)
		switch {
		case st.Connect != nil:
			fmt.Fprintf(&b, "connect %s tls=%v\n", parts(st.Connect.Address.Parts), st.Connect.TLS)
		case st.Send != nil:
			fmt.Fprintf(&b, "send %s\n", parts(st.Send.Text.Parts))
		case st.Expect != nil && st.Expect.Closed:
			b.WriteString("expect closed\n")
		case st.Note != nil:
			fmt.Fprintf(&b, "note %s\n", parts(st.Note.Text.Parts))
		case st.Raw != nil:
			fmt.Fprintf(&b, "raw %s\n", parts(st.Raw.Text.Parts))
		case st.Expect != nil:
			var codes []string
			for _, c := range st.Expect.Codes {
				codes = append(codes, fmt.Sprintf("%s@%d", c.Value, c.Pos.Column))
			}
			fmt.Fprintf(&b, "expect %s", strings.Join(codes, "|"))
			if m := st.Expect.Match; m != nil {
				if m.Re != nil {
					fmt.Fprintf(&b, " regex=%q", m.Re.String())
				} else {
					fmt.Fprintf(&b, " substring=%s", parts(m.Substring.Parts))
				}
			}
			b.WriteString("\n")
		case st.StartTLS != nil:
			b.WriteString("starttls\n")
		case st.Auth != nil:
			fmt.Fprintf(&b, "auth %s user=%s secret=%s\n", st.Auth.Mechanism, parts(st.Auth.User.Parts), parts(st.Auth.Secret.Parts))
		case st.Message != nil:
			if st.Message.Binary {
				b.WriteString("binary ")
			}
			if st.Message.File != nil {
				fmt.Fprintf(&b, "message file %s\n", parts(st.Message.File.Parts))
			} else {
				fmt.Fprintf(&b, "message %s\n", parts(st.Message.Inline.Parts))
			}
		case st.Quit != nil:
			b.WriteString("quit\n")
		}
	}
	return b.String()
}

func parts(ps []Part) string {
	var out []string
	for _, p := range ps {
		where := fmt.Sprintf("@%d:%d", p.Pos.Line, p.Pos.Column)
		switch {
		case p.Var == "":
			out = append(out, fmt.Sprintf("%q%s", p.Lit, where))
		case p.Default != nil:
			out = append(out, fmt.Sprintf("${%s:-%q}%s", p.Var, *p.Default, where))
		default:
			out = append(out, fmt.Sprintf("${%s}%s", p.Var, where))
		}
	}
	return "[" + strings.Join(out, " ") + "]"
}
