package sandbox

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/smtprun/smtprun/internal/smtp"
)

// session is one SMTP connection. The state machine is RFC 5321's and the
// same for every provider; the profile supplies the words.
type session struct {
	sb       *Sandbox
	p        *profile
	sc       *scenario // nil: no scenario, or one that leaves this profile alone
	mode     Mode
	host     string
	clientIP string
	id       int64
	remote   string
	start    time.Time
	started  time.Time // start, by Options.Clock

	raw  net.Conn // the TCP connection
	conn net.Conn // raw, or the TLS connection over it
	r    *bufio.Reader
	w    *bufio.Writer

	vars    map[string]string // per connection: host, server, session IDs, ...
	msgVars map[string]string // per message: queue_id, message_id
	cmdVars map[string]string // per command: cmd, arg, addr, ...
	domains map[string]bool   // the server's own domains (relay rules)

	tls      bool
	tlsInfo  string // "TLS 1.3, TLS_AES_128_GCM_SHA256", once TLS is on
	helo     string
	authUser string
	// failed AUTH exchanges on this connection (max_auth_failures)
	authFailures int
	// authMech is the mechanism of the AUTH exchange under way, upper case.
	authMech  string
	inTx      bool
	from      string
	rcpts     []string
	rcptTried bool   // a RCPT was answered in this transaction, accepted or not
	spool     *spool // the message being received (DATA, or BDAT chunks so far)
	errors    int

	stop     bool  // hang up after the current command
	closeErr error // why the connection ended, when not by QUIT

	// How the last line read ended: a bare LF, a CR inside it.
	lastBareLF, lastBareCR bool
	vanished               bool   // the client closed the connection, or it broke
	greetingRefused        bool   // a fault plan answered the greeting with 554 or 421
	slot                   string // the account whose concurrency limit counts this connection
	overLimit              bool   // authenticated while the account's connections were at the limit
	co                     coach
	data                   *dataCoach       // the message being received, with the coach on
	rec                    *sessionRecorder // Options.Record
}

// readBufferSize is the bufio size; lines longer than this are read in
// pieces, so it bounds nothing but the copy size. It is kept small
// because every connection has one: smtprun load --sandbox -c 200 holds
// 200 sessions at once.
const readBufferSize = 8 << 10

func newSession(sb *Sandbox, c net.Conn, p *profile, mode Mode, host, clientIP string) *session {
	ss := &session{
		sb:       sb,
		p:        p,
		mode:     mode,
		host:     normalizeHost(host),
		clientIP: clientIP,
		id:       sb.connSeq.Add(1),
		remote:   c.RemoteAddr().String(),
		start:    time.Now(),
		started:  sb.clock(),
		raw:      c,
		conn:     c,
		r:        bufio.NewReaderSize(c, readBufferSize),
		w:        bufio.NewWriter(c),
	}
	ss.co.on = sb.opts.Explain
	if sb.opts.Record != nil {
		ss.rec = &sessionRecorder{sb: sb}
	}
	if sb.sc != nil && sb.sc.appliesTo(p.Name) {
		ss.sc = sb.sc
	}
	if ss.clientIP == dialedClientIP {
		ss.remote = net.JoinHostPort(dialedClientIP, ss.remote[strings.LastIndexByte(ss.remote, ':')+1:])
	}
	ss.vars = map[string]string{
		"host":      ss.host,
		"domain":    parentDomain(ss.host),
		"client_ip": clientIP,
		"server":    ss.host,
	}
	for _, v := range p.Vars {
		ss.vars[v.name] = expand(v.value, lookupIn(ss.vars), sb.randomString)
	}
	ss.domains = map[string]bool{}
	for _, d := range p.Domains {
		ss.domains[normalizeHost(expand(d, lookupIn(ss.vars), nil))] = true
	}
	return ss
}

func lookupIn(maps ...map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		for _, m := range maps {
			if v, ok := m[name]; ok {
				return v, true
			}
		}
		return "", false
	}
}

