package sandbox

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/smtprun/smtprun/internal/smtp"
)

// The coach (Options.Explain) watches what a client sends and reports its
// mistakes as Diagnosis events, as they happen, and a ReportCard when the
// connection ends. It only observes: a session behaves exactly the same
// with and without it, except that it waits briefly before the greeting to
// see whether the client speaks first.

//go:embed coach.yaml
var coachFile []byte

// Advice is what the coach says about one rule: a plain sentence (with
// {detail} to fill in), the RFC section, what a correct client sends, and
// whether breaking it is a mistake or only worth a warning (something a
// server may repair or tolerate, such as a missing Date: on a submission
// port, RFC 6409 8.2).
type Advice struct {
	Rule     string   `yaml:"rule"`
	Say      string   `yaml:"say"`
	RFC      string   `yaml:"rfc"`
	Instead  string   `yaml:"instead"`
	Severity Severity `yaml:"severity"`
}

// Severity says how much a diagnosis weighs on the report card.
type Severity string

const (
	// Mistake: the client broke a rule a server may enforce; it counts
	// against the session.
	Mistake Severity = "mistake"
	// Warning: worth fixing, but a server may repair or accept it.
	Warning Severity = "warning"
)

var coachAdvice = sync.OnceValue(func() map[string]Advice {
	var list []Advice
	if err := yaml.Unmarshal(coachFile, &list); err != nil {
		panic("sandbox: coach.yaml: " + err.Error())
	}
	m := map[string]Advice{}
	for _, a := range list {
		if a.Rule == "" || a.Say == "" || a.RFC == "" || a.Instead == "" {
			panic("sandbox: coach.yaml: incomplete entry " + a.Rule)
		}
		switch a.Severity {
		case "":
			a.Severity = Mistake
		case Mistake, Warning:
		default:
			panic("sandbox: coach.yaml: unknown severity " + string(a.Severity) + " of " + a.Rule)
		}
		m[a.Rule] = a
	}
	return m
})

// AdviceFor returns the advice for a Diagnosis rule.
func AdviceFor(rule string) (Advice, bool) {
	a, ok := coachAdvice()[rule]
	return a, ok
}

// Diagnosis is one mistake (or warning) the coach saw. Detail fills the
// advice's {detail}; it never holds a credential. RFC and Severity are the
// advice's, copied so that a report written from events alone (grade, a
// JSON report) needs no lookup.
type Diagnosis struct {
	Rule     string   `json:"rule"`
	Detail   string   `json:"detail,omitempty"`
	RFC      string   `json:"rfc"`
	Severity Severity `json:"severity"`
	// Line is the client line (commands, AUTH answers and message lines,
	// counted from 1) the diagnosis was made at; 0 at the end of a session.
	Line int `json:"line,omitempty"`
}

// Advice is the diagnosis's advice (an unknown rule has only its name).
func (d Diagnosis) Advice() Advice {
	if a, ok := coachAdvice()[d.Rule]; ok {
		return a
	}
	return Advice{Rule: d.Rule, Severity: d.Severity}
}

// Sentence is the advice's sentence with the detail filled in, passed
// through escape first: the detail quotes what the client sent.
func (d Diagnosis) Sentence(escape func(string) string) string {
	a, ok := coachAdvice()[d.Rule]
	if !ok {
		return d.Rule + ": " + escape(d.Detail)
	}
	return strings.ReplaceAll(a.Say, "{detail}", escape(d.Detail))
}

// ReportCard sums a session up: what the client did right, in the order
// it did it, how often it made each mistake and earned each warning, and,
// for a session that failed where no rule explains why, what failed.
type ReportCard struct {
	Good     []string       `json:"good"`               // "STARTTLS", "EHLO again after STARTTLS", ...
	Mistakes map[string]int `json:"mistakes,omitempty"` // rule -> count
	Warnings map[string]int `json:"warnings,omitempty"` // rule -> count
	// Delivered counts the messages the server accepted.
	Delivered int `json:"delivered"`
	// Recipients are the accepted recipients of the delivered messages.
	Recipients []string `json:"recipients,omitempty"`
	// Failed: the session ended with a refusal it never recovered from
	// (a refused command with nothing delivered after it, or a connection
	// cut), so it did not do what the client set out to do.
	Failed bool `json:"failed"`
	// LastRefused is the last command the server refused and its reply,
	// when the session failed.
	LastRefused *Refusal `json:"last_refused,omitempty"`
	// Unexplained: the session failed and no mistake the coach knows
	// explains it.
	Unexplained bool `json:"unexplained,omitempty"`
	// Quit: the client ended with QUIT.
	Quit bool `json:"quit"`
}

