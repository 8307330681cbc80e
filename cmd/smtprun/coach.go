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
	a, _ := sandbox.AdviceFor(d.Rule)
	esc := sandbox.EscapeLine
	text := l.st.errTitle.Sprintf("!! %s", d.Sentence(esc))
	text += "\n" + tag + " " + l.st.server4.Sprintf("   %s; a correct client: %s [%s]", a.RFC, a.Instead, d.Rule)
	return text
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
	rules := r.Rules()
	if len(rules) == 0 {
		text += "\n" + tag + " " + l.st.server2.Sprint("  mistakes: none")
		return text
	}
	for _, rule := range rules {
		a, _ := sandbox.AdviceFor(rule)
		n := r.Mistakes[rule]
		times := "once"
		if n > 1 {
			times = fmt.Sprintf("%d times", n)
		}
		text += "\n" + tag + " " + l.st.server5.Sprintf("  mistake: %s, %s (%s)", rule, times, a.RFC)
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
	written  func(conn int64, path string) // if set, told each file written
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
	if w.written != nil {
		w.written(r.Conn, name)
	}
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
