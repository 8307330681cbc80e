package present

import (
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/explain"
	"github.com/smtprun/smtprun/internal/smtp"
	"github.com/smtprun/smtprun/report"
)

// maxDataLines is how many lines of message content the transcript shows;
// the rest is summarised, so a large `message file` stays readable.
const maxDataLines = 40

// Transcript renders engine events as the conversation:
//
//	14 | send "EHLO laptop"
//	   | tls  C: EHLO laptop
//
// The gutter holds the script line number; "tls" marks lines that
// travelled encrypted.
type Transcript struct {
	w         io.Writer
	st        Style
	quiet     bool
	dataLines int
	// Host is the host of the latest connect, for the failure's hints.
	Host string
	// Teach is set with --explain.
	Teach *Teacher
	// Main is the script run; file the one the last step came from, so
	// the gutter's line numbers say which file they count in once an
	// include brings in steps from another.
	Main, file string
}

// NewTranscript writes to w in st; quiet shows nothing but what the
// failure report needs.
func NewTranscript(w io.Writer, st Style, quiet bool) *Transcript {
	return &Transcript{w: w, st: st, quiet: quiet}
}

// explain prints --explain lines under the wire line they belong to; they
// start with # like a script comment, so they read as annotations.
func (t *Transcript) explain(lines []string) {
	for _, l := range lines {
		t.line(false, t.st.Note.Sprint("    # "+l))
	}
}

func (t *Transcript) line(tls bool, text string) {
	mark := "    "
	if tls {
		mark = "tls "
	}
	fmt.Fprintf(t.w, "     %s %s %s\n", t.st.Dim.Sprint("|"), t.st.Dim.Sprint(mark), text)
}

// note prints a line of smtprun's own, such as what the sandbox supplied.
func (t *Transcript) Note(text string) {
	if !t.quiet {
		fmt.Fprintln(t.w, t.st.Note.Sprint(text))
	}
}

// Event implements engine.Observer.
func (t *Transcript) Event(ev engine.Event) {
	if t.quiet {
		// The failure RenderFailure still names the provider's hints.
		if c, ok := ev.(engine.Connected); ok {
			t.Host, _, _ = net.SplitHostPort(c.Address)
		}
		return
	}
	switch ev := ev.(type) {
	case engine.StepStarted:
		t.stepStarted(ev)
	case engine.Connected:
		t.connected(ev)
	case engine.Narration:
		fmt.Fprintf(t.w, "     %s %s\n", t.st.Dim.Sprint("|"), t.st.Step.Sprint("==> "+ev.Text))
	case engine.Sent:
		t.sent(ev)
	case engine.DataSummary:
		t.dataSummary(ev)
	case engine.Received:
		t.received(ev)
	case engine.TLSEstablished:
		t.tlsEstablished(ev)
	case engine.Notice:
		text, _ := explain.Help(string(ev.Code))
		t.line(false, t.st.Note.Sprint("note: "+text))
	case engine.ExpectPassed:
		if ev.Held != nil {
			t.line(false, t.st.Note.Sprintf("checks the reply read by auth: %s", ev.Held.Summary()))
		}
	case engine.Captured:
		t.line(false, t.st.Note.Sprintf("captured %s = %s", ev.Name, ev.Value))
	case engine.OAuthRefused:
		t.line(false, t.st.Note.Sprintf("the 334 decodes to %s: the server refused the OAuth token (status %s)", ev.JSON, ev.Status))
	case engine.Closed:
		who := "closed"
		if ev.ByServer {
			who = "closed by the server"
		}
		t.line(false, t.st.Note.Sprint("connection "+who))
	}
}

func (t *Transcript) stepStarted(ev engine.StepStarted) {
	t.dataLines = 0
	if ev.Kind == "note" {
		return // the narration itself is shown
	}
	t.fileChange(ev.Pos.Filename)
	fmt.Fprintf(t.w, "%4d %s %s\n", ev.Pos.Line, t.st.Dim.Sprint("|"), t.st.Step.Sprint(ev.Source))
}

// fileChange notes the file steps now come from, when includes are in play.
func (t *Transcript) fileChange(file string) {
	if t.Main == "" || file == "" {
		return
	}
	if t.file == "" {
		t.file = t.Main
	}
	if file != t.file {
		t.file = file
		fmt.Fprintf(t.w, "     %s %s\n", t.st.Dim.Sprint("|"), t.st.Note.Sprint("in "+smtp.Escape([]byte(file))+":"))
	}
}