// Refusal is a command the server refused and the reply it refused it
// with; Command is masked where it held a credential.
type Refusal struct {
	Command string `json:"command"`
	Code    int    `json:"code"`
	Reply   string `json:"reply"`
}

// OfGreeting: the server refused the session in its greeting, before any
// command (Command is smtp.Greeting).
func (r *Refusal) OfGreeting() bool { return r != nil && r.Command == smtp.Greeting }

// Rules returns the mistakes' rules, sorted.
func (r *ReportCard) Rules() []string { return sortedKeys(r.Mistakes) }

// WarningRules returns the warnings' rules, sorted.
func (r *ReportCard) WarningRules() []string { return sortedKeys(r.Warnings) }

func sortedKeys(m map[string]int) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

const (
	// defaultStuckAfter: how long DATA may see no new bytes before the
	// coach says the server is still waiting for the final dot.
	defaultStuckAfter = 5 * time.Second
	// defaultPregreetWait: how long the coach listens before the greeting
	// for a client that speaks first (postscreen waits 6 s; a learner
	// waits less).
	defaultPregreetWait = 200 * time.Millisecond
	// messageShown is how many body lines the explain transcript shows at
	// the start and at the end of a message.
	messageShown = 3
	// shownLineMax bounds one message line in the transcript.
	shownLineMax = 200
)

// coach is one session's observer state.
type coach struct {
	on       bool
	lineNo   int // client lines so far (commands, AUTH answers, message lines)
	good     []string
	mistakes map[string]int
	warnings map[string]int
	reported map[string]bool // rules said once per session

	sawStartTLS   bool // STARTTLS done, EHLO not yet repeated
	quit          bool // the client sent QUIT
	delivered     int
	recipients    []string
	pipelining    bool   // the last EHLO reply announced PIPELINING
	announced     string // the last EHLO reply's keywords, space separated
	ehloLines     int    // lines of the last EHLO reply
	helloVerb     string // HELO or EHLO, the last one sent on this TLS layer
	body8bit      bool   // this transaction's MAIL said BODY=8BITMIME or SMTPUTF8
	verb          string // the command being answered
	line          string // the command being answered, as shown
	authAftermath int    // lines after a failed AUTH exchange in which base64 lines are credentials
	// dataRefused: the reply to DATA was not 354, and the lines that
	// follow may be the message, read as commands.
	dataRefused *Refusal
	// lastRefused: the last refused command since the last delivery.
	lastRefused *Refusal
}

// diagnosisEvent sends one DiagnosisMade (or DiagnosisWithdrawn) event.
func (ss *session) diagnosisEvent(kind EventKind, rule, detail string) {
	a := coachAdvice()[rule]
	sev := a.Severity
	if sev == "" {
		sev = Mistake
	}
	e := ss.event(kind, "")
	e.Diagnosis = &Diagnosis{Rule: rule, Detail: detail, RFC: a.RFC, Severity: sev, Line: ss.co.lineNo}
	ss.sb.observe(e)
}

// count adds one to the rule's tally, as a mistake or a warning.
func (c *coach) count(rule string, n int) {
	m := &c.mistakes
	if coachAdvice()[rule].Severity == Warning {
		m = &c.warnings
	}
	if *m == nil {
		*m = map[string]int{}
	}
	(*m)[rule] += n
	if (*m)[rule] <= 0 {
		delete(*m, rule)
	}
}

func (ss *session) diagnose(rule, detail string) {
	if !ss.co.on {
		return
	}
	ss.co.count(rule, 1)
	ss.diagnosisEvent(DiagnosisMade, rule, detail)
}