// parentDomain is the host's mail domain by the usual convention:
// mail.utep.edu -> utep.edu; a two-label name or an IP stays as it is.
func parentDomain(host string) string {
	if net.ParseIP(host) != nil {
		return host
	}
	if labels := strings.Split(host, "."); len(labels) > 2 {
		return strings.Join(labels[1:], ".")
	}
	return host
}

func (ss *session) event(kind EventKind, line string) Event {
	return Event{
		Time:    ss.sb.clock(),
		Conn:    ss.id,
		Kind:    kind,
		Profile: ss.p.Name,
		Host:    ss.host,
		Remote:  ss.remote,
		Line:    line,
	}
}

func (ss *session) emit(kind EventKind, line string) { ss.sb.observe(ss.event(kind, line)) }

func (ss *session) run() {
	defer func() {
		if r := recover(); r != nil {
			// A bug must cost one connection, never the server.
			ss.closeErr = fmt.Errorf("sandbox: internal error: %v", r)
		}
		ss.coachClosing()
		ss.resetTransaction() // a half-received message's file and memory
		ss.close()
		ss.releaseSlot()
		ss.reportCard()
		ss.finishRecording()
		e := ss.event(ConnClosed, "")
		e.Err = ss.closeErr
		ss.sb.observe(e)
	}()
	ss.emit(ConnOpened, fmt.Sprintf("%s (profile %s, %s)", ss.host, ss.p.Name, ss.mode))
	if sc := ss.sb.sc; sc != nil {
		if ss.sc == nil {
			ss.emit(Note, fmt.Sprintf("scenario %s applies to %s only; %s behaves normally", sc.Name, strings.Join(sc.Profiles, ", "), ss.p.Name))
		} else {
			ss.emit(Note, "scenario "+sc.Name+": "+sc.Description)
		}
	}
	if ss.mode == ImplicitTLS && !ss.startTLS() {
		return
	}
	if ss.co.on && ss.mode != ImplicitTLS {
		ss.pregreet()
	}
	if !ss.faultedGreeting() {
		ss.reply("greeting")
	}
	for !ss.stop {
		line, total, err := ss.readLine(ss.p.MaxLine)
		if err != nil {
			ss.readFailed(err, "waiting for a command")
			return
		}
		ss.coachLine(ss.lastBareLF, ss.lastBareCR)
		ss.recordLine(line, total)
		if total > ss.p.MaxLine {
			// Mask a long AUTH line whole: its kept prefix holds the
			// start of a credential.
			shown := abbreviate(line, total)
			if isAuthLine(line) {
				shown = fmt.Sprintf("AUTH %s (%d bytes, too long)", secretMask, total)
			}
			e := ss.event(LineReceived, shown)
			e.Secret = isAuthLine(line)
			ss.sb.observe(e)
			ss.reply("line_too_long")
		} else {
			ss.handle(line)
		}
		if max := ss.maxErrors(); !ss.stop && max > 0 && ss.errors >= max {
			// Postfix's smtpd_hard_error_limit: after that many errors
			// without a delivered message, say 421 and hang up.
			ss.reply("too_many_errors")
			ss.hangUp(fmt.Errorf("too many errors (%d)", ss.errors))
		}
	}
}

// close ends the connection gracefully: TLS close_notify and a TCP FIN
// first, then a short wait for the client's own close. Closing at once with
// unread input in the socket makes the kernel send a reset, which can
// destroy the last reply (a 421) before the client reads it.
func (ss *session) close() {
	defer ss.raw.Close()
	if tc, ok := ss.conn.(*tls.Conn); ok {
		tc.SetWriteDeadline(time.Now().Add(time.Second))
		tc.CloseWrite()
	}
	cw, ok := ss.raw.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	ss.raw.SetReadDeadline(time.Now().Add(lingerTime))
	io.CopyN(io.Discard, ss.raw, 1<<20)
}

