package engine

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/internal/smtp"
)

// Result summarises a run: how far it got, each step's outcome with its
// times, and how to mask its secrets.
type Result struct {
	Steps    int           // steps executed
	Replies  int           // replies read
	Messages int           // message contents sent
	Duration time.Duration // wall time of a run that completed

	// Outcomes has one entry per step that started, in order; the last
	// is the failed one when Run returns an error from a step.
	Outcomes []StepOutcome

	// Redact masks the run's secrets in any text, such as the script
	// source a report quotes. It is set even when Run fails.
	Redact func(string) string
}

// StepOutcome is what one step did and how long it took.
type StepOutcome struct {
	Index    int    // in the script's steps, from 0
	Line     int    // in the script
	Kind     string // "connect", "send", "expect", ...
	OK       bool
	Start    time.Time
	Duration time.Duration
	// Replies are the replies the step read, masked, with their times.
	Replies []TimedReply
}

// TimedReply is a reply and when it came.
type TimedReply struct {
	Reply *Reply
	ReplyTiming
}

// pending is a command whose reply is still to come.
type pending struct {
	line string    // the command, or smtp.Greeting / smtp.Message
	sent time.Time // when it went out on the wire; zero while buffered
}

// session is the state of one Run: the connection and what was learned on it.
type session struct {
	e    *Engine
	prog *dsl.Program
	// captured holds the values named regex groups captured so far.
	captured dsl.MapVars
	red      redactor
	res      Result
	step     int // index of the step running, for events
	// builtins are ${ITERATION} and ${REPEAT}, ahead of the user's variables.
	builtins *builtins
	// steps is the run's step budget as repeat counts become known (see
	// repeat.go).
	steps stepBudget

	mu   sync.Mutex // guards conn and goodbye against the interrupt goroutine
	conn net.Conn
	// goodbye is set when quitOnInterrupt takes over the connection:
	// from then on its grace deadline stands, and an interrupt that
	// arrives late (a --step pause sees the cancellation before the
	// interrupt goroutine runs) must not cut the wait for the 221 short.
	goodbye bool
	// interrupted is set by the interrupt goroutine; every wait checks it
	// after setting its own deadline (see deadlineWriter).
	interrupted atomic.Bool
	// arrived and its first marks live in the session: load mode opens
	// thousands of connections a second.
	arrived arrivals
	marks   [8]mark
	r       *bufio.Reader
	w       *bufio.Writer

	host string // for TLS verification
	port string // as the script names it, whatever --connect-to made of it
	tls  bool
	// lastFlush is when commands last went out: the reference for a reply
	// to raw bytes, whose command nobody can tell.
	lastFlush time.Time
	// held is a reply read by auth that the next expect checks.
	held *Reply
	// heldOAuth is the OAuth error challenge that came before held.
	heldOAuth *OAuthError
	// inData is set between a 354 reply and the next reply: the server
	// takes every line as message content.
	inData bool
	// dataSent is set from the moment DATA or BDAT goes out until the
	// server has answered it (with anything but 354) or has given its
	// verdict on the content: meanwhile a QUIT could be read as message
	// text.
	dataSent bool
	// tlsBegun is set once a TLS handshake has started on the connection:
	// from then on no plaintext is written on it, whatever happens.
	tlsBegun bool
	// asked lists the commands whose replies are still to come, oldest
	// first, so a reply can be matched to its command (RFC 2920 keeps them
	// in order); nil after raw bytes, when nobody can tell.
	asked []pending
	// caps are the extensions the last EHLO reply announced (upper-case
	// keyword -> parameters); TLS clears them (RFC 3207 4.2).
	caps smtp.Capabilities
	// pipeliningNoted: the Notice that this script pipelines to a server
	// that did not announce PIPELINING has been given (once a connection).
	pipeliningNoted bool
}

