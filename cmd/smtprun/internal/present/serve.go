package present

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/smtprun/smtprun/explain"
	"github.com/smtprun/smtprun/sandbox"
)

// ServeLog prints the server side of every conversation, each line with
// the time and the connection number, so interleaved clients stay
// readable and a line can be matched with a client's own log:
//
//	18:04:05.123 [1] C: EHLO client.example
//
// The time is the local time of day to the millisecond (Go's layout
// TimeFormat), as Postfix's log stamps each line with the local time.
type ServeLog struct {
	mu      sync.Mutex
	w       io.Writer
	st      Style
	explain bool
	// Now is the clock; tests set it to keep their output stable.
	Now func() time.Time
}

// TimeFormat is the layout of the time at the start of each line.
const TimeFormat = "15:04:05.000"

// NewServeLog prints to w in st; with explain the client's lines are
// annotated.
func NewServeLog(w io.Writer, st Style, explain bool) *ServeLog {
	return &ServeLog{w: w, st: st, explain: explain, Now: time.Now}
}

// Note prints a line of smtprun's own about connection conn.
func (l *ServeLog) Note(conn int64, text string) {
	l.Printf("%s %s\n", l.st.Dim.Sprintf("[%d]", conn), l.st.Note.Sprint(text))
}

// Printf prints lines of the log, each after the time.
func (l *ServeLog) Printf(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	stamp := l.st.Dim.Sprint(l.Now().Format(TimeFormat)) + " "
	text := fmt.Sprintf(format, a...)
	end := strings.HasSuffix(text, "\n")
	text = stamp + strings.ReplaceAll(strings.TrimSuffix(text, "\n"), "\n", "\n"+stamp)
	if end {
		text += "\n"
	}
	io.WriteString(l.w, text)
}

// Event prints one sandbox event; it is the sandbox's Observer.
func (l *ServeLog) Event(e sandbox.Event) {
	tag := l.st.Dim.Sprintf("[%d]", e.Conn)
	var text string
	// Everything a client controls is escaped (sandbox.EscapeLine): its
	// lines, the replies that echo them, the errors that quote them.
	esc := sandbox.EscapeLine
	switch e.Kind {
	case sandbox.ConnOpened:
		text = l.st.Note.Sprintf("%s connected: %s", esc(e.Remote), esc(e.Line))
	case sandbox.LineReceived:
		// The sandbox has masked a credential already (Event.Secret).
		line := "C: " + esc(e.Line)
		if e.Secret {
			line += " (credentials)"
		}
		if e.User != "" {
			line += " (user " + esc(e.User) + ")"
		}
		text = l.st.Client.Sprint(line)
		if l.explain {
			text += l.annotate(tag, e)
		}
	case sandbox.MessageLine:
		text = l.st.Client.Sprint("C| " + esc(e.Line))
	case sandbox.DiagnosisMade:
		text = l.diagnosis(tag, e.Diagnosis)
	case sandbox.DiagnosisWithdrawn:
		text = l.withdrawn(e.Diagnosis)
	case sandbox.ReportCardMade:
		text = l.reportCard(tag, e.Report)
	case sandbox.ReplySent:
		for i, line := range e.Lines {
			if i > 0 {
				text += "\n" + tag + " "
			}
			text += l.st.Reply(e.Code).Sprint("S: " + esc(line))
		}
	case sandbox.TLSStarted:
		text = l.st.Note.Sprint("TLS: " + esc(e.Line))
	case sandbox.MessageReceived:
		text = l.st.Note.Sprintf("message %s accepted, %d bytes", esc(e.Line), e.Bytes)
		if e.Path != "" {
			text += l.st.Note.Sprintf(", saved as %s", esc(e.Path))
		}
	case sandbox.Note:
		text = l.st.Note.Sprint("note: " + esc(e.Line))
	case sandbox.ConnClosed:
		text = l.st.Note.Sprint("closed")
		if e.Err != nil {
			text += l.st.Note.Sprintf(" (%s)", esc(e.Err.Error()))
		}
	default:
		return
	}
	l.Printf("%s %s\n", tag, text)
}

// annotate is what --explain says under a client line: what the command
// asks, from the same knowledge base as the client side's --explain.
func (l *ServeLog) annotate(tag string, e sandbox.Event) string {
	if e.Line == "." || strings.HasPrefix(e.Line, "(") {
		return ""
	}
	en, ok := explain.Command(e.Line)
	if !ok {
		return ""
	}
	return "\n" + tag + " " + l.st.Note.Sprintf("   ; %s: %s", en.Title, en.Text)
}

// diagnosis renders one of the coach's diagnoses: the sentence, the RFC
// section, and what a correct client sends.
func (l *ServeLog) diagnosis(tag string, d *sandbox.Diagnosis) string {
	if d == nil {
		return ""
	}
	a := d.Advice()
	mark := "!!"
	if d.Severity == sandbox.Warning {
		mark = "?? warning:"
	}
	text := l.st.ErrTitle.Sprintf("%s %s", mark, d.Sentence(sandbox.EscapeLine))
	text += "\n" + tag + " " + l.st.Server4.Sprintf("   %s; a correct client: %s [%s]", a.RFC, a.Instead, d.Rule)
	return text
}

// withdrawn renders a diagnosis the coach takes back.
func (l *ServeLog) withdrawn(d *sandbox.Diagnosis) string {
	if d == nil {
		return ""
	}
	return l.st.Server2.Sprintf("ok: withdrawn, %s was a false alarm (%s) [%s]", d.Rule, sandbox.EscapeLine(d.Detail), d.Rule)
}

// reportCard renders the coach's summary of a session.
func (l *ServeLog) reportCard(tag string, r *sandbox.ReportCard) string {
	if r == nil {
		return ""
	}
	text := l.st.Step.Sprint("report card:")
	good := "nothing yet"
	if len(r.Good) > 0 {
		good = strings.Join(r.Good, ", ")
	}
	text += "\n" + tag + " " + l.st.Server2.Sprint("  done right: "+good)
	line := func(kind, rule string, n int) string {
		a, _ := sandbox.AdviceFor(rule)
		times := "once"
		if n > 1 {
			times = fmt.Sprintf("%d times", n)
		}
		return fmt.Sprintf("  %s: %s, %s (%s)", kind, rule, times, a.RFC)
	}
	rules := r.Rules()
	switch {
	case len(rules) > 0:
		for _, rule := range rules {
			text += "\n" + tag + " " + l.st.Server5.Sprint(line("mistake", rule, r.Mistakes[rule]))
		}
	case !r.Failed:
		text += "\n" + tag + " " + l.st.Server2.Sprint("  mistakes: none")
	}
	for _, rule := range r.WarningRules() {
		text += "\n" + tag + " " + l.st.Server4.Sprint(line("warning", rule, r.Warnings[rule]))
	}
	if r.Failed {
		what := "the session failed"
		if f := r.LastRefused; f.OfGreeting() {
			what += fmt.Sprintf(": the server refused it in its greeting, %s", sandbox.EscapeLine(f.Reply))
		} else if f != nil {
			what += fmt.Sprintf(": the last command refused was %s, answered %s", sandbox.EscapeLine(f.Command), sandbox.EscapeLine(f.Reply))
		} else {
			what += ": nothing was delivered and the connection did not end with QUIT"
		}
		if r.Unexplained {
			what += "; the coach could not name the cause"
		}
		text += "\n" + tag + " " + l.st.Server5.Sprint("  "+what)
	}
	return text
}