// lingerTime is how long a closing connection waits for the client to
// close its side.
const lingerTime = 500 * time.Millisecond

// abbreviate shows the start of a line that was too long, and its real
// length (total), not the length of what was kept.
func abbreviate(s string, total int) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return fmt.Sprintf("%s... (%d bytes, too long)", s, total)
}

func (ss *session) hangUp(err error) {
	ss.stop = true
	if ss.closeErr == nil {
		ss.closeErr = err
	}
}

// readFailed ends the session after a failed read: with the provider's
// timeout reply for an idle client, silently for one that went away.
func (ss *session) readFailed(err error, while string) {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		ss.reply("timeout")
		ss.hangUp(fmt.Errorf("client idle too long %s", while))
	case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET):
		// A reset is a client gone too: one that closes with unread
		// replies in its socket sends RST, not FIN.
		ss.vanished = true
		ss.hangUp(fmt.Errorf("client disconnected %s, without QUIT", while))
	default:
		ss.hangUp(fmt.Errorf("reading %s: %w", while, err))
	}
}

func (ss *session) setReadDeadline() time.Time {
	d := time.Now().Add(ss.sb.opts.IdleTimeout)
	if end := ss.start.Add(maxSession); end.Before(d) {
		d = end
	}
	ss.conn.SetReadDeadline(d)
	return d
}

// readLine reads one line of at most max bytes (without its CRLF). A
// longer line is consumed to its end but only its first max bytes are
// kept, so memory stays bounded; total is the line's real length, which
// is over max for a line too long. A bare LF ends a command line too, as
// it does for Postfix and Gmail: people type at servers with nc and
// telnet.
func (ss *session) readLine(max int) (line string, total int, err error) {
	var buf []byte
	var before byte // the byte before the final LF, across chunks
	for {
		ss.setReadDeadline()
		chunk, err := ss.r.ReadSlice('\n')
		if n := len(chunk); n >= 2 {
			before = chunk[n-2]
		}
		total += len(chunk)
		if room := max + 2 - len(buf); room > 0 {
			buf = append(buf, chunk[:min(len(chunk), room)]...)
		}
		if err == bufio.ErrBufferFull {
			before = chunk[len(chunk)-1]
			continue
		}
		if err != nil {
			return "", total, err
		}
		break
	}
	// The line's own length, without its CRLF or bare LF.
	total--
	ss.lastBareLF = before != '\r'
	if !ss.lastBareLF && total > 0 {
		total--
	}
	ss.lastBareCR = bytes.IndexByte(buf[:min(len(buf), total)], '\r') >= 0
	if total > max {
		return string(buf[:max]), total, nil
	}
	s := strings.TrimSuffix(string(buf), "\n")
	s = strings.TrimSuffix(s, "\r")
	return s, len(s), nil
}

// reply sends one of the profile's replies.
func (ss *session) reply(key string) {
	r, ok := ss.p.replies[key]
	if !ok {
		panic("sandbox: no reply " + key)
	}
	ss.send(r, key)
}

// send writes a reply, expanding its placeholders, and reports it with
// the reason it was chosen (see Event.Reason). 4xx and 5xx replies count
// toward the error limit.
func (ss *session) send(r replyTemplate, reason string) {
	if ss.closeErr != nil && ss.stop {
		return
	}
	if hook := ss.hooks().beforeReply; hook != nil && !hook(ss) {
		ss.hangUp(net.ErrClosed)
		return
	}
	ss.beforeSend(r.code, reason)
	now := ss.sb.clock()
	lines := r.render(func(s string) string { return ss.expandAt(s, now, 0) })
	ss.recordReply(r.code, lines, reason)
	if ss.co.on {
		ss.coachReply(r.code, lines, reason)
	}
	e := ss.event(ReplySent, "")
	e.Code, e.Lines, e.Reason = r.code, lines, reason
	ss.sb.observe(e)
	for _, line := range lines {
		ss.w.WriteString(line)
		ss.w.WriteString("\r\n")
	}
	ss.conn.SetWriteDeadline(time.Now().Add(ss.sb.opts.IdleTimeout))
	if err := ss.w.Flush(); err != nil {
		ss.hangUp(fmt.Errorf("writing a reply: %w", err))
		return
	}
	if r.code >= 400 {
		ss.errors++
	}
}

