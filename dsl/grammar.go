package dsl

import (
	"fmt"
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
	Steps []gStep `parser:"EOL* ( @@ ( EOL+ | EOF ) )*"`
}

// gStep is a union rather than a struct with a field per step: while
// building, participle re-lexes a struct's tags at every field boundary
// it peeks across, and every run pays for the build once. Twelve `| @@`
// fields and a captured keyword per step were four tenths of it (3,265
// allocations, now 2,062; TestGrammarBuildBudget). So a step's keyword
// is matched in its first field's tag, not captured in a field of its
// own, and the lowering takes the keyword from the node's type.
type gStep interface{ keyword() string }

// stepTypes are the union's members, tried in this order.
func stepTypes() []gStep {
	return []gStep{&gConnect{}, &gText{}, &gExpect{}, &gStartTLS{}, &gAuth{}, &gMessage{},
		&gQuit{}, &gRaw{}, &gNote{}, &gInclude{}, &gRepeat{}, &gUnknown{}}
}

func (*gConnect) keyword() string  { return "connect" }
func (*gText) keyword() string     { return "send" }
func (*gExpect) keyword() string   { return "expect" }
func (*gStartTLS) keyword() string { return "starttls" }
func (*gAuth) keyword() string     { return "auth" }
func (*gMessage) keyword() string  { return "message" }
func (*gQuit) keyword() string     { return "quit" }
func (*gRaw) keyword() string      { return "raw" }
func (*gNote) keyword() string     { return "note" }
func (*gInclude) keyword() string  { return "include" }
func (*gRepeat) keyword() string   { return "repeat" }
func (*gUnknown) keyword() string  { return "" }

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
	Address gStr  `parser:"'connect' @@"`
	TLS     *gTLS `parser:"@@?"`
}

type gText struct {
	Pos  lexer.Position
	Text gStr `parser:"'send' @@"`
}

type gRaw struct {
	Pos  lexer.Position
	Text gStr `parser:"'raw' @@"`
}

type gNote struct {
	Pos  lexer.Position
	Text gStr `parser:"'note' @@"`
}

type gInclude struct {
	Pos  lexer.Position
	Path gStr `parser:"'include' @@"`
}

type gExpect struct {
	Pos       lexer.Position
	Closed    *gClosed `parser:"'expect' ( @@"`
	Codes     []*gName `parser:"| @@ ( '|' @@ )* )"`
	Substring *gStr    `parser:"( @@"`
	Regex     *gRegex  `parser:"| @@ )?"`
}

// A step with no arguments is its keyword alone: participle needs a
// tagged field to hold its grammar, and this one keeps the keyword as read
// (the lowering, as for every step, takes it from keyword()).
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
	Mechanism gName `parser:"'auth' @@"`
	User      gStr  `parser:"@@"`
	Secret    gStr  `parser:"@@"`
}

type gMessage struct {
	Pos    lexer.Position
	Binary *gBinary  `parser:"'message' @@?"`
	Inline *gHeredoc `parser:"( @@"`
	FileKw *gFile    `parser:"| @@"`
	File   *gStr     `parser:"  @@ )"`
}

type gRepeat struct {
	Pos   lexer.Position
	Count *gName   `parser:"'repeat' ( @@"`
	Var   *gVarRef `parser:"| @@ )"`
	Open  gOpen    `parser:"@@ EOL+"`
	Steps []gStep  `parser:"( @@ EOL+ )*"`
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
		participle.Union[gStep](stepTypes()...),
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

func lowerStep(gs gStep) Step {
	kw := func(at lexer.Position) Word { return tok(at, gs.keyword()) }
	switch g := gs.(type) {
	case *gConnect:
		c := &Connect{Kw: kw(g.Pos), Address: str(g.Address, false)}
		c.span = span{c.Kw.pos, c.Address.end}
		if g.TLS != nil {
			c.TLS = optTok(&g.TLS.Pos, g.TLS.Value)
			c.end = c.TLS.end
		}
		return c
	case *gText:
		s := &Send{Kw: kw(g.Pos), Text: str(g.Text, false)}
		s.span = span{s.Kw.pos, s.Text.end}
		return s
	case *gRaw:
		r := &Raw{Kw: kw(g.Pos), Text: str(g.Text, true)}
		r.span = span{r.Kw.pos, r.Text.end}
		return r
	case *gNote:
		n := &Note{Kw: kw(g.Pos), Text: str(g.Text, false)}
		n.span = span{n.Kw.pos, n.Text.end}
		return n
	case *gInclude:
		in := &Include{Kw: kw(g.Pos), Path: str(g.Path, false)}
		in.span = span{in.Kw.pos, in.Path.end}
		return in
	case *gExpect:
		x := &Expect{Kw: kw(g.Pos)}
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
	case *gStartTLS:
		s := &StartTLS{Kw: kw(g.Pos)}
		s.span = s.Kw.span
		return s
	case *gQuit:
		q := &Quit{Kw: kw(g.Pos)}
		q.span = q.Kw.span
		return q
	case *gAuth:
		a := &Auth{Kw: kw(g.Pos), Mechanism: tok(g.Mechanism.Pos, g.Mechanism.Value),
			User: str(g.User, false), Secret: str(g.Secret, false)}
		a.span = span{a.Kw.pos, a.Secret.end}
		return a
	case *gMessage:
		m := &Message{Kw: kw(g.Pos)}
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
	case *gRepeat:
		r := &Repeat{Kw: kw(g.Pos), Open: tok(g.Open.Pos, g.Open.Value), Close: tok(g.Close.Pos, g.Close.Value)}
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
	case *gUnknown:
		u := &Unknown{Word: tok(g.Word.Pos, g.Word.Value)}
		u.span = u.Word.span
		for _, t := range g.Rest {
			w := tok(t.Pos, t.Value)
			u.Rest = append(u.Rest, w)
			u.end = w.end
		}
		return u
	}
	panic(fmt.Sprintf("dsl: no lowering for %T", gs))
}
