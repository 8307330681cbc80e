package present

import (
	"fmt"
	"strings"

	rpt "github.com/smtprun/smtprun/report"
)

// StatusLine is a script's line in the list:
//
//	PASS  scripts/gmail.smtp  14 steps  41ms
//	FAIL  scripts/x.smtp  3/9 steps  12ms  line 7: 535 5.7.8 Username and Password not accepted
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
	steps := plural(s.TotalSteps, "step")
	if s.TotalSteps == 0 && len(s.Steps) == 0 && s.Result == rpt.Error {
		steps = "not run"
	} else if s.Result != rpt.Pass {
		// How far it got: the steps that held, of all.
		held := 0
		for _, st := range s.Steps {
			if st.OK {
				held++
			}
		}
		steps = fmt.Sprintf("%d/%d steps", held, s.TotalSteps)
	}
	line := fmt.Sprintf("%s %s  %s  %s", word, s.Path, steps, rpt.ShortDuration(s.Duration.D()))
	if e := s.Error; e != nil {
		what := e.Message
		if len(e.Reply) > 0 {
			what = e.Reply[0]
		} else if _, after, ok := strings.Cut(what, ": "); ok && e.Line > 0 {
			what = after
		}
		line += fmt.Sprintf("  line %d: %s", e.Line, what)
	}
	return line
}

func SummaryLine(st Style, run *rpt.Run) string {
	s := fmt.Sprintf("%d passed, %d failed", run.Passed, run.Failed)
	if run.Skipped > 0 {
		s += fmt.Sprintf(", %d skipped", run.Skipped)
	}
	s += " in " + rpt.ShortDuration(run.Duration.D())
	if run.Failed > 0 {
		return st.Server5.Sprint(s)
	}
	return st.Server2.Sprint(s)
}