// expandAt fills a reply line in. Profile vars may hold placeholders of
// their own ({isotime} in Office 365's tracking part), so they are
// expanded again; values from the client ({addr}, {arg}) are not.
func (ss *session) expandAt(s string, now time.Time, depth int) string {
	return expand(s, func(name string) (string, bool) {
		if v, ok := ss.cmdVars[name]; ok {
			return v, true
		}
		if v, ok := ss.msgVars[name]; ok {
			return v, true
		}
		switch name {
		case "date":
			return now.UTC().Format("Mon, 2 Jan 2006 15:04:05 -0700"), true
		case "isotime":
			return now.UTC().Format("2006-01-02T15:04:05.000Z"), true
		case "unix":
			return strconv.FormatInt(now.Unix(), 10), true
		case "size":
			return strconv.FormatInt(ss.sizeLimit(), 10), true
		case "helo":
			return replySafe(ss.helo), true
		}
		if v, ok := ss.vars[name]; ok {
			if depth < 4 {
				v = ss.expandAt(v, now, depth+1)
			}
			return v, true
		}
		return "", false
	}, ss.sb.randomString)
}

// hooks are what the session's scenario changes (scenarios.go); without
// one, nothing.
func (ss *session) hooks() *behaviour {
	if ss.sc == nil {
		return noBehaviour
	}
	return ss.sc.hooks
}

// scenarioReply sends the scenario's own reply, as this provider words it.
func (ss *session) scenarioReply() {
	if r, ok := ss.sc.hostReplies[strings.ToLower(ss.host)]; ok {
		ss.send(r, ss.sc.Name)
		return
	}
	ss.send(ss.sc.replyFor(ss.p.Name), ss.sc.Name)
}

func (ss *session) sizeLimit() int64 {
	if hook := ss.hooks().sizeLimit; hook != nil {
		return hook(ss.sc)
	}
	return ss.p.Size
}

func (ss *session) maxErrors() int {
	if hook := ss.hooks().maxErrors; hook != nil {
		return hook(ss.sc)
	}
	return ss.p.MaxErrors
}

// heloRequired: MAIL and AUTH only after HELO/EHLO (and after STARTTLS,
// only after a new one). Postfix's default (smtpd_helo_required=no) does
// not insist; the strict scenario does.
func (ss *session) heloRequired() bool {
	return !ss.p.HeloOptional || ss.hooks().strict
}

// lenientPaths: "MAIL FROM: a@b" without angle brackets is accepted, as
// by Postfix's default strict_rfc821_envelopes=no.
func (ss *session) lenientPaths() bool {
	return ss.p.LenientPaths && !ss.hooks().strict
}

// unsupportedOption refuses a MAIL or RCPT parameter the server does not
// know, where the profile says so (Postfix: 555 5.5.4); true if it did.
func (ss *session) unsupportedOption(params []string, known ...string) bool {
	if ss.p.UnsupportedOptions != "reject" {
		return false
	}
	for _, param := range params {
		key, _, _ := strings.Cut(param, "=")
		if !slices.Contains(known, strings.ToUpper(key)) {
			ss.cmdVars["arg"] = replySafe(param)
			ss.reply("unsupported_option")
			return true
		}
	}
	return false
}

// forbidden: a command line that is a message header ("Subject: hi",
// what a client sends when it did not notice DATA was refused) or HTTP,
// which Postfix answers by hanging up (smtpd_forbidden_commands).
func (ss *session) forbidden(verb string) bool {
	if !ss.p.ForbiddenCommands {
		return false
	}
	switch verb {
	case "CONNECT", "GET", "POST":
		return true
	}
	name, ok := strings.CutSuffix(verb, ":")
	return ok && name != "" && !strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == ':' })
}

