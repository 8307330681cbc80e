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
// fields and a captured keyword per step were four tenths of it
// (TestGrammarBuildBudget). So a step's keyword is matched in its first
// field's tag, not captured in a field of its own, and the lowering
// takes the keyword from the node's type.
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

// A step's arguments are captured as the tokens they were read from,
// not as a node each: participle builds a parse node per struct type and
// re-lexes a struct's tags at every field boundary it peeks across, and
// every run pays for the build once. With one tagged field per step
// (repeat has three) the build takes a third of the allocations it took
// with a node per argument. Each token keeps its lexer.Position, and the
// lowering knows an argument by its token type and place.

type gConnect struct {
	Pos  lexer.Position
	Args []lexer.Token `parser:"'connect' @( (String | UnterminatedString) 'tls'? )"`
}

type gText struct {
	Pos  lexer.Position
	Args []lexer.Token `parser:"'send' @(String | UnterminatedString)"`
}

type gRaw struct {
	Pos  lexer.Position
	Args []lexer.Token `parser:"'raw' @(String | UnterminatedString)"`
}

type gNote struct {
	Pos  lexer.Position
	Args []lexer.Token `parser:"'note' @(String | UnterminatedString)"`
}

type gInclude struct {
	Pos  lexer.Position
	Args []lexer.Token `parser:"'include' @(String | UnterminatedString)"`
}

// expect closed, or codes joined by |, then a substring or a regex.
type gExpect struct {
	Pos  lexer.Position
	Args []lexer.Token `parser:"'expect' @( ( 'closed' | (Code | Ident) ( '|' (Code | Ident) )* ) ( String | UnterminatedString | Regex )? )"`
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
	Pos  lexer.Position
	Args []lexer.Token `parser:"'auth' @( (Ident | Code) (String | UnterminatedString) (String | UnterminatedString) )"`
}

type gMessage struct {
	Pos  lexer.Position
	Args []lexer.Token `parser:"'message' @( 'binary'? ( Heredoc | UnterminatedHeredoc | 'file' (String | UnterminatedString) ) )"`
}

// A repeat's count is a word or a bare ${NAME} or ${NAME:-default}, which
// the lexer splits into $ { NAME : - default }; its head ends with the {.
type gRepeat struct {
	Pos   lexer.Position
	Head  []lexer.Token `parser:"'repeat' @( ( Code | Ident | '$' '{' Ident ( ':' '-' (Code | Ident) )? '}' ) '{' ) EOL+"`
	Steps []gStep       `parser:"( @@ EOL+ )*"`
	Close lexer.Token   `parser:"@'}'"`
}

// A line that starts with a word that is no keyword, kept whole so that
// checking can suggest the step it meant.
type gUnknown struct {
	Line []lexer.Token `parser:"@( (Ident | Code) ~EOL* )"`
}

// The grammar is built on the first parse, not at start-up: building it
// is most of what the binary used to do before main (9,000 allocations),
// and `smtprun version` or `serve` never parse a script.
var parser = sync.OnceValue(func() *participle.Parser[gScript] {
	return participle.MustBuild[gScript](grammarOptions()...)
})

