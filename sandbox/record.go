package sandbox

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/internal/smtp"
)

// Recording is one finished session as a script (Options.Record): the
// client's lines as send (or message, or raw where its bytes cannot be
// written otherwise), each reply as expect with its code and a substring
// that does not change between runs. Credentials appear only in the AUTH
// exchange, as ${SMTP_USER} and ${SMTP_PASS} in an auth step; an exchange
// the auth step cannot replay (malformed answers, a refusal before the
// credentials were checked) is recorded line by line, with stand-ins that
// get the same replies and hold no credential. Run with `smtprun
// --sandbox`, it replays the session against the same profile.
type Recording struct {
	Conn    int64
	Profile string
	Time    time.Time // when the session started, by Options.Clock
	Script  *dsl.Script
}

// maxRecordedMessage bounds the message content a recording keeps; a
// larger message is recorded as a note. maxRecordedBytes bounds a whole
// recording (lines and messages, as the memory its steps take): a client
// sending NOOP forever must not grow the server. Both come out of the
// sandbox's memory budget (Options.MaxMemoryBytes), shared with message
// heads, so all recordings together are bounded too.
const (
	maxRecordedMessage = 1 << 20
	maxRecordedBytes   = 4 << 20
)

// stepHeap is what one recorded step holds on the heap besides its text:
// the step, its words and strings with their positions, and its share of
// the step list (measured by TestRecordMemoryAccounted: a send and its
// expect hold about 1.2 KB; counting 64 bytes each once let 20 clients
// with 40,000 NOOPs take 660 MB).
const stepHeap = 640

// sessionRecorder builds a session's script as it goes.
type sessionRecorder struct {
	sb      *Sandbox
	steps   []dsl.Step
	held    int64 // bytes of the memory budget this recording holds
	stopped bool  // over its bounds: nothing more is recorded

	// An AUTH exchange in progress: its mechanism, whether every answer
	// could be decoded (only then can the auth step replay it), and the
	// exchange line by line with stand-ins, for when it cannot.
	inAuth     bool
	authMech   string
	authBad    bool
	authBareLF bool
	authSteps  []dsl.Step
	// A command whose reply a compound step expects itself.
	pending string // "STARTTLS", "QUIT", "AUTH"
	// The message being received, as sent.
	data     bytes.Buffer
	dataOver bool
	inData   bool
}

func word(s string) dsl.Word { return dsl.Word{Text: s} }

func lit(s string) *dsl.String {
	return &dsl.String{Raw: strconv.Quote(s), Parts: []dsl.Part{{Lit: s}}}
}

func variable(name string) *dsl.String {
	return &dsl.String{Parts: []dsl.Part{{Var: name}}}
}

// add appends a step whose text is size bytes, if the recording's bounds
// allow it.
func (r *sessionRecorder) add(st dsl.Step, size int) {
	if r.reserve(stepHeap + 2*size) {
		r.steps = append(r.steps, st)
	}
}

// reserve takes n bytes for the recording from its own bound and the
// sandbox's memory budget; past either, the recording stops with a note.
func (r *sessionRecorder) reserve(n int) bool {
	if r.stopped {
		return false
	}
	if r.held+int64(n) > r.sb.recordBound || !r.sb.reserveMemory(int64(n)) {
		r.steps = append(r.steps, &dsl.Note{Kw: word("note"), Text: lit("recorded: the rest of the session, over the recording's memory bound")})
		r.stopped = true
		return false
	}
	r.held += int64(n)
	return true
}

// release gives the recording's memory back.
func (r *sessionRecorder) release() {
	r.sb.memoryInUse.Add(-r.held)
	r.held = 0
}

func (r *sessionRecorder) note(text string) {
	r.add(&dsl.Note{Kw: word("note"), Text: lit("recorded: " + text)}, len(text))
}

// recordLine records a command line as the session read it.
func (ss *session) recordLine(line string, total int) {
	r := ss.rec
	if r == nil {
		return
	}
	if total > len(line) {
		r.note(fmt.Sprintf("a command line of %d bytes, too long to record", total))
		return
	}
	c := parseCommand(line)
	switch {
	case c.verb == smtp.CmdAUTH && c.mech != "":
		r.inAuth, r.authMech, r.authBad, r.pending = true, c.mech, false, "AUTH"
		r.authBareLF, r.authSteps = ss.lastBareLF, nil
		cmd := "AUTH " + c.mech
		switch {
		case c.fields == 2:
			cmd += " " + r.authAnswer(c.response, "", false)
		case c.fields > 2:
			cmd += strings.Repeat(" "+standInUser, c.fields-1)
			r.authBad = true
		}
		r.authSteps = append(r.authSteps, lineStep(cmd, ss.lastBareLF))
		return
	case c.verb == smtp.CmdSTARTTLS && strings.TrimSpace(c.arg) == "" && strings.EqualFold(strings.TrimSpace(line), "STARTTLS"):
		if ss.lastBareLF {
			r.note("STARTTLS ended with a bare LF; the starttls step sends it with CRLF")
		}
		r.pending = "STARTTLS"
		return
	case c.verb == smtp.CmdQUIT && line == "QUIT" && !ss.lastBareLF:
		r.pending = "QUIT"
		return
	}
	if c.secret {
		// An AUTH line without a mechanism the parser knows, yet masked.
		r.add(lineStep("AUTH", ss.lastBareLF), 4)
		return
	}
	r.add(lineStep(line, ss.lastBareLF), len(line))
}

