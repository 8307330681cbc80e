package sandbox

import (
	"bytes"
	"encoding/base64"
	"fmt"
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
// that does not change between runs, credentials as ${SMTP_USER} and
// ${SMTP_PASS}. Run with `smtprun --sandbox`, it replays the session
// against the same profile.
type Recording struct {
	Conn    int64
	Profile string
	Time    time.Time // when the session started, by Options.Clock
	Script  *dsl.Script
}

// maxRecordedMessage bounds the message content a recording keeps; a
// larger message is recorded as a note. maxRecordedBytes bounds a whole
// recording (lines and messages): a client sending NOOP forever must not
// grow the server. Both come out of the sandbox's memory budget
// (Options.MaxMemoryBytes), shared with message heads, so all recordings
// together are bounded too.
const (
	maxRecordedMessage = 1 << 20
	maxRecordedBytes   = 4 << 20
)

// sessionRecorder builds a session's script as it goes.
type sessionRecorder struct {
	sb      *Sandbox
	steps   []dsl.Step
	held    int64 // bytes of the memory budget this recording holds
	stopped bool  // over its bounds: nothing more is recorded

	// An AUTH exchange in progress: its mechanism, whether every answer
	// was well formed (only then can the auth step replay it).
	inAuth     bool
	authMech   string
	authBad    bool
	authLine   string // the AUTH command, when it carried no credential
	authPrompt bool   // the server sent a 334
	// A command whose reply a compound step expects itself.
	pending string // "STARTTLS", "QUIT", "AUTH"
	// The message being received, as sent.
	data     bytes.Buffer
	dataOver bool
	inData   bool
	// Credentials seen, to replace by variables wherever they appear.
	user, pass string
}

func word(s string) dsl.Word { return dsl.Word{Text: s} }

func lit(s string) *dsl.String {
	return &dsl.String{Raw: strconv.Quote(s), Parts: []dsl.Part{{Lit: s}}}
}

// withVars is s with the session's user name and password replaced by
// ${SMTP_USER} and ${SMTP_PASS}.
func (r *sessionRecorder) withVars(s string) *dsl.String {
	out := &dsl.String{}
	for s != "" {
		i, n, v := -1, 0, ""
		for _, c := range []struct{ text, name string }{{r.pass, "SMTP_PASS"}, {r.user, "SMTP_USER"}} {
			if c.text == "" {
				continue
			}
			if j := strings.Index(s, c.text); j >= 0 && (i < 0 || j < i) {
				i, n, v = j, len(c.text), c.name
			}
		}
		if i < 0 {
			out.Parts = append(out.Parts, dsl.Part{Lit: s})
			break
		}
		if i > 0 {
			out.Parts = append(out.Parts, dsl.Part{Lit: s[:i]})
		}
		out.Parts = append(out.Parts, dsl.Part{Var: v})
		s = s[i+n:]
	}
	return out
}

func (r *sessionRecorder) add(st dsl.Step) {
	if r.stopped {
		return
	}
	r.steps = append(r.steps, st)
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
	r.add(&dsl.Note{Kw: word("note"), Text: lit("recorded: " + text)})
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
	case c.verb == smtp.CmdAUTH && !ss.lastBareLF && c.mech != "" && c.fields <= 2:
		r.inAuth, r.authMech, r.authBad, r.pending = true, c.mech, false, "AUTH"
		r.authLine, r.authPrompt = "", false
		if c.fields == 2 {
			r.authAnswer(c.response, "")
		} else {
			r.authLine = line
		}
		return
	case c.verb == smtp.CmdSTARTTLS && line == "STARTTLS" && !ss.lastBareLF:
		r.pending = "STARTTLS"
		return
	case c.verb == smtp.CmdQUIT && line == "QUIT" && !ss.lastBareLF:
		r.pending = "QUIT"
		return
	}
	if r.reserve(len(line) + 64) {
		r.sendLine(line, ss.lastBareLF, c.secret)
	}
}

