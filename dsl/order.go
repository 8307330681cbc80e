package dsl

import (
	"fmt"
	"sort"
	"strings"

	"github.com/smtprun/smtprun/internal/smtp"
)

// The order check follows the conversation statically, counting the
// replies the server owes: connect owes a greeting, send and message one
// reply each, auth the reply after its exchange, and expect reads one.
// There are no branches in the language, so the count is exact, and
// forgetting an expect (or adding one too many) is caught before anything
// is sent. Lines written with send after DATA's 354 are message content
// and owe nothing until the lone "." that ends them.
//
// Counting alone says that an expect is missing, not where. Replies come
// back in order (RFC 2920 3), so each expect reads the oldest unread one;
// when an expect's codes cannot answer that command (221 answers QUIT
// only, 354 DATA only) but can answer a later one, the expect belongs to
// the later command and the earlier one is the step that lacks its reply.

// dataPhase is where a DATA transaction stands.
type dataPhase int

const (
	noData    dataPhase = iota
	dataAsked           // DATA sent, its 354 not read yet
	inContent           // 354 read: lines are message content until "."
)

// owing is a step whose reply is unread.
type owing struct {
	i    int    // index of the step
	verb string // what the reply answers: a command verb, smtp.Greeting, smtp.Message, or "" if unknown
}

// flatStep is one step of the script with the steps of repeat blocks laid
// out in line; a block's end is an entry of its own (end set).
type flatStep struct {
	st  Step
	end *Repeat // set on the entry that closes this block
}

func flatten(steps []Step) []flatStep {
	var out []flatStep
	var open []*Repeat
	Walk(&Script{Steps: steps}, func(n Node) bool {
		switch n := n.(type) {
		case nil:
			if len(open) > 0 {
				r := open[len(open)-1]
				open = open[:len(open)-1]
				out = append(out, flatStep{st: r, end: r})
			}
		case *Script:
			return true
		case *Repeat:
			out = append(out, flatStep{st: n})
			open = append(open, n)
			return true
		case Step:
			out = append(out, flatStep{st: n})
		}
		return false
	})
	return out
}

// block is the conversation's state where a repeat block starts, which
// its end must match so that every iteration starts alike.
type block struct {
	connected, tls bool
	phase          dataPhase
}

// conversation is the order check's state.
type conversation struct {
	s         *Script
	flat      []flatStep
	blocks    []block
	errs      ErrorList
	connected bool
	tls       bool
	phase     dataPhase
	owed      []owing // oldest first
	// lost is set after a raw step: nobody knows how many replies are
	// owed (the bytes may hold any number of commands), so counting stops
	// until the next connect.
	lost       bool
	lastExpect int
	// refusedBy is the expect that read DATA's reply without accepting
	// 354 (it checks a refusal), or nil: no content can follow it.
	refusedBy *Expect
}

func checkOrder(s *Script) ErrorList {
	c := &conversation{s: s, lastExpect: -1}
	c.flat = flatten(s.Steps)
	for i, f := range c.flat {
		if f.end != nil {
			c.endBlock(f.end)
		} else {
			c.step(i, f.st)
		}
	}
	c.atEnd()
	return c.errs
}