// requireTLS: AUTH and MAIL only after STARTTLS.
func (ss *session) requireTLS() bool {
	return ss.hooks().requireTLS || ss.mode == Submission && ss.p.RequireTLS
}

// ehloReply is what EHLO answers now: the after-TLS list once TLS is on
// (RFC 3207 4.2: the server must not offer STARTTLS again), and no AUTH
// before TLS where TLS is insisted on.
func (ss *session) ehloReply() replyTemplate {
	if ss.tls {
		return ss.p.replies["ehlo_tls"]
	}
	r := ss.p.replies["ehlo"]
	if ss.hooks().requireTLS {
		r = r.without(smtp.CmdAUTH)
	}
	return r
}

func (ss *session) handle(line string) {
	c := parseCommand(line)
	verb, arg := c.verb, c.arg
	// {cmd} and {arg} may be echoed in replies: no control characters,
	// nothing invisible.
	ss.cmdVars = map[string]string{"cmd": replySafe(verb), "arg": replySafe(arg)}
	shown, secret := c.shown(line), c.secret
	known := smtp.IsCommand(verb)
	if known {
		ss.co.authAftermath = 0
	}
	if !c.secret && !known && (ss.co.authAftermath > 0 && looksBase64(strings.TrimSpace(line)) || ss.holdsPassword(line)) {
		// A refused AUTH, and the client sends its answers anyway (or
		// pipelined them, or sends a password at all): they are
		// credentials read as commands, and are masked as such. A raw
		// user name in between does not end the aftermath.
		shown, secret = secretMask, true
		if ss.rec != nil {
			ss.rec.maskLast()
		}
	}
	if ss.co.authAftermath > 0 {
		ss.co.authAftermath--
	}
	e := ss.event(LineReceived, shown)
	e.Secret = secret
	if ss.co.on && c.secret && c.mech == "PLAIN" {
		e.User = ss.plainUser(c.response)
	}
	if ss.co.on && c.secret && c.mech == "LOGIN" && c.fields == 2 {
		e.User = ss.shownUser(c.response) // LOGIN's initial response is the user name
	}
	ss.sb.observe(e)
	if secret && !c.secret {
		ss.diagnose("auth_answer_after_refusal", fmt.Sprint(ss.co.lineNo))
	}
	ss.co.line = shown
	ss.coachCommand(verb, arg, line)
	if hook := ss.sb.testHook; hook != nil {
		hook(line)
	}
	if ss.greetingRefused && verb != smtp.CmdQUIT {
		ss.diagnoseOnce("ignored_greeting", replySafe(clip(verb, 40)))
		ss.send(refusedSession, "greeting_refused")
		return
	}
	if ss.forbidden(verb) {
		ss.reply("forbidden_command")
		ss.hangUp(fmt.Errorf("forbidden command %q", replySafe(clip(verb, 40))))
		return
	}
	if ss.faulted(verb, arg, shown) {
		return
	}
	switch verb {
	case smtp.CmdHELO, smtp.CmdEHLO:
		ss.cmdHello(verb, arg)
	case smtp.CmdSTARTTLS:
		ss.cmdStartTLS(arg)
	case smtp.CmdAUTH:
		ss.cmdAuth(c)
	case smtp.CmdMAIL:
		ss.cmdMail(arg)
	case smtp.CmdRCPT:
		ss.cmdRcpt(arg)
	case smtp.CmdDATA:
		ss.cmdData(arg)
	case smtp.CmdBDAT:
		ss.cmdBdat(arg)
	case smtp.CmdRSET:
		if arg != "" {
			ss.reply("syntax")
			return
		}
		ss.resetTransaction()
		ss.reply("rset")
	case smtp.CmdNOOP:
		ss.reply("noop")
	case smtp.CmdVRFY:
		if arg == "" {
			ss.reply("syntax")
			return
		}
		// RFC 5321 3.5.3: 252, "cannot verify, but will accept".
		ss.reply("vrfy")
	case smtp.CmdQUIT:
		ss.co.quit = true
		if ss.co.on && len(ss.co.good) > 0 {
			ss.praise("QUIT")
		}
		ss.reply("quit")
		ss.stop = true
	default:
		ss.reply("unknown_command")
	}
}

