package dsl

import (
	"regexp"

	"github.com/smtprun/smtprun/internal/smtp"
)

// Script is a parsed .smtp file: smtprun's own syntax tree, lowered from
// the grammar's parse tree (grammar.go) so that the rest of the program
// never sees participle's types. Steps run in order, one per line.
//
// A Script is what Parse returns and what Format prints; Check turns it
// into a Program, which is what the engine runs.
type Script struct {
	Steps []Step

	// File is the path the script was parsed from, as given to Parse.
	File string
	// Source is the script text, kept so diagnostics can quote lines and
	// Format can recover the comments the lexer drops.
	Source []byte
	// Header holds "# key: value" comment lines that precede the first
	// step, lower-cased keys (e.g. "scenario"). Runners read them as hints.
	Header map[string]string
}

// Step is one line of a script. The concrete types are *Connect, *Send,
// *Expect, *StartTLS, *Auth, *Message, *Quit, *Raw, *Note, *Repeat (a
// block of steps) and *Unknown;
// code that handles steps uses a type switch over them (see registry.go
// and its test for how a missing case is caught).
type Step interface {
	// Pos is where the step's first token starts, End just past its last.
	Node
	// Keyword is the step's word as the registry names it ("send"); an
	// Unknown step returns the word it starts with.
	Keyword() string
}

// span is a start and an end position, taken from the tokens themselves.
type span struct {
	pos, end Pos
}

// Pos is where the node starts.
func (s span) Pos() Pos { return s.pos }

// End is just past the node's last byte.
func (s span) End() Pos { return s.end }

// Span is how many columns the node covers (at least one), for a caret
// under it. Render stops the caret at the end of the line, so a node that
// runs over several lines (a heredoc) is underlined to the end of its
// first.
func (s span) Span() int {
	if s.end.Line != s.pos.Line {
		return max(1, s.end.Offset-s.pos.Offset)
	}
	return max(1, s.end.Column-s.pos.Column)
}

// Word is one token of a step as written: a keyword, a mechanism, a code
// or a regex literal, with where it starts and ends.
type Word struct {
	span
	Text string
}

// Connect opens a TCP connection; TLS (the `tls` word) means implicit TLS
// (port 465 style).
type Connect struct {
	span
	Kw      Word
	Address *String
	TLS     *Word // nil without `tls`
}

// Send writes one command line; the engine appends CRLF.
type Send struct {
	span
	Kw   Word
	Text *String
}

// Expect reads one complete reply and checks its code and, optionally, text.
type Expect struct {
	span
	Kw Word
	// Closed is the word of `expect closed`: the server must close the
	// connection. Codes is empty then.
	Closed *Word
	Codes  []*Code
	Match  *Matcher
}

// Code is one alternative of an expect: "250", "2xx" or "25x".
type Code struct {
	Word
	// pattern is set by Check on the Program's copy.
	pattern smtp.CodePattern
}

// Pattern is the code as a pattern; valid only on a checked Program's steps.
func (c *Code) Pattern() smtp.CodePattern { return c.pattern }

// Matcher checks the text of a reply: a case-insensitive substring or a regex.
type Matcher struct {
	span
	Substring *String
	Regex     *Word // the literal with its slashes, e.g. /^AUTH/

	// re is compiled by Check on the Program's copy.
	re *regexp.Regexp
}

// Regexp is the compiled regex of a checked Program's matcher, or nil.
func (m *Matcher) Regexp() *regexp.Regexp { return m.re }

// StartTLS upgrades the connection (RFC 3207).
type StartTLS struct {
	span
	Kw Word
}

// Auth runs a SASL exchange with the given mechanism.
type Auth struct {
	span
	Kw        Word
	Mechanism Word
	User      *String
	Secret    *String
}

// Message sends the content of a DATA transaction, inline or from a file.
type Message struct {
	span
	Kw Word
	// Binary is the `binary` word: the content goes byte for byte with
	// BDAT (RFC 3030) instead of DATA: no line-ending conversion, no
	// dot-stuffing, no line limit. Nil for a DATA message.
	Binary *Word
	Inline *Heredoc // one of Inline and File is set
	File   *String
	FileKw *Word // the `file` word
}

// Quit sends QUIT, expects 221 and closes the connection.
type Quit struct {
	span
	Kw Word
}

// Raw writes bytes exactly as written, with no CRLF appended: the one way
// to put a bare CR or LF on the wire, for reproducing how a server handles
// malformed input. Its string also accepts \r, \n, \t and \xNN.
type Raw struct {
	span
	Kw   Word
	Text *String
}

// Note prints the script's own narration into the transcript: the
// lesson's voice between the protocol lines. Nothing is sent.
type Note struct {
	span
	Kw   Word
	Text *String
}

// Include splices the steps of another script at this point; its path
// is relative to the including script's file. Check (with a Loader)
// replaces it by those steps: a Program never holds an Include.
type Include struct {
	span
	Kw   Word
	Path *String
}

// Repeat runs the steps of its block Count times in a row, on the same
// connection: several transactions after one login, say. The order check
// treats the block as one unit that must leave no reply unread, so every
// iteration starts where the first did.
type Repeat struct {
	span
	Kw Word
	// Count is the number as written ("20") or a variable (${N}); its
	// value is a whole number, checked by Check when static and by the
	// engine when it is expanded.
	Count *String
	// Open is the brace that ends the repeat line.
	Open  Word
	Steps []Step
	// Close is the closing brace, on a line of its own.
	Close Word
}

// Unknown is a line that starts with a word that is not a step, or a
// step whose arguments did not parse; Check explains it.
type Unknown struct {
	span
	Word Word
	Rest []Word // the tokens up to the end of the line

	line string // the source line, to find where a step's arguments fail
}

// String is a double-quoted string with ${NAME} interpolation.
type String struct {
	span
	// Raw is the literal as written, quotes included.
	Raw   string
	Parts []Part
	// Bytes marks the string of a raw step, whose escapes include \r \n
	// \t and \xNN.
	Bytes bool
}

// Heredoc is the body of message """ ... """.
type Heredoc struct {
	span
	Raw   string
	Parts []Part
	// Comment is a "# ..." written after the opening """, kept for Format.
	Comment string
}

// Keyword implements Step.
func (*Connect) Keyword() string  { return "connect" }
func (*Send) Keyword() string     { return "send" }
func (*Expect) Keyword() string   { return "expect" }
func (*StartTLS) Keyword() string { return "starttls" }
func (*Auth) Keyword() string     { return "auth" }
func (*Message) Keyword() string  { return "message" }
func (*Quit) Keyword() string     { return "quit" }
func (*Raw) Keyword() string      { return "raw" }
func (*Note) Keyword() string     { return "note" }
func (*Include) Keyword() string  { return "include" }
func (*Repeat) Keyword() string   { return "repeat" }
func (u *Unknown) Keyword() string {
	return u.Word.Text
}

// Columns is how many columns a caret from one position to another
// covers, for an error that underlines several tokens (`message binary`).
func Columns(from, to Pos) int { return span{from, to}.Span() }