// Run executes a checked program (see dsl.Check). It returns at the first failure
// with one of the typed errors in the package doc, ErrStopped when a
// WithBeforeStep function stopped it, or ctx.Err() when ctx is cancelled;
// in the last two cases it says QUIT first where the connection allows.
// Secrets are masked in the Result and the error. Programs are immutable,
// so one may be run by many goroutines at once.
func (e *Engine) Run(ctx context.Context, p *dsl.Program) (Result, error) {
	// Captures are this run's own: they layer over a copy of the
	// engine's variables, so neither the Engine nor the Program is written
	// and concurrent runs never see each other's values.
	run := *e
	captured := dsl.MapVars{}
	run.vars = dsl.Chain{captured, e.vars}
	ss := &session{e: &run, prog: p, captured: captured, steps: stepBudget{planned: p.ExpandedSteps()}}
	ss.withBuiltins(ctx)
	ss.res.Redact = ss.red.maskString
	err := ss.run(ctx)
	ss.release()
	// The one way out: whatever the run returns is masked here.
	for i := range ss.res.Outcomes {
		for j, r := range ss.res.Outcomes[i].Replies {
			ss.res.Outcomes[i].Replies[j].Reply, _ = ss.red.maskReply(r.Reply)
		}
	}
	return ss.res, ss.red.maskErr(err)
}

func (ss *session) run(ctx context.Context) error {
	start := time.Now()
	p := ss.prog
	if err := ss.collectSecrets(); err != nil {
		return err
	}
	if ss.red.short {
		ss.emit(Notice{Step: 0, Code: NoticeShortSecret})
	}
	stop := context.AfterFunc(ctx, ss.interrupt)
	defer stop()
	defer ss.close(false)
	for i, st := range p.Steps() {
		ss.step = i
		if err := ss.runStep(ctx, st); err != nil {
			return err
		}
	}
	if ss.conn != nil && ss.w.Buffered() > 0 {
		// Commands at the end of a script with no expect still go out.
		if err := ss.flush(p.Step(p.Len()-1).Pos(), 0); err != nil {
			return err
		}
	}
	ss.res.Duration = time.Since(start)
	return nil
}

// runStep runs one step with its events and outcome; a repeat block runs
// its steps through here too.
func (ss *session) runStep(ctx context.Context, st dsl.Step) error {
	p, e, i := ss.prog, ss.e, ss.step
	if err := ctx.Err(); err != nil {
		return err
	}
	if e.lean {
		return ss.runLean(ctx, st)
	}
	started := StepStarted{Step: i, Pos: st.Pos(), Kind: st.Keyword(), Source: stepLine(p, st)}
	if e.beforeStep != nil {
		if err := ss.pause(ctx, started); err != nil {
			if errors.Is(err, ErrStopped) || ctx.Err() != nil {
				ss.quitOnInterrupt()
			}
			return err
		}
	}
	ss.emit(started)
	if _, block := st.(*dsl.Repeat); block {
		// The block's own steps have their outcomes.
		return ss.repeat(ctx, st.(*dsl.Repeat))
	}
	ss.res.Outcomes = append(ss.res.Outcomes, StepOutcome{Index: i, Line: st.Pos().Line, Kind: started.Kind, Start: time.Now()})
	err := ss.exec(ctx, st)
	out := &ss.res.Outcomes[len(ss.res.Outcomes)-1]
	out.Duration, out.OK = time.Since(out.Start), err == nil
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			ss.quitOnInterrupt()
			return ctxErr
		}
		return err
	}
	ss.res.Steps++
	return nil
}

func stepLine(p *dsl.Program, st dsl.Step) string {
	line, _ := dsl.SourceLine(p.SourceOf(st.Pos().Filename), st.Pos().Line)
	return strings.TrimSpace(line)
}

// collectSecrets expands every auth secret before anything runs, so a
// secret is masked even where it appears before its auth step (a
// hand-written AUTH LOGIN, an echo in a reply).
func (ss *session) collectSecrets() error {
	var err error
	dsl.Walk(ss.prog.Script(), func(n dsl.Node) bool {
		a, ok := n.(*dsl.Auth)
		if !ok || err != nil {
			return err == nil
		}
		var v string
		if v, err = a.Secret.Expand(ss.e.vars); err != nil {
			return false
		}
		ss.red.add(v)
		for _, p := range a.Secret.Variables() {
			if val, ok := ss.e.vars.Lookup(p.Var); ok {
				ss.red.add(val)
			}
		}
		return false
	})
	return err
}

// emit is the one exit for events: each is masked on its way out.
func (ss *session) emit(ev Event) {
	ss.e.observer.Event(ev.redact(&ss.red))
}