// withdraw takes back a diagnosis that time has proved wrong (a slow
// client that did finish its message was not stuck after all).
func (ss *session) withdraw(rule, detail string) {
	if !ss.co.on {
		return
	}
	ss.co.count(rule, -1)
	ss.diagnosisEvent(DiagnosisWithdrawn, rule, detail)
}

// diagnoseOnce reports a rule the first time only in a session (a bare LF
// on every line is one mistake, not fifty), but counts every time.
func (ss *session) diagnoseOnce(rule, detail string) {
	if !ss.co.on {
		return
	}
	if ss.co.reported == nil {
		ss.co.reported = map[string]bool{}
	}
	if ss.co.reported[rule] {
		ss.co.count(rule, 1)
		return
	}
	ss.co.reported[rule] = true
	ss.diagnose(rule, detail)
}

// praise notes something the client did right, once: a session of a
// thousand messages has a report card of one line.
func (ss *session) praise(what string) {
	if what == "message delivered" {
		ss.co.delivered++
		ss.co.lastRefused = nil
		for _, r := range ss.rcpts {
			if !slices.Contains(ss.co.recipients, r) {
				ss.co.recipients = append(ss.co.recipients, r)
			}
		}
	}
	if ss.co.on && !slices.Contains(ss.co.good, what) {
		ss.co.good = append(ss.co.good, what)
	}
}

// refused notes a command the server refused, for the report card of a
// session that fails.
func (ss *session) refused(code int, lines []string) {
	if code < 400 || ss.co.line == "" {
		return
	}
	ss.co.lastRefused = &Refusal{Command: ss.co.line, Code: code, Reply: strings.Join(lines, " / ")}
}

// reportCard sends the session's report card.
func (ss *session) reportCard() {
	if !ss.co.on {
		return
	}
	e := ss.event(ReportCardMade, "")
	good := slices.Clone(ss.co.good)
	if i := slices.Index(good, "message delivered"); i >= 0 && ss.co.delivered > 1 {
		good[i] = fmt.Sprintf("%d messages delivered", ss.co.delivered)
	}
	card := &ReportCard{Good: good, Mistakes: ss.co.mistakes, Warnings: ss.co.warnings,
		Delivered: ss.co.delivered, Recipients: ss.co.recipients, Quit: ss.co.quit}
	// A session failed if nothing was delivered after its last refusal,
	// or it was cut off mid-transaction.
	if r := ss.co.lastRefused; r != nil || ss.co.delivered == 0 && ss.closeErr != nil && !ss.co.quit {
		card.Failed = true
		card.LastRefused = r
		// A greeting refused is the server's doing, not a cause to find.
		card.Unexplained = len(card.Mistakes) == 0 && !r.OfGreeting()
	}
	e.Report = card
	ss.sb.observe(e)
}

// coachLine checks a command or AUTH answer line's ending.
func (ss *session) coachLine(bareLF, bareCR bool) {
	ss.co.lineNo++
	if bareLF {
		ss.diagnoseOnce("bare_lf_command", fmt.Sprint(ss.co.lineNo))
	}
	if bareCR {
		ss.diagnoseOnce("bare_cr_command", fmt.Sprint(ss.co.lineNo))
	}
}

// earlyBytes describes what the client has sent that the session has not
// read yet, naming the first command without showing an argument (which
// may be a credential).
func (ss *session) earlyBytes() string {
	n := ss.r.Buffered()
	b, _ := ss.r.Peek(n)
	first, _, _ := strings.Cut(string(b), "\n")
	verb := strings.ToUpper(strings.TrimRight(strings.Fields(first + " x")[0], "\r"))
	if slices.Contains(smtp.Commands(), verb) {
		return fmt.Sprintf("%s (%d bytes in all)", verb, n)
	}
	return fmt.Sprintf("%d bytes", n)
}

