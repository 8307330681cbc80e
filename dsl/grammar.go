package dsl

import (
	"sync"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// The participle grammar. Its parse-tree types are an internal detail:
// every token an error can point at is a node with its lexer.Position, so
// the lowering below knows where each one starts and ends; the lowering
// converts every position to a Pos, and Parse hands out only the types of
// ast.go.

type gScript struct {
	Steps []*gStep `parser:"EOL* ( @@ ( EOL+ | EOF ) )*"`
}

type gStep struct {
	Connect  *gConnect  `parser:"  @@"`
	Send     *gText     `parser:"| @@"`
	Expect   *gExpect   `parser:"| @@"`
	StartTLS *gStartTLS `parser:"| @@"`
	Auth     *gAuth     `parser:"| @@"`
	Message  *gMessage  `parser:"| @@"`
	Quit     *gQuit     `parser:"| @@"`
	Raw      *gRaw      `parser:"| @@"`
	Note     *gNote     `parser:"| @@"`
	Include  *gInclude  `parser:"| @@"`
	Repeat   *gRepeat   `parser:"| @@"`
	Unknown  *gUnknown  `parser:"| @@"`
}

// A node's Pos is that of its first token with elided whitespace skipped,
// which is why every token an error can point at is a node of its own.

type gStr struct {
	Pos   lexer.Position
	Value string `parser:"@(String | UnterminatedString)"`
}

type gName struct {
	Pos   lexer.Position
	Value string `parser:"@(Ident | Code)"`
}

type gTLS struct {
	Pos   lexer.Position
	Value string `parser:"@'tls'"`
}

type gClosed struct {
	Pos   lexer.Position
	Value string `parser:"@'closed'"`
}

type gBinary struct {
	Pos   lexer.Position
	Value string `parser:"@'binary'"`
}

type gFile struct {
	Pos   lexer.Position
	Value string `parser:"@'file'"`
}

type gRegex struct {
	Pos   lexer.Position
	Value string `parser:"@Regex"`
}

type gHeredoc struct {
	Pos   lexer.Position
	Value string `parser:"@(Heredoc | UnterminatedHeredoc)"`
}

type gConnect struct {
	Pos     lexer.Position
	Kw      string `parser:"@'connect'"`
	Address gStr   `parser:"@@"`
	TLS     *gTLS  `parser:"@@?"`
}

type gText struct {
	Pos  lexer.Position
	Kw   string `parser:"@'send'"`
	Text gStr   `parser:"@@"`
}

type gRaw struct {
	Pos  lexer.Position
	Kw   string `parser:"@'raw'"`
	Text gStr   `parser:"@@"`
}

type gNote struct {
	Pos  lexer.Position
	Kw   string `parser:"@'note'"`
	Text gStr   `parser:"@@"`
}

type gInclude struct {
	Pos  lexer.Position
	Kw   string `parser:"@'include'"`
	Path gStr   `parser:"@@"`
}

type gExpect struct {
	Pos       lexer.Position
	Kw        string   `parser:"@'expect'"`
	Closed    *gClosed `parser:"( @@"`
	Codes     []*gName `parser:"| @@ ( '|' @@ )* )"`
	Substring *gStr    `parser:"( @@"`
	Regex     *gRegex  `parser:"| @@ )?"`
}

type gStartTLS struct {
	Pos lexer.Position
	Kw  string `parser:"@'starttls'"`
}

type gQuit struct {
	Pos lexer.Position
	Kw  string `parser:"@'quit'"`
}

type gAuth struct {
	Pos       lexer.Position
	Kw        string `parser:"@'auth'"`
	Mechanism gName  `parser:"@@"`
	User      gStr   `parser:"@@"`
	Secret    gStr   `parser:"@@"`
}

type gMessage struct {
	Pos    lexer.Position
	Kw     string    `parser:"@'message'"`
	Binary *gBinary  `parser:"@@?"`
	Inline *gHeredoc `parser:"( @@"`
	FileKw *gFile    `parser:"| @@"`
	File   *gStr     `parser:"  @@ )"`
}

type gRepeat struct {
	Pos   lexer.Position
	Kw    string   `parser:"@'repeat'"`
	Count *gName   `parser:"( @@"`
	Var   *gVarRef `parser:"| @@ )"`
	Open  gOpen    `parser:"@@ EOL+"`
	Steps []*gStep `parser:"( @@ EOL+ )*"`
	Close gBrace   `parser:"@@"`
}

// gVarRef is a bare ${NAME} or ${NAME:-default}, which the lexer splits
// into $ { NAME : - default }.
type gVarRef struct {
	Pos     lexer.Position
	Name    string  `parser:"'$' '{' @Ident"`
	Default *string `parser:"( ':' '-' @(Code | Ident) )? '}'"`
}

type gOpen struct {
	Pos   lexer.Position
	Value string `parser:"@'{'"`
}

type gBrace struct {
	Pos   lexer.Position
	Value string `parser:"@'}'"`
}

type gUnknown struct {
	Word gName     `parser:"@@"`
	Rest []*gToken `parser:"@@*"`
}

type gToken struct {
	Pos   lexer.Position
	Value string `parser:"@~EOL"`
}

// The grammar is built on the first parse, not at start-up: building it
// is most of what the binary used to do before main (9,000 allocations),
// and `smtprun version` or `serve` never parse a script.
var parser = sync.OnceValue(func() *participle.Parser[gScript] {
	return participle.MustBuild[gScript](grammarOptions()...)
})

func grammarOptions() []participle.Option {
	return []participle.Option{
		participle.Lexer(scriptLexer()),
		participle.Elide("Comment", "Whitespace"),
		participle.UseLookahead(2),
	}
}

// stepRules parse one line with one step's rule alone, to find where its
// arguments go wrong once the script's grammar has fallen back to Unknown.
var stepRules = sync.OnceValue(func() map[string]func(line string) error {
	return map[string]func(line string) error{
		"connect":  rule[gConnect](),
		"send":     rule[gText](),
		"expect":   rule[gExpect](),
		"starttls": rule[gStartTLS](),
		"auth":     rule[gAuth](),
		"message":  rule[gMessage](),
		"quit":     rule[gQuit](),
		"raw":      rule[gRaw](),
		"note":     rule[gNote](),
		"include":  rule[gInclude](),
		"repeat":   rule[gRepeat](),
	}
})

func rule[T any]() func(string) error {
	p := sync.OnceValue(func() *participle.Parser[T] { return participle.MustBuild[T](grammarOptions()...) })
	return func(line string) error {
		_, err := p().ParseString("", line)
		return err
	}
}

// advance returns the position just past text written from p: a token's
// end is found by walking its own bytes, never by adding up the lengths
// of the words before it.
func advance(p Pos, text string) Pos {
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			p.Line++
			p.Column = 1
		} else {
			p.Column++
		}
	}
	p.Offset += len(text)
	return p
}