func (c *conversation) step(i int, st Step) {
	if c.lost {
		switch st.(type) {
		case *Repeat:
			c.blocks = append(c.blocks, block{c.connected, c.tls, c.phase})
			return
		case *Connect:
		case *Quit:
			c.connected = false
			return
		default:
			return
		}
	}
	switch st := st.(type) {
	case *Note, *Include:
		// narration: no effect on the conversation; an include is
		// spliced away before the order check runs
	case *Repeat:
		if len(c.owed) > 0 {
			first := c.owed[0]
			c.errs = append(c.errs, &Error{Pos: st.Pos(), Span: st.Kw.Span(), Title: "unread reply",
				Label: fmt.Sprintf("the reply to line %d (%s) has not been read", c.line(first), c.describe(first)),
				Notes: []string{"help: add `expect` before `repeat`; a block starts with every reply read, so each iteration starts alike"}})
			c.owed = c.owed[:0]
		}
		c.blocks = append(c.blocks, block{c.connected, c.tls, c.phase})
	case *Connect:
		c.connected, c.tls, c.phase, c.lost, c.refusedBy = true, st.TLS != nil, noData, false, nil
		c.owed = append(c.owed[:0], owing{i, smtp.Greeting})
	case *Send:
		c.needConn(st)
		c.send(i, st)
	case *Raw:
		c.needConn(st)
		c.lost = true
	case *Expect:
		c.needConn(st)
		c.lastExpect = i
		if st.Closed != nil {
			c.connected, c.tls, c.phase, c.owed = false, false, noData, c.owed[:0]
			return
		}
		c.expect(i, st)
	case *StartTLS:
		c.needConn(st)
		c.needNothingOwed(st)
		if c.tls {
			c.errs = append(c.errs, &Error{Pos: st.Pos(), Span: st.Kw.Span(), Title: "already encrypted",
				Label: "the connection already uses TLS", Notes: []string{"help: RFC 3207 allows one TLS negotiation per connection; remove this line, or connect without `tls`"}})
		}
		c.tls = true
	case *Auth:
		c.needConn(st)
		c.needNothingOwed(st)
		c.owed = append(c.owed, owing{i, smtp.CmdAUTH})
	case *Message:
		c.needConn(st)
		c.message(i, st)
	case *Quit:
		c.needConn(st)
		c.needNothingOwed(st)
		c.connected, c.tls, c.phase = false, false, noData
	case *Unknown:
	}
}

func (c *conversation) send(i int, st *Send) {
	text, static := st.Text.Static()
	if c.phase == inContent && static && text != "." {
		return // message content written by hand: no reply
	}
	verb := ""
	if static {
		verb, _, _ = strings.Cut(strings.TrimSpace(text), " ")
		verb = strings.ToUpper(verb)
	}
	if c.phase == inContent {
		verb = smtp.Message // the final dot
	}
	c.refusedBy = nil
	c.owed = append(c.owed, owing{i, verb})
	if verb == smtp.CmdDATA {
		c.phase = dataAsked
	} else {
		c.phase = noData
	}
}

func (c *conversation) expect(i int, x *Expect) {
	if len(c.owed) == 0 {
		if c.connected {
			c.errs = append(c.errs, &Error{Pos: x.Pos(), Span: x.Kw.Span(), Title: "nothing to expect",
				Label: "every reply the server owes has already been read",
				Notes: []string{"help: each connect, send, message and auth is answered by exactly one reply; remove this expect or add the command it checks"}})
		}
		return
	}
	read := 0
	if !canAnswer(x, c.owed[0].verb) {
		for k := 1; k < len(c.owed); k++ {
			if canAnswer(x, c.owed[k].verb) {
				c.errs = append(c.errs, c.skipped(c.owed[0], x, c.owed[k]))
				read = k
				break
			}
		}
	}
	o := c.owed[read]
	c.owed = c.owed[read+1:]
	if o.verb == smtp.CmdDATA && c.phase == dataAsked {
		if canAnswer(x, "354") {
			c.phase = inContent
		} else {
			c.phase, c.refusedBy = noData, x // DATA refused: no content follows
		}
	}
}