func (ss *session) exec(ctx context.Context, st dsl.Step) error {
	switch st := st.(type) {
	case *dsl.Connect:
		return ss.connect(ctx, st)
	case *dsl.Send:
		return ss.send(st)
	case *dsl.Expect:
		return ss.expect(st)
	case *dsl.StartTLS:
		return ss.startTLS(ctx, st)
	case *dsl.Auth:
		return ss.auth(st)
	case *dsl.Message:
		return ss.message(ctx, st)
	case *dsl.Quit:
		return ss.quit(st)
	case *dsl.Raw:
		return ss.raw(st)
	case *dsl.Repeat:
		return ss.repeat(ctx, st)
	case *dsl.Note:
		text, err := st.Text.Expand(ss.e.vars)
		if err != nil {
			return err
		}
		ss.emit(Narration{Step: ss.step, Text: text})
		return nil
	}
	return &dsl.Error{Pos: st.Pos(), Title: "unknown step", Label: "run `smtprun check` for details"}
}

// quitGrace bounds the polite goodbye after an interrupt.
const quitGrace = time.Second

// quitOnInterrupt says QUIT (RFC 5321 4.1.1.10) on a connection that is
// still usable when the run is interrupted, so the server does not log an
// aborted session; it waits briefly for the 221 and then closes anyway.
// Mid-DATA nothing more is sent: a QUIT there would become message text;
// and that holds from when DATA is sent, not when 354 is read. Nor is a
// plaintext QUIT written on a connection whose TLS handshake has begun.
func (ss *session) quitOnInterrupt() {
	if ss.conn == nil || ss.inData || ss.dataSent || ss.tlsBegun && !ss.tls {
		ss.close(false)
		return
	}
	ss.mu.Lock()
	ss.goodbye = true
	ss.mu.Unlock()
	ss.conn.SetDeadline(time.Now().Add(quitGrace))
	ss.w.Reset(ss.conn) // drop anything unsent
	// The replies owed to what went out before (the greeting, pipelined
	// commands) are each read as the answer to its own line, so QUIT's
	// reply is the 221 and not an unread 220 greeting: those that have
	// arrived (a --step pause reads ahead) before QUIT is shown, the
	// others after it, and QUIT goes out even if they never come.
	var owed []pending
	for _, p := range ss.asked {
		if !p.sent.IsZero() || p.line == smtp.Greeting {
			owed = append(owed, p)
		}
	}
	ss.asked = owed
	read := func() bool {
		rep, answers, timing, err := ss.readTimed()
		if err == nil {
			ss.emit(Received{Step: ss.step, Reply: rep, TLS: ss.tls, Answers: answers, ReplyTiming: timing})
		}
		return err == nil
	}
	for len(ss.asked) > 0 && ss.r.Buffered() > 0 && read() {
	}
	ss.w.WriteString("QUIT\r\n")
	if ss.w.Flush() == nil {
		sent := time.Now()
		ss.emit(Sent{Step: ss.step, Line: "QUIT", TLS: ss.tls, Role: RoleQuitOnInterrupt, At: sent})
		ss.asked = append(ss.asked, pending{line: "QUIT", sent: sent})
		ss.lastFlush = sent
		for len(ss.asked) > 0 && read() {
		}
	}
	ss.close(false)
}

// interrupt makes every blocked read or write return at once.
func (ss *session) interrupt() {
	ss.interrupted.Store(true)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.conn != nil && !ss.goodbye {
		ss.conn.SetDeadline(time.Unix(1, 0))
	}
}

func (ss *session) close(byServer bool) {
	ss.mu.Lock()
	c := ss.conn
	ss.conn = nil
	ss.mu.Unlock()
	if c != nil {
		c.Close()
		ss.emit(Closed{Step: ss.step, ByServer: byServer})
	}
	ss.held = nil
	ss.tls, ss.tlsBegun = false, false
	ss.inData, ss.dataSent = false, false
	ss.asked, ss.caps, ss.pipeliningNoted = nil, nil, false
}

func (ss *session) setConn(c net.Conn) {
	ss.mu.Lock()
	ss.conn = c
	ss.mu.Unlock()
	ss.arrived = arrivals{r: c, marks: ss.marks[:0]}
	if ss.r == nil {
		ss.r, ss.w = readers.Get().(*bufio.Reader), writers.Get().(*bufio.Writer)
	}
	// Reset drops what was buffered, as new buffers would: after STARTTLS
	// nothing read or written in plaintext may be taken for TLS.
	ss.r.Reset(&ss.arrived)
	ss.w.Reset(deadlineWriter{ss})
}

// The buffers of a connection are kept between runs (see release): a
// load run opens thousands of connections a second.
var (
	readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
	writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}
)