// beforeSend checks, as a reply is about to go out, whether the client has
// already sent more: bytes the session holds unread were sent before the
// client could have read this reply.
func (ss *session) beforeSend(code int, reason string) {
	if !ss.co.on || ss.r.Buffered() == 0 {
		return
	}
	switch {
	case code == 334:
		ss.diagnose("before_334", ss.earlyBytes())
	case reason == "data_start":
		ss.diagnose("before_354", fmt.Sprintf("%d bytes of the message", ss.r.Buffered()))
	case ss.co.verb == smtp.CmdDATA && code >= 400 && ss.spool == nil:
		// The message went out with DATA, and DATA was refused: the
		// message will be read as commands.
		ss.diagnose("before_354", fmt.Sprintf("%d bytes of the message", ss.r.Buffered()))
	case ss.co.dataRefused != nil:
		// The message, sent after a refused DATA, is answered line by
		// line: message_after_refused_data says so, once; these are not
		// pipelined commands.
	case reason == "starttls" || reason == "greeting" || code == 221 || code == 421:
		// The greeting: pregreet has looked.
		// STARTTLS: the discarded bytes are reported by cmdStartTLS.
	case reason == "data_ok" && ss.nextVerb() == smtp.CmdQUIT:
		ss.diagnose("quit_before_confirm", "")
	case !ss.co.pipelining:
		ss.diagnoseOnce("pipelined_unannounced", ss.earlyBytes())
	case ss.co.verb == smtp.CmdEHLO || ss.co.verb == smtp.CmdHELO || ss.co.verb == smtp.CmdAUTH || ss.co.verb == smtp.CmdNOOP:
		ss.diagnose("pipelined_after_last", ss.earlyBytes())
	}
}

func (ss *session) nextVerb() string {
	b, _ := ss.r.Peek(ss.r.Buffered())
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return strings.ToUpper(f[0])
}

// pregreet listens briefly before the greeting for a client that does not
// wait for it.
func (ss *session) pregreet() {
	wait := ss.sb.opts.PregreetWait
	if wait <= 0 {
		wait = defaultPregreetWait
	}
	ss.conn.SetReadDeadline(time.Now().Add(wait))
	_, err := ss.r.Peek(1)
	if err != nil && ss.r.Buffered() == 0 {
		// Clear bufio's stored timeout, or the next read returns it.
		ss.r.Read(nil)
		return
	}
	ss.diagnose("before_greeting", ss.earlyBytes())
}

// authAftermathLines is how many lines after a failed AUTH may be its
// answers: a user name, a password, and one for good measure (PLAIN's
// authorization identity, a mistyped line).
const authAftermathLines = 3

// holdsPassword reports whether a line is, or its base64 decodes to
// something holding, a password that logs in here: whatever the session
// thinks the line is, it is never shown.
func (ss *session) holdsPassword(line string) bool {
	line = strings.TrimSpace(line)
	var passwords []string
	if p := ss.p.Practice.Password; p != "" {
		passwords = append(passwords, p)
	}
	for _, p := range ss.sb.accounts {
		if p != "" {
			passwords = append(passwords, p)
		}
	}
	decoded, err := base64.StdEncoding.DecodeString(line)
	for _, p := range passwords {
		if strings.Contains(line, p) || err == nil && strings.Contains(string(decoded), p) {
			return true
		}
	}
	return false
}

// looksBase64 reports whether a line could be an AUTH answer.
func looksBase64(s string) bool {
	if len(s) < 4 || len(s)%4 != 0 {
		return false
	}
	_, err := base64.StdEncoding.DecodeString(s)
	return err == nil
}

// printable reports whether b is text a person typed: valid UTF-8 without
// control characters.
func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

// knownMailParams are the MAIL and RCPT parameters, by the EHLO keyword
// that must announce them.
var knownMailParams = map[string]string{
	"SIZE": "SIZE", "BODY": "8BITMIME", "SMTPUTF8": "SMTPUTF8", "AUTH": "AUTH",
	"RET": "DSN", "ENVID": "DSN", "NOTIFY": "DSN", "ORCPT": "DSN", "REQUIRETLS": "REQUIRETLS",
}