// lineStep is a command line as a send step, or raw where its bytes need
// it (a bare LF, control characters, invalid UTF-8).
func lineStep(line string, bareLF bool) dsl.Step {
	if bareLF || strings.ContainsFunc(line, func(c rune) bool { return c < ' ' || c == 0x7f }) || !utf8.ValidString(line) {
		end := "\r\n"
		if bareLF {
			end = "\n"
		}
		return &dsl.Raw{Kw: word("raw"), Text: &dsl.String{Parts: []dsl.Part{{Lit: line + end}}, Bytes: true}}
	}
	return &dsl.Send{Kw: word("send"), Text: lit(line)}
}

// maskLast replaces the last recorded line, which the session found to be
// a credential, by a note and the mask itself: a line the server reads as
// an unknown command, as it read the credential, so the replay keeps the
// session's shape.
func (r *sessionRecorder) maskLast() {
	if n := len(r.steps); n > 0 && !r.stopped {
		r.steps = r.steps[:n-1]
	}
	r.note("a line that looked like a credential, sent as " + secretMask)
	r.add(&dsl.Send{Kw: word("send"), Text: lit(secretMask)}, len(secretMask))
}

// Stand-ins for credentials in an AUTH exchange recorded line by line:
// values that get the same replies from the sandbox (which takes any user
// name) and say nothing of the real ones.
const (
	standInUser     = "dXNlckBleGFtcGxlLm9yZw==" // base64("user@example.org")
	standInNotB64   = "not-base64!"
	standInPassword = "recorded-stand-in"
)

// authAnswer records an answer to a 334 prompt (or an initial response):
// whether it could be decoded, and a stand-in for it, which it returns.
func (r *sessionRecorder) authAnswer(line, reason string, bareLF bool) string {
	if !r.inAuth {
		return ""
	}
	r.authBareLF = r.authBareLF || bareLF
	standIn := line
	switch b, err := base64.StdEncoding.DecodeString(line); {
	case line == "*" || line == "=":
	case err != nil:
		r.authBad = true
		standIn = standInNotB64
	case r.authMech == "PLAIN" || r.authMech == "XOAUTH2" || r.authMech == "OAUTHBEARER":
		// The layout decides the reply (fields, NUL bytes): keep it,
		// with every field a stand-in.
		sep := []byte{0}
		if r.authMech != "PLAIN" {
			sep = []byte{1}
		}
		parts := bytes.Split(b, sep)
		for i := range parts {
			if len(parts[i]) > 0 {
				parts[i] = []byte("x")
			}
		}
		standIn = base64.StdEncoding.EncodeToString(bytes.Join(parts, sep))
	default:
		standIn = standInUser
	}
	if reason != "" {
		r.authSteps = append(r.authSteps, lineStep(standIn, bareLF))
	}
	return standIn
}

// authVerdicts are the replies to an AUTH exchange that was carried to its
// end: the auth step replays those (any other refusal came before the
// credentials were looked at).
var authVerdicts = map[string]bool{"auth_ok": true, "auth_failed": true}

// recordReply records a reply, or lets the compound step waiting for it
// (auth, starttls, quit) stand for it.
func (ss *session) recordReply(code int, lines []string, reason string) {
	r := ss.rec
	if r == nil {
		return
	}
	switch r.pending {
	case "AUTH":
		if code == 334 {
			r.authSteps = append(r.authSteps, &dsl.Expect{Kw: word("expect"), Codes: []*dsl.Code{{Word: word("334")}}})
			return
		}
		r.pending, r.inAuth = "", false
		mech := strings.ToLower(r.authMech)
		switch {
		case r.authBad || !authVerdicts[reason] && !(ss.sc != nil && reason == ss.sc.Name) || !slices.Contains(dsl.Mechanisms(), mech):
			if r.authBad {
				r.note(fmt.Sprintf("an AUTH %s exchange with answers that are not base64; credentials replaced by stand-ins that get the same replies", r.authMech))
			}
			for _, st := range r.authSteps {
				r.add(st, 64)
			}
		default:
			if r.authBareLF {
				r.note("the AUTH lines ended with a bare LF; the auth step sends CRLF")
			}
			secret := variable("SMTP_PASS")
			if reason == "auth_failed" {
				r.note("a login with a wrong password, replayed with a stand-in")
				secret = lit(standInPassword)
			}
			r.add(&dsl.Auth{Kw: word("auth"), Mechanism: word(mech), User: variable("SMTP_USER"), Secret: secret}, 64)
		}
		r.authSteps = nil
	case "STARTTLS":
		r.pending = ""
		if code == 220 {
			r.add(&dsl.StartTLS{Kw: word("starttls")}, 0)
			return
		}
		r.add(lineStep("STARTTLS", ss.lastBareLF), 8)
	case "QUIT":
		r.pending = ""
		if code == 221 {
			r.add(&dsl.Quit{Kw: word("quit")}, 0)
			return
		}
		r.add(lineStep("QUIT", false), 4)
	}
	exp := &dsl.Expect{Kw: word("expect"), Codes: []*dsl.Code{{Word: word(strconv.Itoa(code))}}}
	sub := distinctive(lines)
	if sub != "" {
		exp.Match = &dsl.Matcher{Substring: lit(sub)}
	}
	r.add(exp, len(sub))
}