func (ss *session) resetTransaction() {
	ss.rcptTried = false
	ss.inTx = false
	ss.from = ""
	ss.rcpts = nil
	if ss.spool != nil {
		ss.spool.release()
		ss.spool = nil
	}
}

// cmdHello: HELO/EHLO name. Either one resets the transaction (RFC 5321
// 4.1.4).
func (ss *session) cmdHello(verb, arg string) {
	name, _, _ := strings.Cut(arg, " ")
	if name == "" || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		ss.reply("helo_syntax")
		if ss.p.HeloCloses && !ss.stop {
			ss.hangUp(fmt.Errorf("%s without a name", verb))
		}
		return
	}
	if hook := ss.hooks().helo; hook != nil && hook(ss, name) {
		if !ss.stop {
			ss.hangUp(fmt.Errorf("%s %s refused (scenario)", verb, replySafe(clip(name, 64))))
		}
		return
	}
	ss.resetTransaction()
	ss.helo = name
	ss.co.helloVerb = verb
	if verb == smtp.CmdHELO {
		ss.reply("helo")
		return
	}
	key := "ehlo"
	if ss.tls {
		key = "ehlo_tls"
	}
	r := ss.ehloReply()
	caps := r.capabilities()
	ss.co.pipelining = caps.Has("PIPELINING")
	var kws []string
	for _, l := range r.lines[1:] {
		kw, _, _ := strings.Cut(strings.TrimSpace(l), " ")
		kws = append(kws, strings.ToUpper(kw))
	}
	ss.co.announced = strings.Join(kws, " ")
	ss.co.ehloLines = len(r.lines)
	if ss.co.sawStartTLS {
		ss.co.sawStartTLS = false
		ss.praise("EHLO again after STARTTLS")
	}
	ss.send(r, key)
}

// cmdStartTLS: RFC 3207. Only once, only where offered; afterwards the
// client knows nothing about the server and must EHLO again.
func (ss *session) cmdStartTLS(arg string) {
	if arg != "" {
		ss.reply("syntax")
		return
	}
	if ss.tls {
		if ss.mode == ImplicitTLS {
			ss.diagnose("starttls_on_tls_port", "")
		} else {
			ss.diagnose("starttls_twice", "")
		}
		ss.reply("starttls_already")
		return
	}
	if !ss.ehloReply().capabilities().Has(smtp.CmdSTARTTLS) {
		ss.reply("unknown_command")
		return
	}
	if ss.co.helloVerb == smtp.CmdHELO {
		ss.diagnose("helo_not_ehlo", "STARTTLS")
	}
	if hook := ss.hooks().startTLS; hook != nil && hook(ss) {
		return
	}
	ss.reply("starttls")
	if ss.stop {
		return
	}
	if ss.co.on && ss.r.Buffered() > 0 {
		if b, _ := ss.r.Peek(min(2, ss.r.Buffered())); ss.co.ehloLines > 1 && len(b) == 2 && b[0] == 0x16 && b[1] == 0x03 {
			// A TLS ClientHello that did not wait for the 220: the client
			// took a line of the EHLO reply for it.
			ss.diagnoseOnce("reply_desync", fmt.Sprint(ss.co.ehloLines))
		} else {
			ss.diagnoseOnce("after_starttls", ss.earlyBytes())
		}
	}
	// Anything the client pipelined after STARTTLS was sent in plaintext
	// and must not be executed inside TLS (CVE-2011-0411): startTLS
	// replaces the reader, dropping it.
	if !ss.startTLS() {
		return
	}
	ss.helo = ""
	ss.authUser = ""
	ss.resetTransaction()
	ss.co.sawStartTLS = true
	ss.co.pipelining, ss.co.announced, ss.co.helloVerb = false, "", ""
	ss.praise("STARTTLS")
}

