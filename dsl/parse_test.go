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
			var prog *Program
			if err == nil {
				prog, err = Check(s, WithLoader(os.ReadFile))
			}
			var got string
			switch {
			case strings.HasPrefix(name, "ok-"):
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				got = dump(prog)
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

// dump is a compact, stable rendering of a program with positions.
func dump(p *Program) string {
	var b strings.Builder
	if len(p.header) > 0 {
		keys := make([]string, 0, len(p.header))
		for k := range p.header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "header %s = %q\n", k, p.Header(k))
		}
	}
	for _, st := range p.Steps() {
		fmt.Fprintf(&b, "%d:%d ", st.Pos().Line, st.Pos().Column)
		switch st := st.(type) {
		case *Connect:
			fmt.Fprintf(&b, "connect %s tls=%v\n", parts(st.Address.Parts), st.TLS != nil)
		case *Send:
			fmt.Fprintf(&b, "send %s\n", parts(st.Text.Parts))
		case *Note:
			fmt.Fprintf(&b, "note %s\n", parts(st.Text.Parts))
		case *Raw:
			fmt.Fprintf(&b, "raw %s\n", parts(st.Text.Parts))
		case *Expect:
			if st.Closed != nil {
				b.WriteString("expect closed\n")
				continue
			}
			var codes []string
			for _, c := range st.Codes {
				codes = append(codes, fmt.Sprintf("%s@%d", c.Text, c.Pos().Column))
			}
			fmt.Fprintf(&b, "expect %s", strings.Join(codes, "|"))
			if m := st.Match; m != nil {
				if m.Regexp() != nil {
					fmt.Fprintf(&b, " regex=%q", m.Regexp().String())
				} else {
					fmt.Fprintf(&b, " substring=%s", parts(m.Substring.Parts))
				}
			}
			b.WriteString("\n")
		case *StartTLS:
			b.WriteString("starttls\n")
		case *Auth:
			fmt.Fprintf(&b, "auth %s user=%s secret=%s\n", st.Mechanism.Text, parts(st.User.Parts), parts(st.Secret.Parts))
		case *Message:
			if st.Binary != nil {
				b.WriteString("binary ")
			}
			if st.File != nil {
				fmt.Fprintf(&b, "message file %s\n", parts(st.File.Parts))
			} else {
				fmt.Fprintf(&b, "message %s\n", parts(st.Inline.Parts))
			}
		case *Quit:
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