// coachPath checks MAIL FROM / RCPT TO syntax as RFC 5321 4.1.2 writes it.
func (ss *session) coachPath(verb, arg, prefix string) {
	if !ss.co.on {
		return
	}
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return
	}
	what := verb + " " + arg[:len(prefix)] // "MAIL FROM:", as sent
	rest := arg[len(prefix):]
	if strings.HasPrefix(rest, " ") {
		ss.diagnose("mail_space_after_colon", what)
		rest = strings.TrimLeft(rest, " ")
	}
	if !strings.HasPrefix(rest, "<") {
		ss.diagnose("mail_missing_brackets", what)
		return
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		ss.diagnose("mail_missing_brackets", what)
		return
	}
	for _, p := range strings.Fields(rest[end+1:]) {
		key, value, _ := strings.Cut(p, "=")
		key = strings.ToUpper(key)
		if key == "BODY" && strings.EqualFold(value, "8BITMIME") || key == "SMTPUTF8" {
			ss.co.body8bit = true
		}
		kw, known := knownMailParams[key]
		if !known || !strings.Contains(" "+ss.co.announced+" ", " "+kw+" ") {
			ss.diagnose("mail_unknown_parameter", replySafe(p))
		}
	}
}

// dataCoach checks message lines as they arrive and keeps what the explain
// transcript shows of them: every header line, the first and the last few
// body lines.
type dataCoach struct {
	ss       *session
	n        int // message lines so far
	inHeader bool
	from     bool
	date     bool
	body     int      // body lines so far
	tail     []string // the last body lines, not shown yet
	last     string   // the last complete line, for "stuck"
	// stuckSaid: the coach has said this message is stuck.
	stuckSaid bool
}

func (ss *session) newDataCoach() *dataCoach {
	return &dataCoach{ss: ss, inHeader: true}
}

// line checks one complete message line as sent (before dot-unstuffing,
// without its line ending).
func (d *dataCoach) line(wire []byte, length int, bareLF, bareCR bool) {
	ss := d.ss
	d.n++
	ss.co.lineNo++
	text := string(wire)
	d.last = text
	n := fmt.Sprint(d.n)
	if bareLF {
		ss.diagnoseOnce("bare_lf_data", n)
	}
	if bareCR {
		ss.diagnoseOnce("bare_cr_data", n)
	}
	if len(text) >= 2 && text[0] == '.' && text[1] != '.' {
		ss.diagnoseOnce("dot_not_doubled", fmt.Sprintf("%s (%s)", n, clip(text, 40)))
	}
	if length > 998 {
		ss.diagnoseOnce("line_over_998", fmt.Sprintf("%s (%d octets)", n, length))
	}
	if !ss.co.body8bit {
		for i := 0; i < len(text); i++ {
			if text[i] >= 0x80 {
				ss.diagnoseOnce("eight_bit", n)
				break
			}
		}
	}
	text = strings.TrimPrefix(text, ".")
	if d.inHeader {
		switch {
		case text == "":
			d.inHeader = false
			d.show(text)
			return
		case text[0] == ' ' || text[0] == '\t':
			d.show(text)
			return
		}
		name, _, ok := strings.Cut(text, ":")
		if ok && name != "" && !strings.ContainsAny(name, " \t") {
			switch strings.ToLower(name) {
			case "from":
				d.from = true
			case "date":
				d.date = true
			}
			d.show(text)
			return
		}
		ss.diagnoseOnce("no_blank_line", fmt.Sprintf("%s (%s)", n, clip(text, 40)))
		d.inHeader = false
	}
	d.body++
	if d.body <= messageShown {
		d.show(text)
		return
	}
	d.tail = append(d.tail, clip(text, shownLineMax))
	if len(d.tail) > messageShown {
		d.tail = d.tail[1:]
	}
}

func (d *dataCoach) show(text string) {
	e := d.ss.event(MessageLine, clip(text, shownLineMax))
	d.ss.sb.observe(e)
}

// end is called at the final dot: the note on the lines not shown, then
// the last ones, then the header checks.
func (d *dataCoach) end() {
	ss := d.ss
	if hidden := d.body - messageShown - len(d.tail); hidden > 0 {
		ss.emit(Note, fmt.Sprintf("%d more message lines not shown", hidden))
	}
	for _, t := range d.tail {
		d.show(t)
	}
	d.tail = nil
	if !d.from {
		ss.diagnose("missing_from", "")
	}
	if !d.date {
		ss.diagnose("missing_date", "")
	}
}

