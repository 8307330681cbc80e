package dsl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"
)

// lexerRules are the lexer's rules as participle regular expressions, in
// the order they are tried (the first that matches wins). They are the
// specification: scriptDefinition is a hand-written version of them,
// held to them token for token below.
func lexerRules() *lexer.StatefulDefinition {
	return lexer.MustSimple([]lexer.SimpleRule{
		{Name: "Comment", Pattern: `#[^\n]*`},
		// A heredoc's closing """ stands alone at the start of a line (after
		// optional indentation); everything between the two lines is content.
		{Name: "Heredoc", Pattern: `"""[^\n]*\n(?:[^\n]*\n)*?[ \t]*"""`},
		{Name: "UnterminatedHeredoc", Pattern: `"""(?s:.*)`},
		{Name: "String", Pattern: `"(?:\\.|[^"\\\n])*"`},
		{Name: "UnterminatedString", Pattern: `"[^\n]*`},
		{Name: "Regex", Pattern: `/(?:\\.|[^/\\\n])*/`},
		{Name: "Code", Pattern: `[0-9][0-9A-Za-z]*`},
		{Name: "Ident", Pattern: `[A-Za-z_][A-Za-z0-9_\-]*`},
		{Name: "Pipe", Pattern: `\|`},
		{Name: "EOL", Pattern: `\r?\n`},
		{Name: "Whitespace", Pattern: `[ \t]+`},
		{Name: "Other", Pattern: `.`},
	})
}

func lexAll(t *testing.T, def lexer.Definition, src string) []lexer.Token {
	t.Helper()
	lx, err := def.Lex("f.smtp", strings.NewReader(src))
	if err != nil {
		t.Fatalf("lex: %v", err)
	}
	var out []lexer.Token
	for {
		tok, err := lx.Next()
		if err != nil {
			t.Fatalf("lex %q: %v", src, err)
		}
		out = append(out, tok)
		if tok.EOF() {
			return out
		}
	}
}

func sameTokens(t *testing.T, src string) {
	t.Helper()
	want := lexAll(t, lexerRules(), src)
	got := lexAll(t, scriptDefinition{}, src)
	names := lexer.SymbolsByRune(lexerRules())
	for i := 0; i < len(want) || i < len(got); i++ {
		if i >= len(want) || i >= len(got) || want[i] != got[i] {
			describe := func(ts []lexer.Token) string {
				if i >= len(ts) {
					return "nothing"
				}
				return names[ts[i].Type] + " " + ts[i].GoString()
			}
			t.Fatalf("input %q, token %d: got %s, want %s", src, i, describe(got), describe(want))
		}
	}
}

func TestLexerSymbolsAreTheRules(t *testing.T) {
	want := lexerRules().Symbols()
	got := scriptDefinition{}.Symbols()
	if len(got) != len(want) {
		t.Fatalf("%d symbols, want %d: %v", len(got), len(want), got)
	}
	for name, typ := range want {
		if got[name] != typ {
			t.Errorf("symbol %s is %d, want %d", name, got[name], typ)
		}
	}
}

func TestLexerMatchesItsRules(t *testing.T) {
	cases := []string{
		"",
		"connect \"smtp.example.com:587\" tls\n",
		"expect 250|251 \"OK\"\nexpect 5xx /^5\\.7\\./\n",
		"send \"a \\\"quoted\\\" word\"  # comment\r\n",
		"send \"ends in a backslash\\",
		"send \"escaped newline\\\nnext\"",
		"send \"unterminated\nquit",
		"message \"\"\"\nline\n  \"\"\" after\n",
		"message \"\"\"first\"\"\"\nbody\n\t\"\"\"",
		"message \"\"\"\nno end\n",
		"message \"\"\"",
		"message \"\"\"\"\"\"\n\"\"\"",
		"repeat ${N:-3} {\n  quit\n}\n",
		"/unterminated regex\n",
		"a/b/ //",
		"\r\r\n\n\t \t",
		"héllo wörld \"ünïcode\" 250ä",
		"bad \xff\xfe utf8 \"\xc3\" /\xe2\x82/",
		"_x-y 9-z ${}|:-@!",
		"#",
		"\"",
		"\"\\\"",
	}
	files, _ := filepath.Glob("testdata/*.smtp")
	more, _ := filepath.Glob("../scripts/*.smtp")
	files = append(files, more...)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, string(b))
	}
	if len(files) < 50 {
		t.Fatalf("only %d scripts found to lex", len(files))
	}
	for _, src := range cases {
		sameTokens(t, src)
	}
}

// FuzzLexer: on any input the hand-written lexer gives the tokens its
// rules give, with the same positions.
func FuzzLexer(f *testing.F) {
	for _, s := range []string{"connect \"x\" tls\n", "message \"\"\"\na\n \"\"\"\n", "expect 250|5xx /re\\/x/\r\n", "\xff\"\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		sameTokens(t, src)
	})
}