func tok(at lexer.Position, text string) Word {
	pos := Pos(at)
	return Word{span: span{pos, advance(pos, text)}, Text: text}
}

func optTok(pos *lexer.Position, text string) *Word {
	if pos == nil {
		return nil
	}
	w := tok(*pos, text)
	return &w
}

func str(t gStr, bytes bool) *String {
	pos := Pos(t.Pos)
	return &String{span: span{pos, advance(pos, t.Value)}, Raw: t.Value, Bytes: bytes}
}

// lower turns the parse tree into smtprun's steps, each spanning from its
// first token to the end of its last.
func lower(g *gScript) []Step {
	steps := make([]Step, 0, len(g.Steps))
	for _, gs := range g.Steps {
		steps = append(steps, lowerStep(gs))
	}
	return steps
}

func lowerStep(gs *gStep) Step {
	switch {
	case gs.Connect != nil:
		g := gs.Connect
		c := &Connect{Kw: tok(g.Pos, g.Kw), Address: str(g.Address, false)}
		c.span = span{c.Kw.pos, c.Address.end}
		if g.TLS != nil {
			c.TLS = optTok(&g.TLS.Pos, g.TLS.Value)
			c.end = c.TLS.end
		}
		return c
	case gs.Send != nil:
		s := &Send{Kw: tok(gs.Send.Pos, gs.Send.Kw), Text: str(gs.Send.Text, false)}
		s.span = span{s.Kw.pos, s.Text.end}
		return s
	case gs.Raw != nil:
		r := &Raw{Kw: tok(gs.Raw.Pos, gs.Raw.Kw), Text: str(gs.Raw.Text, true)}
		r.span = span{r.Kw.pos, r.Text.end}
		return r
	case gs.Note != nil:
		n := &Note{Kw: tok(gs.Note.Pos, gs.Note.Kw), Text: str(gs.Note.Text, false)}
		n.span = span{n.Kw.pos, n.Text.end}
		return n
	case gs.Include != nil:
		in := &Include{Kw: tok(gs.Include.Pos, gs.Include.Kw), Path: str(gs.Include.Path, false)}
		in.span = span{in.Kw.pos, in.Path.end}
		return in
	case gs.Expect != nil:
		g := gs.Expect
		x := &Expect{Kw: tok(g.Pos, g.Kw)}
		x.span = x.Kw.span
		if g.Closed != nil {
			x.Closed = optTok(&g.Closed.Pos, g.Closed.Value)
			x.end = x.Closed.end
		}
		for _, c := range g.Codes {
			x.Codes = append(x.Codes, &Code{Word: tok(c.Pos, c.Value)})
			x.end = x.Codes[len(x.Codes)-1].end
		}
		switch {
		case g.Substring != nil:
			s := str(*g.Substring, false)
			x.Match = &Matcher{span: s.span, Substring: s}
		case g.Regex != nil:
			r := tok(g.Regex.Pos, g.Regex.Value)
			x.Match = &Matcher{span: r.span, Regex: &r}
		}
		if x.Match != nil {
			x.end = x.Match.end
		}
		return x
	case gs.StartTLS != nil:
		s := &StartTLS{Kw: tok(gs.StartTLS.Pos, gs.StartTLS.Kw)}
		s.span = s.Kw.span
		return s
	case gs.Quit != nil:
		q := &Quit{Kw: tok(gs.Quit.Pos, gs.Quit.Kw)}
		q.span = q.Kw.span
		return q
	case gs.Auth != nil:
		g := gs.Auth
		a := &Auth{Kw: tok(g.Pos, g.Kw), Mechanism: tok(g.Mechanism.Pos, g.Mechanism.Value),
			User: str(g.User, false), Secret: str(g.Secret, false)}
		a.span = span{a.Kw.pos, a.Secret.end}
		return a
	case gs.Message != nil:
		g := gs.Message
		m := &Message{Kw: tok(g.Pos, g.Kw)}
		if g.Binary != nil {
			m.Binary = optTok(&g.Binary.Pos, g.Binary.Value)
		}
		if g.Inline != nil {
			pos := Pos(g.Inline.Pos)
			m.Inline = &Heredoc{span: span{pos, advance(pos, g.Inline.Value)}, Raw: g.Inline.Value}
			m.span = span{m.Kw.pos, m.Inline.end}
		} else {
			m.FileKw = optTok(&g.FileKw.Pos, g.FileKw.Value)
			m.File = str(*g.File, false)
			m.span = span{m.Kw.pos, m.File.end}
		}
		return m
	case gs.Repeat != nil:
		g := gs.Repeat
		r := &Repeat{Kw: tok(g.Pos, g.Kw), Open: tok(g.Open.Pos, g.Open.Value), Close: tok(g.Close.Pos, g.Close.Value)}
		if g.Count != nil {
			w := tok(g.Count.Pos, g.Count.Value)
			r.Count = &String{span: w.span, Raw: w.Text, Parts: []Part{{Pos: w.pos, End: w.end, Lit: w.Text}}}
		} else {
			text := "${" + g.Var.Name
			if g.Var.Default != nil {
				text += ":-" + *g.Var.Default
			}
			text += "}"
			pos := Pos(g.Var.Pos)
			end := advance(pos, text)
			r.Count = &String{span: span{pos, end}, Raw: text,
				Parts: []Part{{Pos: pos, End: end, Var: g.Var.Name, Default: g.Var.Default}}}
		}
		for _, st := range g.Steps {
			r.Steps = append(r.Steps, lowerStep(st))
		}
		r.span = span{r.Kw.pos, r.Close.end}
		return r
	default:
		g := gs.Unknown
		u := &Unknown{Word: tok(g.Word.Pos, g.Word.Value)}
		u.span = u.Word.span
		for _, t := range g.Rest {
			w := tok(t.Pos, t.Value)
			u.Rest = append(u.Rest, w)
			u.end = w.end
		}
		return u
	}
}
