package present

import (
	"strings"
	"testing"

	"github.com/smtprun/smtprun/sandbox"
)

// TestReportCardRendering: warnings have lines of their own, a failed
// session never reads "mistakes: none", and a withdrawn diagnosis says so.
func TestReportCardRendering(t *testing.T) {
	var out strings.Builder
	l := NewServeLog(&out, NewStyle(&out, true), true)
	for _, tc := range []struct {
		name string
		card sandbox.ReportCard
		want []string
		not  []string
	}{
		{"clean", sandbox.ReportCard{Good: []string{"STARTTLS", "QUIT"}},
			[]string{"done right: STARTTLS, QUIT", "mistakes: none"}, []string{"warning", "failed"}},
		{"a warning only", sandbox.ReportCard{Good: []string{"AUTH"}, Warnings: map[string]int{"missing_date": 2}},
			[]string{"mistakes: none", "warning: missing_date, 2 times (RFC 5322 3.6, RFC 6409 8.2)"}, []string{"mistake: missing_date"}},
		{"failed, unexplained", sandbox.ReportCard{Failed: true, Unexplained: true,
			LastRefused: &sandbox.Refusal{Command: "AUTH LOGIN", Code: 535, Reply: "535 5.7.8 Error: authentication failed: authentication failure"}},
			[]string{"done right: nothing yet", "the session failed: the last command refused was AUTH LOGIN, answered 535 5.7.8 Error: authentication failed: authentication failure; the coach could not name the cause"},
			[]string{"mistakes: none"}},
		{"failed, explained", sandbox.ReportCard{Failed: true, Mistakes: map[string]int{"before_starttls": 1},
			LastRefused: &sandbox.Refusal{Command: "MAIL FROM:<a@b>", Code: 530, Reply: "530 5.7.0 Must issue a STARTTLS command first"}},
			[]string{"mistake: before_starttls, once (RFC 3207 4, RFC 8314 3.3)", "the session failed: the last command refused was MAIL FROM:<a@b>"},
			[]string{"mistakes: none", "could not name"}},
	} {
		got := l.reportCard("[1]", &tc.card)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: no %q in\n%s", tc.name, w, got)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: %q in\n%s", tc.name, n, got)
			}
		}
	}
	w := l.withdrawn(&sandbox.Diagnosis{Rule: "stuck_in_data", Detail: "the message did end"})
	if w != "ok: withdrawn, stuck_in_data was a false alarm (the message did end) [stuck_in_data]" {
		t.Errorf("withdrawn: %q", w)
	}
	d := l.diagnosis("[1]", &sandbox.Diagnosis{Rule: "missing_date", Severity: sandbox.Warning})
	if !strings.HasPrefix(d, "?? warning: The message has no Date: header") {
		t.Errorf("a warning: %q", d)
	}
}