// release returns the session's buffers once the run is over.
func (ss *session) release() {
	if ss.r != nil {
		ss.r.Reset(nil)
		ss.w.Reset(nil)
		readers.Put(ss.r)
		writers.Put(ss.w)
		ss.r, ss.w = nil, nil
	}
}

// needConn reports a step that needs a connection when there is none.
func (ss *session) needConn(kw dsl.Word) error {
	if ss.conn != nil {
		return nil
	}
	return &NetError{Pos: kw.Pos(), Span: kw.Span(), Op: kw.Text, Err: ErrNotConnected}
}

func (ss *session) send(s *dsl.Send) error {
	line, err := s.Text.Expand(ss.e.vars)
	if err != nil {
		return err
	}
	if i := strings.IndexAny(line, "\r\n"); i >= 0 {
		return &InputError{Code: InputLineBreak, Diag: &dsl.Error{Pos: s.Text.Pos(), Span: s.Text.Span(), Title: "line break in a command",
			Label: "after interpolation the text contains CR or LF; nothing was sent"}}
	}
	if err := ss.needConn(s.Kw); err != nil {
		return err
	}
	if err := ss.plaintextPolicy(s.Text.Pos(), s.Text.Span(), line); err != nil {
		return err
	}
	return ss.writeLine(s.Pos(), line, Sent{})
}

// plaintextPolicy refuses to write text holding a known secret, in any
// form the redactor knows (as is, base64, hex), on an unencrypted
// connection to a peer that is not loopback: the rule auth keeps, kept
// for a hand-written AUTH in send or raw too.
func (ss *session) plaintextPolicy(pos dsl.Pos, span int, text string) error {
	if ss.tls || ss.e.plaintextAuth || isLoopback(ss.conn.RemoteAddr()) {
		return nil
	}
	if _, secret := ss.red.mask(text); !secret {
		return nil
	}
	return &PolicyError{Pos: pos, Span: span, Rule: RulePlaintextAuth,
		Msg: fmt.Sprintf("will not send a secret unencrypted to %s: this text holds one; nothing was sent", ss.host)}
}

// writeLine buffers one command line; it goes out at the next flush, which
// is what lets a script pipeline several commands (RFC 2920). ev says what
// the line is (its role); writeLine fills in the rest.
func (ss *session) writeLine(pos dsl.Pos, line string, ev Sent) error {
	if ss.tlsBegun && !ss.tls {
		return &NetError{Pos: pos, Span: 4, Op: "write", Err: errTLSIncomplete}
	}
	if verb, _, _ := strings.Cut(line, " "); !ss.inData && (strings.EqualFold(verb, "DATA") || strings.EqualFold(verb, "BDAT")) {
		ss.dataSent = true
	}
	switch {
	case !ss.inData:
		if len(ss.asked) > 0 && !ss.pipeliningNoted && !ss.caps.Has("PIPELINING") {
			// A reply is still owed, and nothing said the server takes
			// commands before it answers (RFC 2920 3.1): many do, some
			// drop or misread the extra ones.
			ss.pipeliningNoted = true
			ss.emit(Notice{Step: ss.step, Code: NoticePipeliningUnannounced})
		}
		ss.asked = append(ss.asked, pending{line: line})
	case line == ".":
		// Content written by hand after 354: only the final dot is answered.
		ss.asked = append(ss.asked, pending{line: smtp.Message})
		defer func() { ss.inData = false }() // what follows is a command
	}
	ss.w.WriteString(line)
	ss.w.WriteString("\r\n")
	if !ss.e.lean {
		ev.Step, ev.Line, ev.TLS, ev.At = ss.step, line, ss.tls, time.Now()
		ss.emit(ev)
	}
	if ss.w.Buffered() >= ss.w.Size()/2 {
		return ss.flush(pos, 4)
	}
	return nil
}

func (ss *session) flush(pos dsl.Pos, span int) error {
	if ss.w.Buffered() == 0 {
		return nil
	}
	if err := ss.w.Flush(); err != nil {
		return ss.ioError(pos, span, "write", err)
	}
	ss.markSent()
	return nil
}

// markSent notes that everything buffered is now on the wire: the time
// each reply is measured from.
func (ss *session) markSent() {
	now := time.Now()
	ss.lastFlush = now
	for i := range ss.asked {
		if ss.asked[i].sent.IsZero() {
			ss.asked[i].sent = now
		}
	}
}

