package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
	"github.com/smtprun/smtprun/explain"
)

// maxDataLines is how many lines of message content the transcript shows;
// the rest is summarised, so a large `message file` stays readable.
const maxDataLines = 40

// transcript renders engine events as the conversation:
//
//	14 | send "EHLO laptop"
//	   | tls  C: EHLO laptop
//
// The gutter holds the script line number; "tls" marks lines that
// travelled encrypted.
type transcript struct {
	w         io.Writer
	st        style
	quiet     bool
	dataLines int
	host      string   // the host of the latest connect, for hints
	teach     *teacher // set with --explain
	// main is the script run; file the one the last step came from, so
	// the gutter's line numbers say which file they count in once an
	// include brings in steps from another.
	main, file string
}

func newTranscript(w io.Writer, st style, quiet bool) *transcript {
	return &transcript{w: w, st: st, quiet: quiet}
}

// explain prints --explain lines under the wire line they belong to; they
// start with # like a script comment, so they read as annotations.
func (t *transcript) explain(lines []string) {
	for _, l := range lines {
		t.line(false, t.st.note.Sprint("    # "+l))
	}
}

func (t *transcript) line(tls bool, text string) {
	mark := "    "
	if tls {
		mark = "tls "
	}
	fmt.Fprintf(t.w, "     %s %s %s\n", t.st.dim.Sprint("|"), t.st.dim.Sprint(mark), text)
}

// note prints a line of smtprun's own, such as what the sandbox supplied.
func (t *transcript) note(text string) {
	if !t.quiet {
		fmt.Fprintln(t.w, t.st.note.Sprint(text))
	}
}

// Event implements engine.Observer.
func (t *transcript) Event(ev engine.Event) {
	if t.quiet {
		// The failure report still names the provider's hints.
		if c, ok := ev.(engine.Connected); ok {
			t.host, _, _ = net.SplitHostPort(c.Address)
		}
		return
	}
	switch ev := ev.(type) {
	case engine.StepStarted:
		t.stepStarted(ev)
	case engine.Connected:
		t.connected(ev)
	case engine.Narration:
		fmt.Fprintf(t.w, "     %s %s\n", t.st.dim.Sprint("|"), t.st.step.Sprint("==> "+ev.Text))
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
		t.line(false, t.st.note.Sprint("note: "+text))
	case engine.ExpectPassed:
		if ev.Held != nil {
			t.line(false, t.st.note.Sprintf("checks the reply read by auth: %s", ev.Held.Summary()))
		}
	case engine.Captured:
		t.line(false, t.st.note.Sprintf("captured %s = %s", ev.Name, ev.Value))
	case engine.OAuthRefused:
		t.line(false, t.st.note.Sprintf("the 334 decodes to %s: the server refused the OAuth token (status %s)", ev.JSON, ev.Status))
	case engine.Closed:
		who := "closed"
		if ev.ByServer {
			who = "closed by the server"
		}
		t.line(false, t.st.note.Sprint("connection "+who))
	}
}

func (t *transcript) stepStarted(ev engine.StepStarted) {
	t.dataLines = 0
	if ev.Kind == "note" {
		return // the narration itself is shown
	}
	t.fileChange(ev.Pos.Filename)
	fmt.Fprintf(t.w, "%4d %s %s\n", ev.Pos.Line, t.st.dim.Sprint("|"), t.st.step.Sprint(ev.Source))
}

// fileChange notes the file steps now come from, when includes are in play.
func (t *transcript) fileChange(file string) {
	if t.main == "" || file == "" {
		return
	}
	if t.file == "" {
		t.file = t.main
	}
	if file != t.file {
		t.file = file
		fmt.Fprintf(t.w, "     %s %s\n", t.st.dim.Sprint("|"), t.st.note.Sprint("in "+escName(file)+":"))
	}
}

func (t *transcript) connected(ev engine.Connected) {
	t.host, _, _ = net.SplitHostPort(ev.Address)
	switch {
	case ev.Via != "" && ev.Remote != ev.Via:
		t.line(false, t.st.note.Sprintf("connected to %s via %s (%s)", ev.Address, ev.Via, ev.Remote))
	case ev.Via != "":
		t.line(false, t.st.note.Sprintf("connected to %s via %s", ev.Address, ev.Via))
	case ev.Remote == ev.Address:
		t.line(false, t.st.note.Sprintf("connected to %s", ev.Address))
	default:
		t.line(false, t.st.note.Sprintf("connected to %s (%s)", ev.Address, ev.Remote))
	}
	if t.teach != nil {
		t.teach.host = t.host
		t.explain(helpLines("explain-connected"))
	}
}

// roleNotes are the words the transcript puts after a line whose role is
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