// startTLS runs the server side of the TLS handshake.
func (ss *session) startTLS() bool {
	conf := ss.sb.ca.serverConfig(ss.host, ss.hooks().handshakeFails)
	var under net.Conn = ss.raw
	fc := &firstByteConn{Conn: ss.raw}
	waiting := false
	if ss.co.on {
		under = fc
		if ss.mode == ImplicitTLS && !ss.tls {
			waiting = ss.waitForHandshake(fc)
		}
	}
	tc := tls.Server(under, conf)
	ss.raw.SetDeadline(time.Now().Add(min(ss.sb.opts.IdleTimeout, 30*time.Second)))
	if err := tc.Handshake(); err != nil {
		var rh tls.RecordHeaderError
		switch {
		case !ss.co.on:
		case errors.As(err, &rh) && ss.mode == ImplicitTLS && !ss.tls:
			ss.diagnose("plaintext_on_tls_port", quotedStart(rh.RecordHeader[:]))
		case errors.As(err, &rh):
			ss.diagnose("tls_handshake_plaintext", quotedStart(rh.RecordHeader[:]))
		case waiting:
			// Said already: the client waited for a greeting.
		case ss.mode != ImplicitTLS && ss.co.ehloLines > 1 && fc.read > 0 && clientGaveUp(err) && !ss.co.reported["after_starttls"] && !ss.co.reported["reply_desync"]:
			// The client began the handshake and gave up on it: its
			// TLS layer read something that was not TLS, and the one
			// thing the server sent in plaintext that it may not have
			// read is the rest of a multi-line reply.
			ss.diagnose("reply_desync", fmt.Sprint(ss.co.ehloLines))
		}
		ss.hangUp(fmt.Errorf("TLS handshake: %w", err))
		return false
	}
	if waiting {
		ss.withdraw("tls_port_client_waits", "")
	}
	ss.raw.SetDeadline(time.Time{})
	ss.conn = tc
	// The plaintext buffers are reused, emptied: nothing read before the
	// handshake may be taken as sent over TLS, and a new 64 KiB reader per
	// upgrade made up most of a load run's memory (smtprun load -c 200).
	ss.r.Reset(tc)
	ss.w.Reset(tc)
	ss.tls = true
	st := tc.ConnectionState()
	ss.tlsInfo = tls.VersionName(st.Version) + ", " + tls.CipherSuiteName(st.CipherSuite)
	ss.emit(TLSStarted, fmt.Sprintf("%s, certificate for %s", ss.tlsInfo, certName(st.ServerName, ss.host)))
	if ss.mode == ImplicitTLS && ss.co.helloVerb == "" && !slices.Contains(ss.co.good, "implicit TLS") {
		ss.praise("implicit TLS")
	}
	return true
}

func certName(sni, host string) string {
	if sni != "" {
		return sni
	}
	return host + " (no SNI)"
}

