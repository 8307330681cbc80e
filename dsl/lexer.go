package dsl

import (
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// The lexer is deliberately broad: codes are any digit-led word and strings
// may be unterminated, so that validation, not the lexer, explains what is
// wrong ("reply code 999 is outside 200-599" beats "invalid input text").
// Newlines are tokens because the language is line-oriented; whitespace is
// space and tab only. Every byte of any input is some token, so lexing
// never fails.
//
// Its rules are those of lexerRules in lexer_test.go, a participle
// regexp lexer that the tests hold this one to, token for token, on every
// script here and under fuzzing. It is written out by hand because every
// run lexes its script once in a fresh process: compiling twelve regular
// expressions and trying them in turn at each token was a fifth of
// parsing a short script there.
type scriptDefinition struct{}

// The token types, numbered as participle numbers a lexer's rules.
const (
	tokComment             lexer.TokenType = lexer.EOF - 1 - iota // # to the end of the line
	tokHeredoc                                                    // """ ... \n ... \n """, closed at the start of a line
	tokUnterminatedHeredoc                                        // """ and the rest of the input
	tokString                                                     // "..." on one line, \ escaping any character
	tokUnterminatedString                                         // " and the rest of the line
	tokRegex                                                      // /.../ on one line, \ escaping any character
	tokCode                                                       // a digit, then letters and digits
	tokIdent                                                      // a letter or _, then letters, digits, _ and -
	tokPipe                                                       // |
	tokEOL                                                        // \n or \r\n
	tokWhitespace                                                 // spaces and tabs
	tokOther                                                      // any other character
)

var tokenNames = [...]string{"Comment", "Heredoc", "UnterminatedHeredoc", "String", "UnterminatedString",
	"Regex", "Code", "Ident", "Pipe", "EOL", "Whitespace", "Other"}

// Symbols is asked once for every token name in the grammar's tags, so
// the map is made once; participle only reads it.
func (scriptDefinition) Symbols() map[string]lexer.TokenType { return symbols() }

var symbols = sync.OnceValue(func() map[string]lexer.TokenType {
	m := make(map[string]lexer.TokenType, len(tokenNames)+1)
	m["EOF"] = lexer.EOF
	for i, name := range tokenNames {
		m[name] = tokComment - lexer.TokenType(i)
	}
	return m
})

func (d scriptDefinition) Lex(filename string, r io.Reader) (lexer.Lexer, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return d.LexString(filename, string(b))
}

func (d scriptDefinition) LexBytes(filename string, b []byte) (lexer.Lexer, error) {
	return d.LexString(filename, string(b))
}

func (scriptDefinition) LexString(filename, s string) (lexer.Lexer, error) {
	return &scanner{rest: s, pos: lexer.Position{Filename: filename, Line: 1, Column: 1}}, nil
}

type scanner struct {
	rest string
	pos  lexer.Position
}

func (s *scanner) Next() (lexer.Token, error) {
	if s.rest == "" {
		return lexer.EOFToken(s.pos), nil
	}
	typ, n := nextToken(s.rest)
	t := lexer.Token{Type: typ, Value: s.rest[:n], Pos: s.pos}
	s.pos.Advance(t.Value)
	s.rest = s.rest[n:]
	return t, nil
}

// nextToken returns the type and length of the token that src starts
// with; src is not empty.
func nextToken(src string) (lexer.TokenType, int) {
	switch c := src[0]; {
	case c == '#':
		return tokComment, lineLen(src)
	case strings.HasPrefix(src, `"""`):
		if n := heredocLen(src); n > 0 {
			return tokHeredoc, n
		}
		return tokUnterminatedHeredoc, len(src)
	case c == '"':
		if n := quotedLen(src); n > 0 {
			return tokString, n
		}
		return tokUnterminatedString, lineLen(src)
	case c == '/':
		if n := quotedLen(src); n > 0 {
			return tokRegex, n
		}
		return tokOther, 1
	case isDigit(c):
		return tokCode, 1 + spanOf(src[1:], isAlnum)
	case isLetter(c) || c == '_':
		return tokIdent, 1 + spanOf(src[1:], isIdentByte)
	case c == '|':
		return tokPipe, 1
	case c == '\n':
		return tokEOL, 1
	case c == '\r' && len(src) > 1 && src[1] == '\n':
		return tokEOL, 2
	case c == ' ' || c == '\t':
		return tokWhitespace, spanOf(src, isBlank)
	}
	// One character; a byte that is not UTF-8 is one too, as it is to a
	// regular expression's dot.
	_, n := utf8.DecodeRuneInString(src)
	return tokOther, n
}

// lineLen is the length of src up to its first newline.
func lineLen(src string) int {
	if i := strings.IndexByte(src, '\n'); i >= 0 {
		return i
	}
	return len(src)
}

// quotedLen is the length of the quoted text src starts with, up to and
// including the closing quote, which is src's first byte again; a
// backslash escapes any character but a newline. It is 0 if the line or
// the input ends first.
func quotedLen(src string) int {
	q := src[0]
	for i := 1; i < len(src); i++ {
		switch src[i] {
		case q:
			return i + 1
		case '\n':
			return 0
		case '\\':
			if i+1 == len(src) || src[i+1] == '\n' {
				return 0
			}
			i++
		}
	}
	return 0
}

// heredocLen is the length of the heredoc src starts with: """ and the
// rest of its line, then whole lines up to the first that starts, after
// spaces and tabs, with """; that closing """ ends it. It is 0 if no
// line closes it.
func heredocLen(src string) int {
	nl := strings.IndexByte(src, '\n')
	if nl < 0 {
		return 0
	}
	for at := nl + 1; ; {
		i := at + spanOf(src[at:], isBlank)
		if strings.HasPrefix(src[i:], `"""`) {
			return i + 3
		}
		nl := strings.IndexByte(src[at:], '\n')
		if nl < 0 {
			return 0
		}
		at += nl + 1
	}
}

func spanOf(s string, in func(byte) bool) int {
	i := 0
	for i < len(s) && in(s[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool     { return '0' <= c && c <= '9' }
func isLetter(c byte) bool    { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool     { return isDigit(c) || isLetter(c) }
func isIdentByte(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }
func isBlank(c byte) bool     { return c == ' ' || c == '\t' }
