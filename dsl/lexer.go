package dsl

import (
	"sync"

	"github.com/alecthomas/participle/v2/lexer"
)

// The lexer is deliberately broad: codes are any digit-led word and strings
// may be unterminated, so that validation, not the lexer, explains what is
// wrong ("reply code 999 is outside 200-599" beats "invalid input text").
// Newlines are tokens because the language is line-oriented; whitespace is
// [ \t] only, since \s would swallow them.
// It is compiled on first use, with the grammar.
var scriptLexer = sync.OnceValue(func() *lexer.StatefulDefinition {
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
})