func (c *conversation) message(i int, m *Message) {
	switch {
	case m.Binary != nil && c.phase == inContent:
		c.errs = append(c.errs, &Error{Pos: m.Pos(), Span: m.Kw.Span(), Title: "binary message after DATA",
			Label: "message binary is sent with BDAT, which replaces DATA",
			Notes: []string{"help: remove send \"DATA\" and its expect 354; announce the body with MAIL FROM:<...> BODY=BINARYMIME"}})
	case m.Binary == nil && c.phase == dataAsked:
		// DATA was sent but an expect is missing before its 354 is read.
		first := c.owed[0]
		e := &Error{Pos: m.Pos(), Span: m.Kw.Span(), Title: "unread reply",
			Label: fmt.Sprintf("the reply to line %d (%s) has not been read", c.line(first), c.describe(first))}
		e.Notes = []string{fmt.Sprintf("help: add an expect after line %d; message content goes after the 354 to DATA", c.line(first))}
		c.errs = append(c.errs, e)
		for len(c.owed) > 0 && c.owed[0].verb != smtp.CmdDATA {
			c.owed = c.owed[1:]
		}
		if len(c.owed) > 0 {
			c.owed = c.owed[1:]
		}
	case m.Binary == nil && c.refusedBy != nil:
		c.errs = append(c.errs, &Error{Pos: m.Pos(), Span: m.Kw.Span(), Title: "message after a refused DATA",
			Label: fmt.Sprintf("the expect on line %d does not accept 354, so the server takes no content", c.refusedBy.Pos().Line),
			Notes: []string{"help: expect 354 after send \"DATA\" to send a message; expect 4xx|5xx there only to check a refusal, and send no message then"}})
	case m.Binary == nil && c.phase != inContent:
		c.errs = append(c.errs, &Error{Pos: m.Pos(), Span: m.Kw.Span(), Title: "message outside DATA",
			Label: "message content is sent after the server's 354 to DATA",
			Notes: []string{"help: precede it with:  send \"DATA\"  and  expect 354"}})
	}
	c.phase, c.refusedBy = noData, nil
	c.owed = append(c.owed, owing{i, smtp.Message})
}

// endBlock checks that a repeat block ends as it started: with no reply
// unread and the connection in the same state, or the next iteration
// would read the wrong replies, or send commands on no connection.
func (c *conversation) endBlock(r *Repeat) {
	b := c.blocks[len(c.blocks)-1]
	c.blocks = c.blocks[:len(c.blocks)-1]
	if c.lost {
		return
	}
	if len(c.owed) > 0 {
		first := c.owed[0]
		c.errs = append(c.errs, &Error{Pos: r.Close.Pos(), Span: r.Close.Span(), Title: "unread reply in repeat",
			Label: fmt.Sprintf("the block ends with the reply to line %d (%s) unread", c.line(first), c.describe(first)),
			Notes: []string{"help: each iteration must read the replies to its own commands; add an expect before }"}})
		c.owed = c.owed[:0]
	}
	switch {
	case c.connected != b.connected:
		state := map[bool]string{true: "connected", false: "without a connection"}
		c.errs = append(c.errs, &Error{Pos: r.Close.Pos(), Span: r.Close.Span(), Title: "repeat changes the connection",
			Label: fmt.Sprintf("the block starts %s and ends %s, so the next iteration would not start as the first did", state[b.connected], state[c.connected]),
			Notes: []string{"help: a block that connects must quit (or expect closed) before }; one that starts connected must stay connected"}})
	case c.tls != b.tls:
		c.errs = append(c.errs, &Error{Pos: r.Close.Pos(), Span: r.Close.Span(), Title: "repeat changes the connection",
			Label: "the block starts TLS on a connection it did not open, so the next iteration would start TLS twice",
			Notes: []string{"help: put starttls before the repeat, or connect and quit inside the block"}})
	case (c.phase == inContent) != (b.phase == inContent):
		where := map[bool]string{true: "inside DATA (after its 354)", false: "outside DATA"}
		c.errs = append(c.errs, &Error{Pos: r.Close.Pos(), Span: r.Close.Span(), Title: "repeat changes the transaction",
			Label: fmt.Sprintf("the block starts %s and ends %s, so the next iteration would not start as the first did", where[b.phase == inContent], where[c.phase == inContent]),
			Notes: []string{"help: end the block where it started: after the expect 354 that lets content follow, or after the message's reply"}})
	}
}

// atEnd reports replies still owed when the script ends, if an expect
// came after them: an expect went missing, and the last expect read the
// reply of a later step than its author thought. Commands at the very end
// with no expect after them are fine: the engine still sends them.
func (c *conversation) atEnd() {
	if c.lost || len(c.owed) == 0 || c.lastExpect < c.owed[0].i {
		return
	}
	first := c.owed[0]
	st := c.flat[first.i].st
	c.errs = append(c.errs, &Error{Pos: st.Pos(), Span: stepSpan(st), Title: "unread reply",
		Label: "no expect reads the reply to this step",
		Notes: []string{fmt.Sprintf("help: expects read replies in order, so the script ends with %s unread; add an expect after this line, or after the step that lacks one before it", plural(len(c.owed), "reply", "replies"))}})
}

