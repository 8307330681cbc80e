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
	"time"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/smtprun/smtprun/dsl"
)

// Result summarises a run: how far it got, and how to mask its secrets.
type Result struct {
	Steps    int           // steps executed
	Replies  int           // replies read
	Messages int           // message contents sent
	Duration time.Duration // wall time of a run that completed

	// Redact masks the run's secrets in any text, such as the script
	// source a report quotes. It is set even when Run fails.
	Redact func(string) string
}

// session is the state of one Run: the connection and what was learned on it.
type session struct {
	e    *Engine
	prog *dsl.Program
	red  redactor
	res  Result

	mu   sync.Mutex // guards conn against the interrupt goroutine
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer

	host      string // for TLS verification
	tls       bool
	flushedAt time.Time
	// held is a reply read by auth that the next expect checks.
	held *Reply
	// inData is set between a 354 reply and the next reply: the server
	// takes every line as message content.
	inData bool
	// asked lists the commands whose replies are still to come, oldest
	// first, so a reply can be matched to its command (RFC 2920 keeps them
	// in order); nil after raw bytes, when nobody can tell.
	asked []string
	// caps are the extensions the last EHLO reply announced (upper-case
	// keyword -> parameters); TLS clears them (RFC 3207 4.2).
	caps map[string]string
}

// Run executes a checked program (see dsl.Check). It returns at the first
// failure with one of the typed errors in the package doc, ErrStopped when
// a WithBeforeStep function stopped it, or ctx.Err() when ctx is
// cancelled; in the last two cases it says QUIT first where the
// connection allows. Programs are immutable, so one may be run by many
// goroutines at once.
func (e *Engine) Run(ctx context.Context, p *dsl.Program) (Result, error) {
	start := time.Now()
	ss := &session{e: e, prog: p}
	ss.res.Redact = func(text string) string { t, _ := ss.red.mask(text); return t }
	if err := ss.collectSecrets(); err != nil {
		return ss.res, err
	}
	stop := context.AfterFunc(ctx, ss.interrupt)
	defer stop()
	defer ss.close(false)
	for _, st := range p.Steps() {
		if err := ctx.Err(); err != nil {
			return ss.res, err
		}
		if e.beforeStep != nil {
			if err := e.beforeStep(ctx, st); err != nil {
				if errors.Is(err, ErrStopped) || ctx.Err() != nil {
					ss.quitOnInterrupt()
				}
				return ss.res, err
			}
		}
		ss.emit(StepStarted{Step: st, Line: stepLine(p, st)})
		if err := ss.exec(ctx, st); err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				ss.quitOnInterrupt()
				return ss.res, ctxErr
			}
			return ss.res, err
		}
		ss.res.Steps++
	}
	if ss.conn != nil && ss.w.Buffered() > 0 {
		// Commands at the end of a script with no expect still go out.
		if err := ss.flush(p.Step(p.Len()-1).Pos(), 0); err != nil {
			return ss.res, err
		}
	}
	ss.res.Duration = time.Since(start)
	return ss.res, nil
}

func stepLine(p *dsl.Program, st dsl.Step) string {
	line, _ := dsl.SourceLine(p.Source(), st.Pos().Line)
	return strings.TrimSpace(line)
}

// collectSecrets expands every auth secret before anything runs, so a
// secret is masked even where it appears before its auth step (a
// hand-written AUTH LOGIN, an echo in a reply).
func (ss *session) collectSecrets() error {
	for _, st := range ss.prog.Steps() {
		a, ok := st.(*dsl.Auth)
		if !ok {
			continue
		}
		v, err := a.Secret.Expand(ss.e.vars)
		if err != nil {
			return err
		}
		ss.red.add(v)
		for _, p := range a.Secret.Variables() {
			if val, ok := ss.e.vars.Lookup(p.Var); ok {
				ss.red.add(val)
			}
		}
	}
	return nil
}