// stuck is said once per message when DATA sees no progress.
func (d *dataCoach) stuck() {
	d.stuckSaid = true
	what := fmt.Sprintf("%d message lines arrived", d.n)
	if d.n > 0 {
		what += fmt.Sprintf(", the last one %q", clip(d.last, 60))
	}
	d.ss.diagnose("stuck_in_data", what)
}

// quotedStart shows the first bytes of what the client sent where TLS
// belonged, quoted, without the line ending a command's start may have.
func quotedStart(b []byte) string {
	return fmt.Sprintf("%q", replySafe(strings.TrimRight(string(b), " \r\n")))
}

// firstByteConn lets the coach wait for a client's first byte on the
// implicit-TLS port without taking it from the TLS handshake, and counts
// what the handshake read (a client that never began one did not give up
// on it).
type firstByteConn struct {
	net.Conn
	first []byte
	read  int64
}

func (c *firstByteConn) Read(p []byte) (int, error) {
	if len(c.first) > 0 {
		n := copy(p, c.first)
		c.first = c.first[n:]
		c.read += int64(n)
		return n, nil
	}
	n, err := c.Conn.Read(p)
	c.read += int64(n)
	return n, err
}

// waitForHandshake waits StuckAfter for the client's first byte on the
// implicit-TLS port. A plain-TCP client waits for a 220 greeting that is
// never sent: say so (and withdraw it if a slow TLS client does begin).
func (ss *session) waitForHandshake(c *firstByteConn) bool {
	after := ss.sb.opts.StuckAfter
	if after <= 0 {
		after = defaultStuckAfter
	}
	c.Conn.SetReadDeadline(time.Now().Add(after))
	b := make([]byte, 1)
	n, err := c.Conn.Read(b)
	c.first = b[:n]
	c.Conn.SetReadDeadline(time.Time{})
	if n == 0 && isTimeout(err) {
		ss.diagnose("tls_port_client_waits", "")
		return true
	}
	return false
}

// clientGaveUp: the handshake failed on the client's side (it closed, or
// sent an alert), not on ours.
func clientGaveUp(err error) bool {
	var op *net.OpError
	// EPIPE: the client closed while the server was still writing its
	// part of the handshake, which under load comes before the server
	// reads the close.
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &op) && op.Op == "remote error"
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// coachReply follows the replies: what was refused, and whether DATA was.
func (ss *session) coachReply(code int, lines []string, reason string) {
	if reason == "greeting" || reason == "greeting_refused" {
		// A 503 after a refused greeting is that refusal's consequence:
		// the report card names the greeting.
		return
	}
	ss.refused(code, lines)
	if ss.co.verb == smtp.CmdDATA && code >= 400 && ss.spool == nil {
		ss.co.dataRefused = &Refusal{Command: "DATA", Code: code, Reply: strings.Join(lines, " / ")}
	}
}

// headerLike: a line that is a message header field ("Subject: hi"),
// not a command.
func headerLike(line string) bool {
	name, _, ok := strings.Cut(line, ":")
	return ok && name != "" && !strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r >= 0x7f })
}

// coachCommand checks a command line as the session is about to act on it.
func (ss *session) coachCommand(verb, arg, line string) {
	ss.co.verb = verb
	if !ss.co.on {
		return
	}
	known := slices.Contains(smtp.Commands(), verb)
	switch {
	case known && verb != smtp.CmdQUIT:
		ss.co.dataRefused = nil
	case known:
	case ss.co.dataRefused != nil:
		r := ss.co.dataRefused
		ss.diagnoseOnce("message_after_refused_data", clip(replySafe(r.Reply), 80))
	case headerLike(line) && ss.co.line != secretMask:
		ss.diagnoseOnce("message_without_data", fmt.Sprintf("%q", clip(replySafe(line), 40)))
	}
	switch verb {
	case smtp.CmdEHLO, smtp.CmdQUIT, smtp.CmdNOOP, smtp.CmdRSET:
	case smtp.CmdHELO:
		ss.co.sawStartTLS = false
	default:
		if ss.co.sawStartTLS && slices.Contains(smtp.Commands(), verb) {
			ss.diagnoseOnce("no_ehlo_after_starttls", replySafe(clip(verb, 20)))
		}
	}
	switch verb {
	case smtp.CmdMAIL:
		ss.co.body8bit = false
		ss.coachPath(verb, arg, "FROM:")
	case smtp.CmdRCPT:
		ss.coachPath(verb, arg, "TO:")
	}
}

