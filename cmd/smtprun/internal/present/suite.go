package present

import (
	"fmt"
	"strings"

	rpt "github.com/smtprun/smtprun/report"
)

// StatusLine is a script's line in the list:
//
//	PASS  scripts/gmail.smtp  14 steps  41ms
//	FAIL  scripts/x.smtp  3/9 steps held  12ms  line 7: expected 235, got 535 5.7.8 Username and Password not accepted
func StatusLine(st Style, s *rpt.Script) string {
	var word string
	switch s.Result {
	case rpt.Pass:
		word = st.Server2.Sprint("PASS ")
	case rpt.Fail:
		word = st.Server5.Sprint("FAIL ")
	case rpt.Skipped:
		word = st.Dim.Sprint("SKIP ")
	default:
		word = st.Server5.Sprint("ERROR")
	}
	steps := s.StepsText()
	if s.TotalSteps == 0 && len(s.Steps) == 0 && s.Result == rpt.Error {
		steps = "not run"
	}
	line := fmt.Sprintf("%s %s  %s  %s", word, s.Path, steps, rpt.ShortDuration(s.Duration.D()))
	if e := s.Error; e != nil {
		what := e.Message
		if _, after, ok := strings.Cut(what, ": "); ok && e.Line > 0 {
			what = after
		}
		// A failed expectation says what it wanted and what came: a
		// reply alone ("235 2.7.0 Accepted") reads like a success.
		if e.Want != "" && len(e.Reply) > 0 {
			what = fmt.Sprintf("expected %s, got %s", e.Want, e.Reply[0])
		}
		line += fmt.Sprintf("  line %d: %s", e.Line, what)
	}
	return line
}

func SummaryLine(st Style, run *rpt.Run) string {
	s := run.Summary() + " in " + rpt.ShortDuration(run.Duration.D())
	if run.Failed+run.Errors > 0 {
		return st.Server5.Sprint(s)
	}
	return st.Server2.Sprint(s)
}