// skipped is the error for an expect that reads a later step's reply
// (want) because the step before it (o) has none.
func (c *conversation) skipped(o owing, x *Expect, want owing) *Error {
	st := c.flat[o.i].st
	codes := make([]string, len(x.Codes))
	for i, cd := range x.Codes {
		codes[i] = cd.Text
	}
	return &Error{Pos: st.Pos(), Span: stepSpan(st), Title: "unread reply",
		Label: "no expect reads the reply to this step",
		Notes: []string{fmt.Sprintf("help: the `expect %s` on line %d reads this reply instead, but it answers %s (line %d); add an expect after line %d",
			strings.Join(codes, "|"), x.Pos().Line, c.describe(want), c.line(want), c.line(o))}}
}

func (c *conversation) needConn(st Step) {
	if !c.connected {
		word := keywordOf(st)
		c.errs = append(c.errs, &Error{Pos: st.Pos(), Span: word.Span(), Title: "not connected",
			Label: fmt.Sprintf("`%s` needs a connection", word.Text),
			Notes: []string{"help: start with connect \"HOST:PORT\"; after quit or a closed connection, connect again"}})
	}
}

// needNothingOwed is for the steps that read their own replies: any reply
// still unread would be taken for theirs.
func (c *conversation) needNothingOwed(st Step) {
	if len(c.owed) == 0 {
		return
	}
	first := c.owed[0]
	word := keywordOf(st)
	c.errs = append(c.errs, &Error{Pos: st.Pos(), Span: word.Span(), Title: "unread reply",
		Label: fmt.Sprintf("the reply to line %d (%s) has not been read", c.line(first), c.describe(first)),
		Notes: []string{fmt.Sprintf("help: add `expect` before `%s`; %s reads its own replies", word.Text, word.Text)}})
	c.owed = c.owed[:0]
}

func (c *conversation) line(o owing) int { return c.flat[o.i].st.Pos().Line }

func (c *conversation) describe(o owing) string { return describeStep(c.s, c.flat[o.i].st) }

// canAnswer reports whether some code the expect accepts can be the reply
// to verb (smtp.CanAnswer: 221 answers QUIT alone, 354 DATA). The verb
// "354" stands for DATA's reply once it was read: only 354 lets content
// follow.
func canAnswer(x *Expect, verb string) bool {
	if verb == "354" {
		return anyCode(x, func(code int) bool { return code == 354 })
	}
	return anyCode(x, func(code int) bool { return smtp.CanAnswer(verb, code) })
}

func anyCode(x *Expect, ok func(int) bool) bool {
	for _, cd := range x.Codes {
		p, err := smtp.ParseCodePattern(cd.Text)
		if err != nil {
			return true // reported elsewhere
		}
		for code := 200; code < 600; code++ {
			if p.Matches(code) && ok(code) {
				return true
			}
		}
	}
	return false
}

// keywordOf is the step's keyword token.
func keywordOf(st Step) Word {
	switch st := st.(type) {
	case *Connect:
		return st.Kw
	case *Send:
		return st.Kw
	case *Expect:
		return st.Kw
	case *StartTLS:
		return st.Kw
	case *Auth:
		return st.Kw
	case *Message:
		return st.Kw
	case *Quit:
		return st.Kw
	case *Raw:
		return st.Kw
	case *Note:
		return st.Kw
	case *Include:
		return st.Kw
	case *Repeat:
		return st.Kw
	case *Unknown:
		return st.Word
	}
	panic(fmt.Sprintf("dsl: unhandled step %T", st))
}

// stepSpan underlines a step on its first line.
func stepSpan(st Step) int { return span{st.Pos(), st.End()}.Span() }

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func describeStep(s *Script, st Step) string {
	line, _ := SourceLine(s.Source, st.Pos().Line)
	line = strings.TrimSpace(line)
	if i := strings.Index(line, " #"); i > 0 {
		line = strings.TrimSpace(line[:i])
	}
	if len(line) > 40 {
		line = line[:37] + "..."
	}
	return "`" + line + "`"
}

func sortErrors(errs ErrorList) {
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i].Pos, errs[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}