func (r *sessionRecorder) sendLine(line string, bareLF, secret bool) {
	if secret {
		r.note("a line with credentials, not replayable")
		return
	}
	if bareLF || strings.ContainsFunc(line, func(c rune) bool { return c < ' ' || c == 0x7f }) || !utf8.ValidString(line) {
		end := "\r\n"
		if bareLF {
			end = "\n"
		}
		r.add(&dsl.Raw{Kw: word("raw"), Text: &dsl.String{Parts: []dsl.Part{{Lit: line + end}}, Bytes: true}})
		return
	}
	r.add(&dsl.Send{Kw: word("send"), Text: r.withVars(line)})
}

// maskLast replaces the last recorded line, which the session found to be
// a credential, by a note and the mask itself: a line the server reads as
// an unknown command, as it read the credential, so the replay keeps the
// session's shape.
func (r *sessionRecorder) maskLast() {
	if n := len(r.steps); n > 0 {
		r.steps = r.steps[:n-1]
	}
	r.note("a line that looked like a credential, sent as " + secretMask)
	r.add(&dsl.Send{Kw: word("send"), Text: lit(secretMask)})
}

// authAnswer records an answer to a 334 prompt (or an initial response):
// only whether it was well formed, and the credentials it carried.
func (r *sessionRecorder) authAnswer(line, reason string) {
	if !r.inAuth {
		return
	}
	if line == "*" {
		r.authBad = true
		return
	}
	b, err := base64.StdEncoding.DecodeString(line)
	if err != nil || line == "=" {
		r.authBad = true
		return
	}
	switch {
	case r.authMech == "PLAIN":
		if p := bytes.Split(b, []byte{0}); len(p) == 3 {
			r.user, r.pass = string(p[1]), string(p[2])
		}
	case reason == "auth_prompt_user" || reason == "" && r.authMech == "LOGIN":
		r.user = string(b)
	case reason == "auth_prompt_pass":
		r.pass = string(b)
	case reason == reasonCRAMChallenge:
		if u, _, ok := strings.Cut(string(b), " "); ok {
			r.user = u
		}
	}
}

// recordReply records a reply, or lets the compound step waiting for it
// (auth, starttls, quit) stand for it.
func (ss *session) recordReply(code int, lines []string) {
	r := ss.rec
	if r == nil {
		return
	}
	switch r.pending {
	case "AUTH":
		if code == 334 {
			r.authPrompt = true
			return
		}
		r.pending, r.inAuth = "", false
		if !r.authPrompt && r.authLine != "" {
			// Refused at once: the command alone replays it.
			r.sendLine(r.authLine, false, false)
		} else if r.authBad {
			r.note(fmt.Sprintf("an AUTH %s exchange with malformed answers, not replayable", r.authMech))
		} else {
			mech := strings.ToLower(r.authMech)
			r.add(&dsl.Auth{Kw: word("auth"), Mechanism: word(mech),
				User: &dsl.String{Parts: []dsl.Part{{Var: "SMTP_USER"}}}, Secret: &dsl.String{Parts: []dsl.Part{{Var: "SMTP_PASS"}}}})
		}
	case "STARTTLS":
		r.pending = ""
		if code == 220 {
			r.add(&dsl.StartTLS{Kw: word("starttls")})
			return
		}
		r.sendLine("STARTTLS", false, false)
	case "QUIT":
		r.pending = ""
		if code == 221 {
			r.add(&dsl.Quit{Kw: word("quit")})
			return
		}
		r.sendLine("QUIT", false, false)
	}
	if !r.reserve(64) {
		return
	}
	exp := &dsl.Expect{Kw: word("expect"), Codes: []*dsl.Code{{Word: word(strconv.Itoa(code))}}}
	if sub := distinctive(lines); sub != "" {
		exp.Match = &dsl.Matcher{Substring: lit(sub)}
	}
	r.add(exp)
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
	if r.data.Len()+len(b) > maxRecordedMessage || !r.reserve(len(b)) {
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
	if !ok || final != ".\r\n" || strings.Contains(body, `"""`) || !utf8.ValidString(body) {
		r.add(&dsl.Raw{Kw: word("raw"), Text: &dsl.String{Parts: []dsl.Part{{Lit: wire + final}}, Bytes: true}})
		return
	}
	h := r.withVars(body)
	r.add(&dsl.Message{Kw: word("message"), Inline: &dsl.Heredoc{Parts: h.Parts}})
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
