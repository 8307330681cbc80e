package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"

	"github.com/smtprun/smtprun/dsl"
	"github.com/smtprun/smtprun/explain"
	"github.com/smtprun/smtprun/internal/safefile"
	"github.com/smtprun/smtprun/sandbox"
)

// annotate is what --explain says under a client line: what the command
// asks, from the same knowledge base as the client side's --explain.
func (l *serveLog) annotate(tag string, e sandbox.Event) string {
	if e.Line == "." || strings.HasPrefix(e.Line, "(") {
		return ""
	}
	en, ok := explain.Command(e.Line)
	if !ok {
		return ""
	}
	return "\n" + tag + " " + l.st.note.Sprintf("   ; %s: %s", en.Title, en.Text)
}

// diagnosis renders one of the coach's diagnoses: the sentence, the RFC
// section, and what a correct client sends.
func (l *serveLog) diagnosis(tag string, d *sandbox.Diagnosis) string {
	if d == nil {
		return ""
	}
	a := d.Advice()
	mark := "!!"
	if d.Severity == sandbox.Warning {
		mark = "?? warning:"
	}
	text := l.st.errTitle.Sprintf("%s %s", mark, d.Sentence(sandbox.EscapeLine))
	text += "\n" + tag + " " + l.st.server4.Sprintf("   %s; a correct client: %s [%s]", a.RFC, a.Instead, d.Rule)
	return text
}

// withdrawn renders a diagnosis the coach takes back.
func (l *serveLog) withdrawn(d *sandbox.Diagnosis) string {
	if d == nil {
		return ""
	}
	return l.st.server2.Sprintf("ok: withdrawn, %s was a false alarm (%s) [%s]", d.Rule, sandbox.EscapeLine(d.Detail), d.Rule)
}

// reportCard renders the coach's summary of a session.
func (l *serveLog) reportCard(tag string, r *sandbox.ReportCard) string {
	if r == nil {
		return ""
	}
	text := l.st.step.Sprint("report card:")
	good := "nothing yet"
	if len(r.Good) > 0 {
		good = strings.Join(r.Good, ", ")
	}
	text += "\n" + tag + " " + l.st.server2.Sprint("  done right: "+good)
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
			text += "\n" + tag + " " + l.st.server5.Sprint(line("mistake", rule, r.Mistakes[rule]))
		}
	case !r.Failed:
		text += "\n" + tag + " " + l.st.server2.Sprint("  mistakes: none")
	}
	for _, rule := range r.WarningRules() {
		text += "\n" + tag + " " + l.st.server4.Sprint(line("warning", rule, r.Warnings[rule]))
	}
	if r.Failed {
		what := "the session failed"
		if f := r.LastRefused; f != nil {
			what += fmt.Sprintf(": the last command refused was %s, answered %s", sandbox.EscapeLine(f.Command), sandbox.EscapeLine(f.Reply))
		} else {
			what += ": nothing was delivered and the connection did not end with QUIT"
		}
		if r.Unexplained {
			what += "; the coach could not name the cause"
		}
		text += "\n" + tag + " " + l.st.server5.Sprint("  "+what)
	}
	return text
}

// sessionWriter writes each recorded session (serve --record) as a
// script, printed by dsl.Format.
type sessionWriter struct {
	mu       sync.Mutex
	dir      string
	scenario string
	log      *serveLog
}

func (w *sessionWriter) write(r *sandbox.Recording) {
	var b strings.Builder
	fmt.Fprintf(&b, "# Recorded by smtprun serve --record: connection %d, profile %s.\n", r.Conn, r.Profile)
	if w.scenario != "" {
		fmt.Fprintf(&b, "# scenario: %s\n", w.scenario)
	}
	fmt.Fprintf(&b, "# Replay it: smtprun --sandbox FILE (the practice account fills ${SMTP_USER} and ${SMTP_PASS}).\n\n")
	if err := dsl.Format(&b, r.Script); err != nil {
		w.log.printf("[%d] recording not written: %v\n", r.Conn, err)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	name, err := w.create(fmt.Sprintf("session-%s-%04d-%s", r.Time.UTC().Format("20060102T150405Z"), r.Conn, r.Profile), b.String())
	if err != nil {
		w.log.printf("[%d] recording not written: %s\n", r.Conn, sandbox.EscapeLine(err.Error()))
		return
	}
	w.log.printf("[%d] %s\n", r.Conn, w.log.st.note.Sprintf("recorded as %s", sandbox.EscapeLine(name)))
}

// create writes a recording 0600 (it holds the session) under a new name:
// the names are predictable, so a name someone else took (a link planted
// in a sticky directory) is passed over for the next, never written
// through.
func (w *sessionWriter) create(base, text string) (string, error) {
	for i := 1; ; i++ {
		name := filepath.Join(w.dir, base+".smtp")
		if i > 1 {
			name = filepath.Join(w.dir, fmt.Sprintf("%s-%d.smtp", base, i))
		}
		f, err := safefile.Create(name, 0o600)
		if errors.Is(err, fs.ErrExist) && i < 100 {
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = f.WriteString(text)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return name, err
	}
}