func grammarOptions() []participle.Option {
	return []participle.Option{
		participle.Lexer(scriptDefinition{}),
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

func word(t lexer.Token) *Word {
	w := tok(t.Pos, t.Value)
	return &w
}

func str(t lexer.Token, bytes bool) *String {
	pos := Pos(t.Pos)
	return &String{span: span{pos, advance(pos, t.Value)}, Raw: t.Value, Bytes: bytes}
}

// args drops what the lexer elides from a captured range: participle's
// range starts where the keyword ended, before the space that follows it.
func args(toks []lexer.Token) []lexer.Token {
	out := toks[:0:0]
	for _, t := range toks {
		if t.Type != tokWhitespace && t.Type != tokComment {
			out = append(out, t)
		}
	}
	return out
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

// lowerStep reads a step's arguments by their place and token type; the
// grammar has already held them to its rule, so each is where it says.
func lowerStep(gs gStep) Step {
	kw := func(at lexer.Position) Word { return tok(at, gs.keyword()) }
	switch g := gs.(type) {
	case *gConnect:
		a := args(g.Args)
		c := &Connect{Kw: kw(g.Pos), Address: str(a[0], false)}
		c.span = span{c.Kw.pos, c.Address.end}
		if len(a) > 1 {
			c.TLS = word(a[1])
			c.end = c.TLS.end
		}
		return c
	case *gText:
		s := &Send{Kw: kw(g.Pos), Text: str(args(g.Args)[0], false)}
		s.span = span{s.Kw.pos, s.Text.end}
		return s
	case *gRaw:
		r := &Raw{Kw: kw(g.Pos), Text: str(args(g.Args)[0], true)}
		r.span = span{r.Kw.pos, r.Text.end}
		return r
	case *gNote:
		n := &Note{Kw: kw(g.Pos), Text: str(args(g.Args)[0], false)}
		n.span = span{n.Kw.pos, n.Text.end}
		return n
	case *gInclude:
		in := &Include{Kw: kw(g.Pos), Path: str(args(g.Args)[0], false)}
		in.span = span{in.Kw.pos, in.Path.end}
		return in
	case *gExpect:
		x := &Expect{Kw: kw(g.Pos)}
		x.span = x.Kw.span
		for i, t := range args(g.Args) {
			switch {
			case t.Type == tokPipe:
				continue
			case t.Type == tokString || t.Type == tokUnterminatedString:
				s := str(t, false)
				x.Match = &Matcher{span: s.span, Substring: s}
			case t.Type == tokRegex:
				r := word(t)
				x.Match = &Matcher{span: r.span, Regex: r}
			case i == 0 && t.Value == "closed":
				x.Closed = word(t)
			default:
				x.Codes = append(x.Codes, &Code{Word: *word(t)})
			}
			x.end = advance(Pos(t.Pos), t.Value)
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
		a := args(g.Args)
		au := &Auth{Kw: kw(g.Pos), Mechanism: *word(a[0]), User: str(a[1], false), Secret: str(a[2], false)}
		au.span = span{au.Kw.pos, au.Secret.end}
		return au
	case *gMessage:
		m := &Message{Kw: kw(g.Pos)}
		a := args(g.Args)
		if a[0].Type == tokIdent && a[0].Value == "binary" {
			m.Binary = word(a[0])
			a = a[1:]
		}
		if a[0].Type == tokHeredoc || a[0].Type == tokUnterminatedHeredoc {
			pos := Pos(a[0].Pos)
			m.Inline = &Heredoc{span: span{pos, advance(pos, a[0].Value)}, Raw: a[0].Value}
			m.span = span{m.Kw.pos, m.Inline.end}
		} else {
			m.FileKw = word(a[0])
			m.File = str(a[1], false)
			m.span = span{m.Kw.pos, m.File.end}
		}
		return m
	case *gRepeat:
		head := args(g.Head)
		open := head[len(head)-1]
		r := &Repeat{Kw: kw(g.Pos), Open: *word(open), Close: *word(g.Close)}
		if count := head[0]; count.Type == tokCode || count.Type == tokIdent {
			w := word(count)
			r.Count = &String{span: w.span, Raw: w.Text, Parts: []Part{{Pos: w.pos, End: w.end, Lit: w.Text}}}
		} else {
			// $ { NAME } {  or  $ { NAME : - default } {
			name := head[2].Value
			var def *string
			text := "${" + name
			if head[3].Value == ":" {
				def = &head[5].Value
				text += ":-" + *def
			}
			text += "}"
			pos := Pos(count.Pos)
			end := advance(pos, text)
			r.Count = &String{span: span{pos, end}, Raw: text,
				Parts: []Part{{Pos: pos, End: end, Var: name, Default: def}}}
		}
		for _, st := range g.Steps {
			r.Steps = append(r.Steps, lowerStep(st))
		}
		r.span = span{r.Kw.pos, r.Close.end}
		return r
	case *gUnknown:
		line := args(g.Line)
		u := &Unknown{Word: *word(line[0])}
		u.span = u.Word.span
		for _, t := range line[1:] {
			w := word(t)
			u.Rest = append(u.Rest, *w)
			u.end = w.end
		}
		return u
	}
	panic(fmt.Sprintf("dsl: no lowering for %T", gs))
}