func (t *Transcript) connected(ev engine.Connected) {
	t.Host, _, _ = net.SplitHostPort(ev.Address)
	switch {
	case ev.Via != "" && ev.Remote != ev.Via:
		t.line(false, t.st.Note.Sprintf("connected to %s via %s (%s)", ev.Address, ev.Via, ev.Remote))
	case ev.Via != "":
		t.line(false, t.st.Note.Sprintf("connected to %s via %s", ev.Address, ev.Via))
	case ev.Remote == ev.Address:
		t.line(false, t.st.Note.Sprintf("connected to %s", ev.Address))
	default:
		t.line(false, t.st.Note.Sprintf("connected to %s (%s)", ev.Address, ev.Remote))
	}
	if t.Teach != nil {
		t.Teach.host = t.Host
		t.explain(helpLines("explain-connected"))
	}
}

// roleNotes are the words the Transcript puts after a line whose role is
// not plain: what an AUTH response carries, what a line does.
var roleNotes = map[engine.Role]string{
	engine.RoleUsername:        "username, base64",
	engine.RolePassword:        "password, base64, masked",
	engine.RoleCredentials:     "base64 of NUL user NUL password, masked",
	engine.RoleDigest:          "base64 of user and HMAC-MD5 digest, masked",
	engine.RoleCancel:          "cancels the exchange",
	engine.RoleQuitOnInterrupt: "interrupted",
	engine.RoleEndOfData:       "end of data",
	engine.RoleToken:           "base64 of user and OAuth bearer token, masked",
	engine.RoleAcknowledge:     "acknowledges the OAuth error (empty line, or base64 of ^A) so the server sends its final reply",
}

func (t *Transcript) sent(ev engine.Sent) {
	if ev.Role == engine.RoleContent || ev.Role == engine.RoleEndOfData {
		t.dataLines++
		if t.dataLines > maxDataLines && ev.Role != engine.RoleEndOfData {
			return
		}
	}
	prefix := "C: "
	if ev.Role == engine.RoleRaw {
		// Exact bytes, escaped; no CRLF was added.
		prefix = "C (raw): "
	}
	text := t.st.Client.Sprint(prefix + ev.Line)
	if note := roleNotes[ev.Role]; note != "" {
		text += t.st.Note.Sprintf("   (%s)", note)
	}
	t.line(ev.TLS, text)
	if t.Teach != nil {
		t.explain(t.Teach.sent(ev))
	}
}

func (t *Transcript) dataSummary(ev engine.DataSummary) {
	if ev.Binary {
		t.line(ev.TLS, t.st.Note.Sprintf("message: %d bytes sent as they are (binary, BDAT), not shown", ev.Bytes))
		return
	}
	if hidden := ev.Lines - maxDataLines; hidden > 0 {
		t.line(ev.TLS, t.st.Note.Sprintf("(%d more lines not shown)", hidden))
	}
	t.line(ev.TLS, t.st.Note.Sprintf("message: %d lines, %d bytes on the wire", ev.Lines, ev.Bytes))
}

func (t *Transcript) received(ev engine.Received) {
	c := t.st.Reply(ev.Reply.Code)
	for i, l := range ev.Reply.Lines {
		text := c.Sprint("S: " + l)
		if i == len(ev.Reply.Lines)-1 {
			text += t.st.Note.Sprintf("   (%s)", report.ShortDuration(ev.Elapsed()))
		}
		t.line(ev.TLS, text)
	}
	if t.Teach != nil {
		t.explain(t.Teach.received(ev))
	}
}

func (t *Transcript) tlsEstablished(ev engine.TLSEstablished) {
	verified := fmt.Sprintf("certificate verified for %s", ev.ServerName)
	if !ev.Verified {
		verified = "certificate NOT verified (--insecure)"
	}
	kind := "STARTTLS"
	if ev.Implicit {
		kind = "implicit TLS"
	}
	t.line(true, t.st.Note.Sprintf("%s: %s established (%s), %s", kind, ev.Version, ev.CipherSuite, verified))
	if t.Teach != nil && !ev.Implicit {
		t.explain(helpLines("explain-ehlo-again"))
	}
}

// Finish ends the transcript of a run that held with its tally.
func (t *Transcript) Finish(res engine.Result, err error) {
	if t.quiet || err != nil {
		return
	}
	fmt.Fprintf(t.w, "%s %s, %s, %s in %s\n", t.st.Server2.Sprint("ok:"),
		plural(res.Steps, "step"), plural(res.Replies, "reply"), plural(res.Messages, "message"), report.ShortDuration(res.Duration))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}
