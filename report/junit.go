package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// The JUnit XML elements as Jenkins, GitLab and GitHub's test reporters
// read them (the de-facto schema of Ant's junit task): testsuites holds
// one testsuite, each script a testcase.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitSkipped `xml:"skipped"`
	SystemOut *junitCDATA   `xml:"system-out"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func seconds(m Millis) string { return fmt.Sprintf("%.3f", m.D().Seconds()) }

// classname turns a path into the dotted name CI systems group by:
// scripts/errors/slow.smtp is scripts.errors.
func classname(path string) string {
	dir := filepath.ToSlash(filepath.Dir(filepath.Clean(path)))
	dir = strings.TrimLeft(dir, "./")
	if dir == "" {
		return "smtprun"
	}
	return strings.ReplaceAll(dir, "/", ".")
}

// WriteJUnit writes the run as JUnit XML. An expectation that failed is a
// <failure>, a script or runtime error an <error>: CI systems show the two
// differently, as they do a wrong assertion and a crash.
func WriteJUnit(w io.Writer, r *Run) error {
	s := junitSuite{Name: "smtprun", Time: seconds(r.Duration), Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05")}
	for _, sc := range r.Scripts {
		c := junitCase{Name: filepath.Base(sc.Path), Classname: classname(sc.Path), File: sc.Path,
			Time: seconds(sc.Duration)}
		if sc.Transcript != "" {
			c.SystemOut = &junitCDATA{Text: xmlChars(sc.Transcript)}
		}
		s.Tests++
		switch sc.Result {
		case Skipped:
			s.Skipped++
			c.Skipped = &junitSkipped{Message: "not run: --fail-fast stopped the run"}
		case Fail, Error:
			p := &junitProblem{Type: "error"}
			if sc.Error != nil {
				p.Message, p.Text, p.Type = sc.Error.Message, xmlChars(sc.Error.Report), sc.Error.Kind
			}
			if sc.Result == Fail {
				s.Failures++
				c.Failure = p
			} else {
				s.Errors++
				c.Error = p
			}
		}
		s.Cases = append(s.Cases, c)
	}
	doc := junitSuites{Name: "smtprun", Tests: s.Tests, Failures: s.Failures, Errors: s.Errors,
		Skipped: s.Skipped, Time: s.Time, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitCDATA keeps a transcript readable in the file: CDATA rather than
// an entity for every newline and quote.
type junitCDATA struct {
	Text string `xml:",cdata"`
}

// xmlChars escapes what XML 1.0 cannot hold at all (C0 controls but tab
// and newline, U+FFFE, U+FFFF) as \xNN: CDATA is not escaped by
// encoding/xml, and one ESC there makes the whole file unreadable to a CI
// system. The transcript is escaped already; this is the file's own
// guarantee.
func xmlChars(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteRune(r)
		case r < 0x20 || r == 0xfffe || r == 0xffff:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