func (ss *session) cmdMail(arg string) {
	switch {
	case ss.helo == "" && ss.heloRequired():
		ss.reply("need_helo")
		return
	case ss.requireTLS() && !ss.tls:
		ss.diagnoseOnce("before_starttls", "MAIL")
		ss.reply("must_starttls")
		return
	case ss.mode != Relay && ss.authUser == "" && !ss.p.AuthAtRcpt:
		ss.reply("auth_required")
		return
	case ss.inTx:
		ss.reply("nested_mail")
		return
	}
	if q := ss.sb.saveFull(); q != nil {
		ss.send(q.reply(), q.reason())
		return
	}
	if ss.refusedByConcurrency() {
		return
	}
	addr, params, ok := parsePath(arg, "FROM:", true, ss.lenientPaths())
	if !ok {
		ss.reply("mail_syntax")
		return
	}
	if ss.unsupportedOption(params, "SIZE", "BODY", "SMTPUTF8", "AUTH", "RET", "ENVID") {
		return
	}
	ss.cmdVars["addr"] = replySafe(addr)
	for _, param := range params {
		key, value, _ := strings.Cut(param, "=")
		if strings.EqualFold(key, "SIZE") {
			// RFC 1870: refuse at once what will not fit.
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 {
				ss.reply("mail_syntax")
				return
			}
			if n > ss.sizeLimit() {
				ss.reply("size_exceeded")
				return
			}
		}
	}
	if ss.identityAtMail(addr) {
		return
	}
	ss.inTx = true
	ss.from = addr
	ss.reply("mail_ok")

}

func (ss *session) cmdRcpt(arg string) {
	if ss.requireTLS() && !ss.tls && ss.p.TLSGatesTransaction {
		// Postfix (smtpd_tls_security_level=encrypt) refuses every
		// command of a transaction before STARTTLS, not just MAIL.
		ss.diagnoseOnce("before_starttls", "RCPT")
		ss.reply("must_starttls")
		return
	}
	if !ss.inTx {
		ss.reply("need_mail")
		return
	}
	addr, params, ok := parsePath(arg, "TO:", false, ss.lenientPaths())
	if !ok {
		ss.reply("rcpt_syntax")
		return
	}
	if ss.unsupportedOption(params, "NOTIFY", "ORCPT") {
		return
	}
	ss.cmdVars["addr"] = replySafe(addr)
	if len(ss.rcpts) >= ss.p.MaxRcpts {
		ss.reply("too_many_recipients")
		return
	}
	ss.rcptTried = true
	if ss.mode != Relay && ss.authUser == "" && ss.p.AuthAtRcpt {
		ss.reply("auth_required")
		return
	}
	local := ss.isLocal(addr)
	if !local && ss.mode == Relay && ss.authUser == "" {
		ss.reply("relay_denied")
		return
	}
	if hook := ss.hooks().rcpt; hook != nil && hook(ss, addr, local) {
		return
	}
	ss.rcpts = append(ss.rcpts, addr)
	ss.reply("rcpt_ok")
}

// isLocal: is the address in one of the server's own domains? An address
// without a domain is local, as Postfix appends $myorigin.
func (ss *session) isLocal(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return true
	}
	return ss.domains[normalizeHost(addr[at+1:])]
}

// parsePath parses "FROM:<addr> params" or "TO:<addr> params" (RFC 5321
// 4.1.2). A space after the colon is tolerated, as by most servers. The
// null path <> is allowed for MAIL only. lenient accepts an address
// without angle brackets, as Postfix does by default.
func parsePath(arg, prefix string, nullOK, lenient bool) (addr string, params []string, ok bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", nil, false
	}
	rest := strings.TrimLeft(arg[len(prefix):], " ")
	if !strings.HasPrefix(rest, "<") {
		f := strings.Fields(rest)
		if !lenient || len(f) == 0 || strings.ContainsAny(f[0], "<>") {
			return "", nil, false
		}
		rest = "<" + f[0] + "> " + strings.Join(f[1:], " ")
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", nil, false
	}
	addr = rest[1:end]
	params = strings.Fields(rest[end+1:])
	if strings.HasPrefix(addr, "@") {
		// A source route, "@relay:user@example.com": obsolete, ignored.
		if i := strings.IndexByte(addr, ':'); i >= 0 {
			addr = addr[i+1:]
		}
	}
	if addr == "" {
		return "", params, nullOK
	}
	if len(addr) > 254 || strings.ContainsFunc(addr, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '<' }) {
		return "", nil, false
	}
	if at := strings.LastIndexByte(addr, '@'); at == 0 || at == len(addr)-1 {
		return "", nil, false
	}
	return addr, params, true
}
