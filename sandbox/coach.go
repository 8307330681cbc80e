package sandbox

import (
	_ "embed"
	"encoding/base64"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
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
// {detail} to fill in), the RFC section, and what a correct client sends.
type Advice struct {
	Rule    string `yaml:"rule"`
	Say     string `yaml:"say"`
	RFC     string `yaml:"rfc"`
	Instead string `yaml:"instead"`
}

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
		m[a.Rule] = a
	}
	return m
})

// AdviceFor returns the advice for a Diagnosis rule.
func AdviceFor(rule string) (Advice, bool) {
	a, ok := coachAdvice()[rule]
	return a, ok
}

// Diagnosis is one mistake the coach saw. Detail fills the advice's
// {detail}; it never holds a credential.
type Diagnosis struct {
	Rule   string
	Detail string
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
// it did it, and how often it made each mistake.
type ReportCard struct {
	Good     []string       // "STARTTLS", "EHLO again after STARTTLS", ...
	Mistakes map[string]int // rule -> count
}

// Rules returns the mistakes' rules, sorted.
func (r *ReportCard) Rules() []string {
	var rules []string
	for k := range r.Mistakes {
		rules = append(rules, k)
	}
	sort.Strings(rules)
	return rules
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
	reported map[string]bool // rules said once per session

	sawStartTLS   bool // STARTTLS done, EHLO not yet repeated
	quit          bool // the client sent QUIT
	delivered     int
	pipelining    bool   // the last EHLO reply announced PIPELINING
	announced     string // the last EHLO reply's keywords, space separated
	body8bit      bool   // this transaction's MAIL said BODY=8BITMIME or SMTPUTF8
	verb          string // the command being answered
	authAftermath int    // lines after a failed AUTH exchange in which base64 lines are credentials
}

func (ss *session) diagnose(rule, detail string) {
	if !ss.co.on {
		return
	}
	if ss.co.mistakes == nil {
		ss.co.mistakes = map[string]int{}
	}
	ss.co.mistakes[rule]++
	e := ss.event(DiagnosisMade, "")
	e.Diagnosis = &Diagnosis{Rule: rule, Detail: detail}
	ss.sb.observe(e)
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
		ss.co.mistakes[rule]++
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
	}
	if ss.co.on && !slices.Contains(ss.co.good, what) {
		ss.co.good = append(ss.co.good, what)
	}
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
	e.Report = &ReportCard{Good: good, Mistakes: ss.co.mistakes}
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
	case reason == "starttls" || reason == "greeting" || code == 221 || code == 421:
		// The greeting: pregreet has looked.
		// STARTTLS: the discarded bytes are reported by cmdStartTLS.
	case reason == "data_ok" && ss.nextVerb() == smtp.CmdQUIT:
		ss.diagnose("quit_before_confirm", "")
	case !ss.co.pipelining:
		ss.diagnose("pipelined_unannounced", ss.earlyBytes())
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
	what := verb + " " + arg[:len(prefix)]
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

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// coachCommand checks a command line as the session is about to act on it.
func (ss *session) coachCommand(verb, arg string) {
	ss.co.verb = verb
	if !ss.co.on {
		return
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
	switch {
	case err != nil:
		ss.diagnose("auth_not_base64", shown)
	case reason == "auth_prompt_user" && !printable(b) && printable([]byte(line)):
		ss.diagnose("auth_raw_username", shown)
	}
}