// coachClosing reports how the client left, before the report card.
func (ss *session) coachClosing() {
	if !ss.co.on || ss.co.quit || !ss.vanished {
		return
	}
	if d := ss.data; d != nil {
		detail := fmt.Sprintf("%d message lines", d.n)
		if strings.EqualFold(strings.TrimSpace(d.last), smtp.CmdQUIT) {
			ss.diagnose("quit_in_data", detail+", the last one QUIT")
			return
		}
		ss.diagnose("closed_in_data", detail)
		return
	}
	if ss.greetingRefused {
		// The server refused the session before it began: leaving is
		// the answer, and Python's smtplib, for one, closes without QUIT
		// (RFC 5321 3.1 has the server wait for one, not the client owe it).
		return
	}
	if ss.co.delivered > 0 && !ss.inTx {
		// Every message was confirmed and nothing was left half done:
		// closing now loses nothing, and nodemailer's default transport
		// does just that (it closes after the 250, without QUIT). RFC 5321
		// 4.1.1.10 asks for QUIT, but a coach that flags a mainstream
		// client's normal ending teaches people to ignore it.
		return
	}
	ss.diagnose("no_quit", "")
}

// plainUser is the user name in an AUTH PLAIN response, for the explain
// transcript; "" if it has none that a person could read.
func (ss *session) plainUser(resp string) string {
	b, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		return ""
	}
	parts := strings.Split(string(b), "\x00")
	if len(parts) != 3 || !printable([]byte(parts[1])) {
		return ""
	}
	return parts[1]
}

// shownUser is what the explain transcript shows of an answer to the
// Username: prompt: the decoded name, or the raw line if the client sent
// it unencoded; nothing if it is the password.
func (ss *session) shownUser(line string) string {
	if b, err := base64.StdEncoding.DecodeString(line); err == nil {
		if t, nl := trimEncodedNewline(b); nl && printable(t) && !ss.isPassword(string(t)) {
			return string(t) + " (with a newline encoded)"
		}
	}
	if b, err := base64.StdEncoding.DecodeString(line); err == nil && printable(b) {
		if string(b) == ss.sb.passwordFor(ss.p, string(b)) || ss.isPassword(string(b)) {
			return ""
		}
		return string(b)
	}
	if ss.isPassword(line) || !printable([]byte(line)) {
		return ""
	}
	return line + " (not base64)"
}

// isPassword: would s log in as somebody here? Such a value is never
// shown, in any diagnosis.
func (ss *session) isPassword(s string) bool {
	if s == "" {
		return false
	}
	if s == ss.p.Practice.Password {
		return true
	}
	for _, pass := range ss.sb.accounts {
		if s == pass {
			return true
		}
	}
	return false
}

// coachAnswer checks an answer to a 334 prompt.
func (ss *session) coachAnswer(reason, line string) {
	if line == "=" {
		return
	}
	b, err := base64.StdEncoding.DecodeString(line)
	shown := "(masked)"
	if reason == "auth_prompt_user" && !ss.isPassword(line) && printable([]byte(line)) {
		shown = fmt.Sprintf("%q", clip(line, 60))
	}
	trimmed, newline := trimEncodedNewline(b)
	switch {
	case err != nil:
		ss.diagnose("auth_not_base64", shown)
	case newline && printable(trimmed):
		what := "password"
		if reason == "auth_prompt_user" {
			what = "user name"
		}
		ss.diagnose("auth_encoded_newline", what)
	case reason == "auth_prompt_user" && !printable(b) && printable([]byte(line)):
		ss.diagnose("auth_raw_username", shown)
	}
}

// trimEncodedNewline: an answer that decodes to text and a line ending
// (Python's base64 of input() + "\n", or of a line read from a file) is
// base64 all right; the name or password it carries just ends in one.
func trimEncodedNewline(b []byte) ([]byte, bool) {
	t := bytes.TrimRight(b, "\r\n")
	return t, len(t) > 0 && len(t) < len(b)
}
