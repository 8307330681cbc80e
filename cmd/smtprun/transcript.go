package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/engine"
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
}

func newTranscript(w io.Writer, st style, quiet bool) *transcript {
	return &transcript{w: w, st: st, quiet: quiet}
}

// explain prints --explain lines under the wire line they belong to; they
// start with # like a script comment, so they read as annotations.
func (t *transcript) explain(tls bool, lines []string) {
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
		return
	}
	switch ev := ev.(type) {
	case engine.StepStarted:
		t.dataLines = 0
		if _, note := ev.Step.(*dsl.Note); note {
			return // the narration itself is shown
		}
		fmt.Fprintf(t.w, "%4d %s %s\n", ev.Step.Pos().Line, t.st.dim.Sprint("|"), t.st.step.Sprint(ev.Line))
	case engine.Connected:
		t.host, _, _ = net.SplitHostPort(ev.Address)
		if ev.Remote == ev.Address {
			t.line(false, t.st.note.Sprintf("connected to %s", ev.Address))
		} else {
			t.line(false, t.st.note.Sprintf("connected to %s (%s)", ev.Address, ev.Remote))
		}
		if t.teach != nil {
			t.teach.host = t.host
			t.explain(false, []string{"TCP is open; the server speaks first, with a 220 greeting (RFC 5321 3.1)"})
		}
	case engine.Narration:
		fmt.Fprintf(t.w, "     %s %s\n", t.st.dim.Sprint("|"), t.st.step.Sprint("==> "+ev.Text))
	case engine.Sent:
		if ev.Data {
			t.dataLines++
			if t.dataLines > maxDataLines && ev.Line != "." {
				return
			}
		}
		prefix := "C: "
		if ev.Raw {
			// Exact bytes, escaped; no CRLF was added.
			prefix = "C (raw): "
		}
		text := t.st.client.Sprint(prefix + ev.Line)
		if ev.Note != "" {
			text += t.st.note.Sprintf("   (%s)", ev.Note)
		}
		t.line(ev.TLS, text)
		if t.teach != nil {
			t.explain(ev.TLS, t.teach.sent(ev))
		}
	case engine.DataSummary:
		if ev.Binary {
			t.line(ev.TLS, t.st.note.Sprintf("message: %d bytes sent as they are (binary, BDAT), not shown", ev.Bytes))
			return
		}
		if hidden := ev.Lines - maxDataLines; hidden > 0 {
			t.line(ev.TLS, t.st.note.Sprintf("(%d more lines not shown)", hidden))
		}
		t.line(ev.TLS, t.st.note.Sprintf("message: %d lines, %d bytes on the wire", ev.Lines, ev.Bytes))
	case engine.Received:
		c := t.st.reply(ev.Reply.Code)
		for i, l := range ev.Reply.Lines {
			text := c.Sprint("S: " + l)
			if i == len(ev.Reply.Lines)-1 {
				text += t.st.note.Sprintf("   (%s)", roundDuration(ev.Elapsed))
			}
			t.line(ev.TLS, text)
		}
		if t.teach != nil {
			t.explain(ev.TLS, t.teach.received(ev))
		}
	case engine.TLSEstablished:
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
			t.explain(true, []string{"why EHLO again: the extension list before TLS travelled in clear text, where an attacker could have changed it (removed STARTTLS, altered AUTH); RFC 3207 4.2 makes both sides discard it"})
		}
	case engine.Notice:
		t.line(false, t.st.note.Sprint("note: "+ev.Text))
	case engine.ExpectPassed:
		if ev.Held != nil {
			t.line(false, t.st.note.Sprintf("checks the reply read by auth: %s", ev.Held.Summary()))
		}
	case engine.Closed:
		who := "closed"
		if ev.ByServer {
			who = "closed by the server"
		}
		t.line(false, t.st.note.Sprint("connection "+who))
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

// report prints a run error with the script line it belongs to, and the
// known-error hint for the server's reply, if there is one.
func report(w io.Writer, st style, src []byte, err error, host string) {
	var dg engine.Diagnoser
	if hints := hintsFor(err, host); len(hints) > 0 && errors.As(err, &dg) {
		d := dg.Diagnostic()
		d.Notes = append(d.Notes, hints...)
		fmt.Fprintln(w, dsl.Render(d, src, st.styler()))
		return
	}
	reportErr(w, st, src, err)
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
		if strings.Contains(msg, "context canceled") {
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