func (ss *session) emit(ev Event) {
	switch ev := ev.(type) {
	case StepStarted:
		ev.Line, _ = ss.red.mask(ev.Line)
		ss.e.observer.Event(ev)
	case Sent:
		ev.Line, _ = ss.red.mask(ev.Line)
		ss.e.observer.Event(ev)
	case Notice:
		ev.Text, _ = ss.red.mask(ev.Text)
		ss.e.observer.Event(ev)
	default:
		ss.e.observer.Event(ev)
	}
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
		return ss.message(st)
	case *dsl.Quit:
		return ss.quit(st)
	case *dsl.Raw:
		return ss.raw(st)
	case *dsl.Note:
		text, err := st.Text.Expand(ss.e.vars)
		if err != nil {
			return err
		}
		text, _ = ss.red.mask(text)
		ss.emit(Narration{Text: text})
		return nil
	}
	return &dsl.Error{Pos: st.Pos(), Title: "unknown step", Label: "run `smtprun check` for details"}
}

// quitGrace bounds the polite goodbye after an interrupt.
const quitGrace = time.Second

// quitOnInterrupt says QUIT (RFC 5321 4.1.1.10) on a connection that is
// still usable when the run is interrupted, so the server does not log an
// aborted session; it waits briefly for the 221 and then closes anyway.
// Mid-DATA nothing more is sent: a QUIT there would become message text.
func (ss *session) quitOnInterrupt() {
	if ss.conn == nil || ss.inData {
		ss.close(false)
		return
	}
	ss.conn.SetDeadline(time.Now().Add(quitGrace))
	ss.w.Reset(ss.conn) // drop anything unsent
	ss.w.WriteString("QUIT\r\n")
	if ss.w.Flush() == nil {
		ss.emit(Sent{Line: "QUIT", TLS: ss.tls, Note: "interrupted"})
		if rep, err := readReply(ss.r); err == nil {
			ss.red.maskAll(rep.Lines)
			ss.emit(Received{Reply: rep, TLS: ss.tls})
		}
	}
	ss.close(false)
}

// interrupt makes every blocked read or write return at once.
func (ss *session) interrupt() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.conn != nil {
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
		ss.emit(Closed{ByServer: byServer})
	}
	ss.held = nil
	ss.tls = false
	ss.asked, ss.caps = nil, nil
}

func (ss *session) setConn(c net.Conn) {
	ss.mu.Lock()
	ss.conn = c
	ss.mu.Unlock()
	ss.r = bufio.NewReaderSize(c, 4096)
	ss.w = bufio.NewWriterSize(c, 32<<10)
}

// needConn reports a step that needs a connection when there is none.
func (ss *session) needConn(kw dsl.Word) error {
	if ss.conn != nil {
		return nil
	}
	return &NetError{Pos: kw.Pos(), Span: kw.Span(), Op: kw.Text, Err: errors.New("not connected"),
		Help: "add a `connect` step first; after `quit` or a closed connection, connect again"}
}

func (ss *session) send(s *dsl.Send) error {
	line, err := s.Text.Expand(ss.e.vars)
	if err != nil {
		return err
	}
	if i := strings.IndexAny(line, "\r\n"); i >= 0 {
		return &dsl.Error{Pos: s.Text.Pos(), Span: s.Text.Span(), Title: "line break in a command",
			Label: "after interpolation the text contains CR or LF; nothing was sent",
			Notes: []string{"help: send appends CRLF itself; check the variables used in this line"}}
	}
	if err := ss.needConn(s.Kw); err != nil {
		return err
	}
	return ss.writeLine(s.Pos(), line, Sent{Line: line, TLS: ss.tls})
}

// writeLine buffers one command line; it goes out at the next flush, which
// is what lets a script pipeline several commands (RFC 2920).
func (ss *session) writeLine(pos lexer.Position, line string, ev Sent) error {
	switch {
	case !ss.inData:
		ss.asked = append(ss.asked, line)
	case line == ".":
		// Content written by hand after 354: only the final dot is answered.
		ss.asked = append(ss.asked, messageVerdict)
	}
	ss.w.WriteString(line)
	ss.w.WriteString("\r\n")
	ss.emit(ev)
	if ss.w.Buffered() >= ss.w.Size()/2 {
		return ss.flush(pos, 4)
	}
	return nil
}

func (ss *session) flush(pos lexer.Position, span int) error {
	if ss.w.Buffered() == 0 {
		return nil
	}
	ss.conn.SetWriteDeadline(time.Now().Add(ss.e.timeout))
	if err := ss.w.Flush(); err != nil {
		return ss.ioError(pos, span, "write", err)
	}
	ss.flushedAt = time.Now()
	return nil
}