// readReply flushes pending commands and reads one reply within the timeout.
func (ss *session) readReply(pos dsl.Pos, span int) (*Reply, error) {
	if err := ss.flush(pos, span); err != nil {
		return nil, err
	}
	ss.setReadDeadline(time.Now().Add(ss.e.timeout))
	rep, answers, timing, err := ss.readTimed()
	if err != nil {
		var re *smtp.ReplyError
		if errors.As(err, &re) {
			return nil, &ProtocolError{Pos: pos, Span: span, Msg: re.Msg, Detail: re.Detail}
		}
		return nil, ss.ioError(pos, span, "reply", err)
	}
	if verb, _, _ := strings.Cut(answers, " "); strings.EqualFold(verb, "EHLO") && rep.Code == 250 {
		ss.caps = smtp.ParseCapabilities(rep.Text)
	}
	// After 354 the server reads everything as message text until the
	// final dot, and answers again only then.
	ss.inData = rep.Code == 354
	if verb, _, _ := strings.Cut(answers, " "); answers == smtp.Message ||
		rep.Code != 354 && (strings.EqualFold(verb, "DATA") || strings.EqualFold(verb, "BDAT")) {
		ss.dataSent = false
	}
	ss.res.Replies++
	if ss.e.lean {
		ss.emitReplyTime(ReplyTime{Step: ss.step, Verb: verbOf(answers), Code: rep.Code, Took: timing.Elapsed()})
		return rep, nil
	}
	out := &ss.res.Outcomes[len(ss.res.Outcomes)-1]
	out.Replies = append(out.Replies, TimedReply{Reply: rep, ReplyTiming: timing})
	ss.emit(Received{Step: ss.step, Reply: rep, TLS: ss.tls, Answers: answers, ReplyTiming: timing})
	return rep, nil
}

// readTimed reads one reply and says which command it answers ("" when
// nobody can tell) and when it came: when its first and last bytes were
// read off the connection, and when that command went out. The command
// leaves the queue of awaited replies.
func (ss *session) readTimed() (rep *Reply, answers string, t ReplyTiming, err error) {
	start := ss.consumed()
	if rep, err = smtp.ReadReply(ss.r); err != nil {
		return nil, "", t, err
	}
	t.First, t.Last = ss.arrived.at(start), ss.arrived.at(ss.consumed()-1)
	t.Asked = ss.lastFlush
	if len(ss.asked) > 0 {
		answers, t.Asked, ss.asked = ss.asked[0].line, ss.asked[0].sent, ss.asked[1:]
	}
	return rep, answers, t, nil
}

// consumed is the offset of the next byte the reply parser will read.
func (ss *session) consumed() int64 { return ss.arrived.total - int64(ss.r.Buffered()) }

// ioError names what failed: a timeout, the server closing, or another
// network error.
func (ss *session) ioError(pos dsl.Pos, span int, op string, err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
		te := &TimeoutError{Pos: pos, Span: span, Op: op, After: ss.e.timeout}
		if !ss.tls && len(ss.asked) > 0 && ss.asked[0].line == smtp.Greeting {
			te.Greeting, te.Port = true, ss.port
		}
		return te
	}
	if errors.Is(err, net.ErrClosed) || isEOF(err) || isReset(err) {
		unconfirmed := slices.ContainsFunc(ss.asked, func(p pending) bool { return p.line == smtp.Message })
		ss.close(true)
		if unconfirmed {
			return &NetError{Pos: pos, Span: span, Op: readOp(op), Err: fmt.Errorf("%w: %w", ErrClosed, ErrNotConfirmed)}
		}
		return &NetError{Pos: pos, Span: span, Op: readOp(op), Err: ErrClosed}
	}
	return &NetError{Pos: pos, Span: span, Op: op, Err: err}
}

// readOp names what was being done when the server closed: "read reply",
// or "write" as is.
func readOp(op string) string {
	if op == "write" {
		return op
	}
	return "read " + op
}

func (ss *session) expect(x *dsl.Expect) error {
	if x.Closed != nil {
		return ss.expectClosed(x)
	}
	pos, span := x.CodesSpan()
	rep, held, oauth := ss.held, ss.held, ss.heldOAuth
	ss.held, ss.heldOAuth = nil, nil
	if rep == nil {
		if err := ss.needConn(x.Kw); err != nil {
			return err
		}
		var err error
		if rep, err = ss.readReply(pos, span); err != nil {
			return err
		}
	}
	if !x.CodeMatches(rep.Code) {
		return &AssertError{Pos: pos, Span: span, Want: x.String(), Got: rep, Reason: "code", OAuth: oauth}
	}
	if x.Match != nil {
		ok, err := ss.textMatches(x.Match, rep)
		if err != nil {
			return err
		}
		if !ok {
			m := x.Match
			return &AssertError{Pos: m.Pos(), Span: m.Span(), Want: x.String(), Got: rep, Reason: "text", OAuth: oauth}
		}
		if err := ss.capture(x, rep); err != nil {
			return err
		}
	}
	if !ss.e.lean {
		ss.emit(ExpectPassed{Step: ss.step, Held: held})
	}
	return nil
}

