package dsl

import (
	"github.com/alecthomas/participle/v2/lexer"
)

// Script is a parsed .smtp file. Steps run in order, one per line.
type Script struct {
	Pos   lexer.Position
	Steps []*Step `EOL* ( @@ ( EOL+ | EOF ) )*`

	// File is the path the script was parsed from, as given to Parse.
	File string
	// Source is the script text, kept so diagnostics can quote lines.
	Source []byte
	// Header holds "# key: value" comment lines that precede the first
	// step, lower-cased keys (e.g. "scenario"). Runners read them as hints.
	Header map[string]string
}

// Step is one line of a script. Exactly one field is set.
type Step struct {
	Pos      lexer.Position
	Connect  *Connect  `  @@`
	Send     *Send     `| @@`
	Expect   *Expect   `| @@`
	StartTLS *StartTLS `| @@`
	Auth     *Auth     `| @@`
	Message  *Message  `| @@`
	Quit     *Quit     `| @@`
	// Unknown catches any other word so validation can say "did you mean".
	Unknown *Unknown `| @@`
}

// Connect opens a TCP connection; TLS means implicit TLS (port 465 style).
type Connect struct {
	Pos     lexer.Position
	Address *String `"connect" @@`
	TLS     bool    `@"tls"?`
}

// Send writes one command line; the engine appends CRLF.
type Send struct {
	Pos  lexer.Position
	Text *String `"send" @@`
}

// Expect reads one complete reply and checks its code and, optionally, text.
type Expect struct {
	Pos   lexer.Position
	Codes []*Code  `"expect" @@ ( "|" @@ )*`
	Match *Matcher `@@?`
}

// Code is one alternative of an expect: "250", "2xx" or "25x".
type Code struct {
	Pos   lexer.Position
	Value string `@(Code | Ident)`
}

// Matcher checks the text of a reply: a case-insensitive substring or a regex.
type Matcher struct {
	Pos       lexer.Position
	Substring *String `  @@`
	Regex     *string `| @Regex`
}

// StartTLS upgrades the connection (RFC 3207).
type StartTLS struct {
	Pos lexer.Position
	Kw  string `@"starttls"`
}

// Auth runs a SASL exchange with the given mechanism.
type Auth struct {
	Pos       lexer.Position
	Mechanism string  `"auth" @(Ident | Code)`
	User      *String `@@`
	Secret    *String `@@`
}

// Message sends the content of a DATA transaction, inline or from a file.
type Message struct {
	Pos    lexer.Position
	Inline *Heredoc `"message" ( @@`
	File   *String  `          | "file" @@ )`
}

// Quit sends QUIT, expects 221 and closes the connection.
type Quit struct {
	Pos lexer.Position
	Kw  string `@"quit"`
}

// Unknown is a line that starts with a word that is not a step.
type Unknown struct {
	Pos  lexer.Position
	Word string   `@(Ident | Code)`
	Rest []*Token `@@*`
}

// Token is any token up to the end of the line, kept with its position.
type Token struct {
	Pos   lexer.Position
	Value string `@~EOL`
}

// String is a double-quoted string with ${NAME} interpolation.
type String struct {
	Pos lexer.Position
	Raw string `@(String | UnterminatedString)`

	// Parts is filled after parsing from Raw.
	Parts []Part
}

// Heredoc is the body of `message """ ... """`.
type Heredoc struct {
	Pos lexer.Position
	Raw string `@(Heredoc | UnterminatedHeredoc)`

	Parts []Part
}