// readReply flushes pending commands and reads one reply within the timeout.
func (ss *session) readReply(pos lexer.Position, span int) (*Reply, error) {
	if err := ss.flush(pos, span); err != nil {
		return nil, err
	}
	ss.conn.SetReadDeadline(time.Now().Add(ss.e.timeout))
	rep, err := readReply(ss.r)
	if err != nil {
		var re *replyError
		if errors.As(err, &re) {
			detail, _ := ss.red.mask(re.detail)
			return nil, &ProtocolError{Pos: pos, Span: span, Msg: re.msg, Detail: detail}
		}
		return nil, ss.ioError(pos, span, "reply", err)
	}
	answers := ""
	if len(ss.asked) > 0 {
		answers, ss.asked = ss.asked[0], ss.asked[1:]
		if verb, _, _ := strings.Cut(answers, " "); strings.EqualFold(verb, "EHLO") && rep.Code == 250 {
			ss.caps = parseCapabilities(rep)
		}
	}
	// After 354 the server reads everything as message text until the
	// final dot, and answers again only then.
	ss.inData = rep.Code == 354
	masked := ss.red.maskAll(rep.Lines)
	ss.red.maskAll(rep.Text)
	answers, _ = ss.red.mask(answers)
	ss.res.Replies++
	ss.emit(Received{Reply: rep, TLS: ss.tls, Elapsed: time.Since(ss.flushedAt), Masked: masked, Answers: answers})
	return rep, nil
}

// ioError names what failed: a timeout, the server closing, or another
// network error.
func (ss *session) ioError(pos lexer.Position, span int, op string, err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
		return &TimeoutError{Pos: pos, Span: span, Op: op, After: ss.e.timeout}
	}
	if errors.Is(err, net.ErrClosed) || isEOF(err) || isReset(err) {
		unconfirmed := slices.Contains(ss.asked, messageVerdict)
		ss.close(true)
		if unconfirmed {
			return &NetError{Pos: pos, Span: span, Op: "read " + op, Err: fmt.Errorf("%w: %w", ErrClosed, ErrNotConfirmed),
				Help: "check the recipient's mailbox or the server's log before sending again, or the message may arrive twice"}
		}
		return &NetError{Pos: pos, Span: span, Op: "read " + op, Err: ErrClosed}
	}
	return &NetError{Pos: pos, Span: span, Op: op, Err: err}
}

func (ss *session) expect(x *dsl.Expect) error {
	if x.Closed != nil {
		return ss.expectClosed(x)
	}
	pos, span := x.CodesSpan()
	rep, held := ss.held, ss.held
	ss.held = nil
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
		return &AssertError{Pos: pos, Span: span, Want: x.String(), Got: rep, Reason: "code"}
	}
	if x.Match != nil {
		ok, err := ss.textMatches(x.Match, rep)
		if err != nil {
			return err
		}
		if !ok {
			m := x.Match
			return &AssertError{Pos: m.Pos(), Span: m.Span(), Want: x.String(), Got: rep, Reason: "text"}
		}
	}
	ss.emit(ExpectPassed{Step: x, Held: held})
	return nil
}

func (ss *session) textMatches(m *dsl.Matcher, rep *Reply) (bool, error) {
	if re := m.Regexp(); re != nil {
		return re.MatchString(strings.Join(rep.Text, "\n")), nil
	}
	want, err := m.Substring.Expand(ss.e.vars)
	if err != nil {
		return false, err
	}
	want = strings.ToLower(want)
	for _, t := range rep.Text {
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
	if err := ss.writeLine(pos, "QUIT", Sent{Line: "QUIT", TLS: ss.tls}); err != nil {
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
		ss.emit(ExpectPassed{Step: x})
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
		ss.emit(ExpectPassed{Step: x})
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
	ss.w.WriteString(text)
	ss.asked = nil
	ss.emit(Sent{Line: Escape([]byte(text)), TLS: ss.tls, Raw: true})
	return ss.flush(r.Pos(), r.Kw.Span())
}

// parseCapabilities reads an EHLO reply's extension lines (RFC 5321
// 4.1.1.1): the first line greets, each other starts with a keyword.
func parseCapabilities(rep *Reply) map[string]string {
	caps := map[string]string{}
	for _, t := range rep.Text[1:] {
		kw, params, _ := strings.Cut(strings.TrimSpace(t), " ")
		caps[strings.ToUpper(kw)] = params
	}
	return caps
}

func describeAddr(a net.Addr) string {
	if a == nil {
		return "?"
	}
	return a.String()
}