// textMatches matches the reply as the server sent it: not escaped and
// not masked, so `expect 250 "${SMTP_PASS}"` can pass
// and a secret "TLS" does not hide STARTTLS from `expect 250 "STARTTLS"`.
// Only what is shown is masked.
func (ss *session) textMatches(m *dsl.Matcher, rep *Reply) (bool, error) {
	text := rep.Text
	if len(rep.Raw) == len(rep.Lines) && rep.Raw != nil {
		text = make([]string, len(rep.Raw))
		for i, raw := range rep.Raw {
			text[i] = replyText(raw)
		}
	}
	if re := m.Regexp(); re != nil {
		return re.MatchString(strings.Join(text, "\n")), nil
	}
	want, err := m.Substring.Expand(ss.e.vars)
	if err != nil {
		return false, err
	}
	want = strings.ToLower(want)
	for _, t := range text {
		if strings.Contains(strings.ToLower(t), want) {
			return true, nil
		}
	}
	return false, nil
}

func (ss *session) quit(q *dsl.Quit) error {
	pos, span := q.Pos(), q.Kw.Span()
	if err := ss.needConn(q.Kw); err != nil {
		return err
	}
	if err := ss.writeLine(pos, "QUIT", Sent{}); err != nil {
		return err
	}
	rep, err := ss.readReply(pos, span)
	if err != nil {
		return err
	}
	if rep.Code != 221 {
		return &AssertError{Pos: pos, Span: span, Want: "221", Got: rep, Reason: "code"}
	}
	ss.close(false)
	return nil
}

// expectClosed passes when the server closes the connection (after a 421,
// say) and fails if it sends a reply instead.
func (ss *session) expectClosed(x *dsl.Expect) error {
	pos, span := x.Closed.Pos(), x.Closed.Span()
	if ss.conn == nil {
		// Closed already, by a 421 the previous expect read.
		ss.emit(ExpectPassed{Step: ss.step})
		return nil
	}
	if rep := ss.held; rep != nil {
		return &AssertError{Pos: pos, Span: span, Want: "closed", Got: rep, Reason: "code"}
	}
	rep, err := ss.readReply(pos, span)
	if err == nil {
		return &AssertError{Pos: pos, Span: span, Want: "closed", Got: rep, Reason: "code"}
	}
	var te *TimeoutError
	if errors.As(err, &te) {
		return &AssertError{Pos: pos, Span: span, Want: "closed", Reason: "still open after " + te.After.String()}
	}
	var ne *NetError
	if errors.As(err, &ne) && errors.Is(err, ErrClosed) {
		ss.emit(ExpectPassed{Step: ss.step})
		return nil
	}
	return err
}

// raw writes bytes exactly as the script gives them, for reproducing how
// a server treats malformed input. The transcript marks them.
func (ss *session) raw(r *dsl.Raw) error {
	text, err := r.Text.Expand(ss.e.vars)
	if err != nil {
		return err
	}
	if err := ss.needConn(r.Kw); err != nil {
		return err
	}
	if err := ss.plaintextPolicy(r.Text.Pos(), r.Text.Span(), text); err != nil {
		return err
	}
	if ss.tlsBegun && !ss.tls {
		return &NetError{Pos: r.Pos(), Span: r.Kw.Span(), Op: "write", Err: errTLSIncomplete}
	}
	if up := strings.ToUpper(text); strings.Contains(up, "DATA") || strings.Contains(up, "BDAT") {
		// Nobody can tell what raw bytes started: assume a transaction.
		ss.dataSent = true
	}
	ss.w.WriteString(text)
	ss.asked = nil
	ss.emit(Sent{Step: ss.step, Line: text, TLS: ss.tls, Role: RoleRaw, At: time.Now()})
	return ss.flush(r.Pos(), r.Kw.Span())
}

func describeAddr(a net.Addr) string {
	if a == nil {
		return "?"
	}
	return a.String()
}
