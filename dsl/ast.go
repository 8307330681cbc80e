package dsl

import (
	"regexp"

	"github.com/alecthomas/participle/v2/lexer"
)

// Script is a parsed .smtp file. Steps run in order, one per line.
type Script struct {
	Pos   lexer.Position
	Steps []*Step `parser:"EOL* ( @@ ( EOL+ | EOF ) )*"`

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
	Connect  *Connect  `parser:"  @@"`
	Send     *Send     `parser:"| @@"`
	Expect   *Expect   `parser:"| @@"`
	StartTLS *StartTLS `parser:"| @@"`
	Auth     *Auth     `parser:"| @@"`
	Message  *Message  `parser:"| @@"`
	Quit     *Quit     `parser:"| @@"`
	Raw      *Raw      `parser:"| @@"`
	Note     *Note     `parser:"| @@"`
	// Unknown catches any other word so validation can say "did you mean".
	Unknown *Unknown `parser:"| @@"`
}

// Connect opens a TCP connection; TLS means implicit TLS (port 465 style).
type Connect struct {
	Pos     lexer.Position
	Address *String `parser:"'connect' @@"`
	TLS     bool    `parser:"@'tls'?"`
}

// Send writes one command line; the engine appends CRLF.
type Send struct {
	Pos  lexer.Position
	Text *String `parser:"'send' @@"`
}

// Expect reads one complete reply and checks its code and, optionally, text.
type Expect struct {
	Pos lexer.Position
	// Closed is `expect closed`: the server must close the connection.
	Closed bool     `parser:"'expect' ( @'closed'"`
	Codes  []*Code  `parser:"         | @@ ( '|' @@ )* )"`
	Match  *Matcher `parser:"@@?"`
}

// Code is one alternative of an expect: "250", "2xx" or "25x".
type Code struct {
	Pos   lexer.Position
	Value string `parser:"@(Code | Ident)"`
}

// Matcher checks the text of a reply: a case-insensitive substring or a regex.
type Matcher struct {
	Pos       lexer.Position
	Substring *String `parser:"  @@"`
	Regex     *string `parser:"| @Regex"`

	// Re is the compiled Regex, set by Validate.
	Re *regexp.Regexp
}

// StartTLS upgrades the connection (RFC 3207).
type StartTLS struct {
	Pos lexer.Position
	Kw  string `parser:"@'starttls'"`
}

// Auth runs a SASL exchange with the given mechanism.
type Auth struct {
	Pos       lexer.Position
	Mechanism string  `parser:"'auth' @(Ident | Code)"`
	User      *String `parser:"@@"`
	Secret    *String `parser:"@@"`
}

// Message sends the content of a DATA transaction, inline or from a file.
type Message struct {
	Pos lexer.Position
	// Binary sends the content byte for byte with BDAT (RFC 3030) instead
	// of DATA: no line-ending conversion, no dot-stuffing, no line limit.
	Binary bool     `parser:"'message' @'binary'?"`
	Inline *Heredoc `parser:"( @@"`
	File   *String  `parser:"| 'file' @@ )"`
}

// Quit sends QUIT, expects 221 and closes the connection.
type Quit struct {
	Pos lexer.Position
	Kw  string `parser:"@'quit'"`
}

// Raw writes bytes exactly as written, with no CRLF appended: the one way
// to put a bare CR or LF on the wire, for reproducing how a server handles
// malformed input. Its string also accepts \r, \n, \t and \xNN.
type Raw struct {
	Pos  lexer.Position
	Text *String `parser:"'raw' @@"`
}

// Note prints the script's own narration into the transcript: the
// lesson's voice between the protocol lines. Nothing is sent.
type Note struct {
	Pos  lexer.Position
	Text *String `parser:"'note' @@"`
}

// Unknown is a line that starts with a word that is not a step.
type Unknown struct {
	Pos  lexer.Position
	Word string   `parser:"@(Ident | Code)"`
	Rest []*Token `parser:"@@*"`
}

// Token is any token up to the end of the line, kept with its position.
type Token struct {
	Pos   lexer.Position
	Value string `parser:"@~EOL"`
}

// String is a double-quoted string with ${NAME} interpolation.
type String struct {
	Pos lexer.Position
	Raw string `parser:"@(String | UnterminatedString)"`

	// Parts is filled after parsing from Raw.
	Parts []Part
	// bytes allows the escapes of a raw step.
	bytes bool
}

// Heredoc is the body of message """ ... """.
type Heredoc struct {
	Pos lexer.Position
	Raw string `parser:"@(Heredoc | UnterminatedHeredoc)"`

	Parts []Part
}