// distinctive picks a substring of a reply that the same server says the
// same way next time: EHLO's STARTTLS or AUTH keyword, else the first
// line's leading words without digits (queue IDs, dates and session IDs
// have them).
func distinctive(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	if len(lines) > 1 {
		for _, kw := range []string{"STARTTLS", "AUTH"} {
			for _, l := range lines[1:] {
				if len(l) > 4 && strings.HasPrefix(strings.ToUpper(l[4:]), kw) {
					return kw
				}
			}
		}
	}
	first := lines[0]
	if len(first) <= 4 {
		return ""
	}
	f := strings.Fields(first[4:])
	if len(f) > 0 {
		if _, err := smtp.ParseEnhancedCode(f[0]); err == nil {
			f = f[1:]
		}
	}
	var keep []string
	for _, w := range f {
		if strings.ContainsAny(w, "0123456789<>[]()\"\\${}") || len(keep) == 4 {
			break
		}
		keep = append(keep, w)
	}
	return strings.Join(keep, " ")
}

// recordData records the message's bytes as sent (dot-stuffed, with their
// line endings), up to maxRecordedMessage.
func (r *sessionRecorder) recordData(b []byte) {
	r.inData = true
	if r.dataOver {
		return
	}
	if r.data.Len()+len(b) > maxRecordedMessage || !r.reserve(2*len(b)) {
		r.dataOver = true
		return
	}
	r.data.Write(b)
}

// endData turns the message into a message step, or a raw one when its
// bytes cannot be written as a heredoc (bare CR or LF, """).
func (r *sessionRecorder) endData(final string) {
	r.inData = false
	defer r.data.Reset()
	if r.dataOver {
		r.dataOver = false
		r.note(fmt.Sprintf("a message over %d bytes, not recorded", maxRecordedMessage))
		return
	}
	wire := r.data.String()
	body, ok := unstuff(wire)
	// The message's bytes were reserved as they arrived (twice: the
	// buffer, then the step's copy).
	if !ok || final != ".\r\n" || strings.Contains(body, `"""`) || !utf8.ValidString(body) {
		r.add(&dsl.Raw{Kw: word("raw"), Text: &dsl.String{Parts: []dsl.Part{{Lit: wire + final}}, Bytes: true}}, 0)
		return
	}
	r.add(&dsl.Message{Kw: word("message"), Inline: &dsl.Heredoc{Parts: []dsl.Part{{Lit: body}}}}, 0)
}

// unstuff turns CRLF-ended, dot-stuffed lines into the message step's
// LF-ended text; false if any line ending is not CRLF or a CR stands alone.
func unstuff(wire string) (string, bool) {
	if wire == "" {
		return "", true
	}
	if !strings.HasSuffix(wire, "\r\n") {
		return "", false
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(wire, "\r\n") {
		if line == "" {
			continue
		}
		text := strings.TrimSuffix(line, "\r\n")
		if strings.ContainsAny(text, "\r\n") {
			return "", false
		}
		text = strings.TrimPrefix(text, ".")
		b.WriteString(text)
		b.WriteByte('\n')
	}
	return b.String(), true
}

// finishRecording hands the script to Options.Record.
func (ss *session) finishRecording() {
	r := ss.rec
	if r == nil || ss.sb.opts.Record == nil {
		return
	}
	defer r.release()
	if r.inData {
		r.endData("")
	}
	if r.inAuth {
		// The client left in the middle of an AUTH exchange.
		for _, st := range r.authSteps {
			r.add(st, 64)
		}
	}
	port := map[Mode]int{Submission: 587, ImplicitTLS: 465, Relay: 25}[ss.mode]
	steps := []dsl.Step{&dsl.Connect{Kw: word("connect"), Address: lit(fmt.Sprintf("%s:%d", ss.host, port))}}
	if ss.mode == ImplicitTLS {
		steps[0].(*dsl.Connect).TLS = &dsl.Word{Text: "tls"}
	}
	steps = append(steps, r.steps...)
	if !ss.co.quit && ss.vanished {
		steps = append(steps, &dsl.Note{Kw: word("note"), Text: lit("recorded: the client closed the connection without QUIT")})
	}
	ss.sb.opts.Record(&Recording{Conn: ss.id, Profile: ss.p.Name, Time: ss.started, Script: &dsl.Script{Steps: steps}})
}