func (t *transcript) sent(ev engine.Sent) {
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
	text := t.st.client.Sprint(prefix + ev.Line)
	if note := roleNotes[ev.Role]; note != "" {
		text += t.st.note.Sprintf("   (%s)", note)
	}
	t.line(ev.TLS, text)
	if t.teach != nil {
		t.explain(t.teach.sent(ev))
	}
}

func (t *transcript) dataSummary(ev engine.DataSummary) {
	if ev.Binary {
		t.line(ev.TLS, t.st.note.Sprintf("message: %d bytes sent as they are (binary, BDAT), not shown", ev.Bytes))
		return
	}
	if hidden := ev.Lines - maxDataLines; hidden > 0 {
		t.line(ev.TLS, t.st.note.Sprintf("(%d more lines not shown)", hidden))
	}
	t.line(ev.TLS, t.st.note.Sprintf("message: %d lines, %d bytes on the wire", ev.Lines, ev.Bytes))
}

func (t *transcript) received(ev engine.Received) {
	c := t.st.reply(ev.Reply.Code)
	for i, l := range ev.Reply.Lines {
		text := c.Sprint("S: " + l)
		if i == len(ev.Reply.Lines)-1 {
			text += t.st.note.Sprintf("   (%s)", roundDuration(ev.Elapsed()))
		}
		t.line(ev.TLS, text)
	}
	if t.teach != nil {
		t.explain(t.teach.received(ev))
	}
}

func (t *transcript) tlsEstablished(ev engine.TLSEstablished) {
	verified := fmt.Sprintf("certificate verified for %s", ev.ServerName)
	if !ev.Verified {
		verified = "certificate NOT verified (--insecure)"
	}
	kind := "STARTTLS"
	if ev.Implicit {
		kind = "implicit TLS"
	}
	t.line(true, t.st.note.Sprintf("%s: %s established (%s), %s", kind, ev.Version, ev.CipherSuite, verified))
	if t.teach != nil && !ev.Implicit {
		t.explain(helpLines("explain-ehlo-again"))
	}
}

// roundDuration keeps timings short: 41ms, 1.2s, 350µs.
func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}

func (t *transcript) finish(res engine.Result, err error) {
	if t.quiet || err != nil {
		return
	}
	fmt.Fprintf(t.w, "%s %s, %s, %s in %s\n", t.st.server2.Sprint("ok:"),
		plural(res.Steps, "step"), plural(res.Replies, "reply"), plural(res.Messages, "message"), roundDuration(res.Duration))
}

// report prints a run error with the script line it belongs to, the help
// for its kind, and the known-error hint for the server's reply, if any.
// extra notes (where an included step came from) follow the help.
func report(w io.Writer, st style, src []byte, err error, host string, extra ...string) {
	var (
		de *dsl.Error
		dl dsl.ErrorList
		dg engine.Diagnoser
	)
	var d *dsl.Error
	switch {
	case errors.As(err, &dl):
	case errors.As(err, &de):
		// A script error found at run time may have help too.
		c := *de
		c.Notes = slices.Clone(de.Notes)
		d = &c
	case errors.As(err, &dg):
		d = dg.Diagnostic()
	}
	if d != nil {
		d.Notes = append(iterationNotes(err), d.Notes...)
		if h := helpFor(err); h != "" {
			d.Notes = append(d.Notes, "help: "+h)
		}
		d.Notes = append(d.Notes, hintsFor(err, host)...)
		d.Notes = append(d.Notes, extra...)
		fmt.Fprintln(w, dsl.Render(d, src, st.styler()))
		return
	}
	reportErr(w, st, src, err)
}

// iterationNotes say in which iteration of each enclosing repeat block
// an error happened, outermost first.
func iterationNotes(err error) []string {
	var notes []string
	for it := (*engine.IterationError)(nil); errors.As(err, &it); err = it.Err {
		notes = append(notes, fmt.Sprintf("note: in iteration %d of %d of the repeat on line %d", it.Iteration, it.Count, it.Block.Pos().Line))
	}
	return notes
}

func reportErr(w io.Writer, st style, src []byte, err error) {
	var (
		de *dsl.Error
		dl dsl.ErrorList
		dg engine.Diagnoser
	)
	switch {
	case errors.As(err, &dl):
		for _, e := range dl {
			fmt.Fprintln(w, dsl.Render(e, src, st.styler()))
		}
	case errors.As(err, &de):
		fmt.Fprintln(w, dsl.Render(de, src, st.styler()))
	case errors.As(err, &dg):
		fmt.Fprintln(w, dsl.Render(dg.Diagnostic(), src, st.styler()))
	default:
		msg := err.Error()
		if errors.Is(err, context.Canceled) {
			msg = "interrupted"
		}
		fmt.Fprintf(w, "%s\n", st.errTitle.Sprint("error: "+msg))
	}
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
