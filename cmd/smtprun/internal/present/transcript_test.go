package present

import (
	"bytes"
	"strings"
	"testing"
)

// TestExplainWraps: with a terminal's width, an annotation is wrapped to
// it, its later lines under its text; with none, it stays one line.
func TestExplainWraps(t *testing.T) {
	long := "SIZE: The largest message the server accepts, in bytes; a client can declare the size with MAIL FROM:<...> SIZE=n to be refused early. (RFC 1870)"
	for _, width := range []int{0, 60, 100} {
		var b bytes.Buffer
		tr := NewTranscript(&b, Plain(), false)
		tr.Width = width
		tr.explain([]string{long})
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		var words []string
		for i, l := range lines {
			if width > 0 && len(l) > width {
				t.Errorf("width %d: line %d is %d wide: %q", width, i, len(l), l)
			}
			_, text, _ := strings.Cut(l, "|")
			words = append(words, strings.Fields(strings.TrimPrefix(strings.TrimSpace(text), "#"))...)
		}
		if got := strings.Join(words, " "); got != long {
			t.Errorf("width %d: the words came out as %q", width, got)
		}
		if width == 0 && len(lines) != 1 || width == 60 && len(lines) < 3 {
			t.Errorf("width %d: %d lines:\n%s", width, len(lines), b.String())
		}
		// The later lines start under the text after "# ".
		at := strings.Index(lines[0], "SIZE")
		for _, l := range lines[1:] {
			bar := strings.Index(l, "|")
			rest := l[bar+1:]
			if start := bar + 1 + len(rest) - len(strings.TrimLeft(rest, " ")); start != at {
				t.Errorf("width %d: %q starts at %d, the text at %d", width, l, start, at)
			}
		}
	}
}
