package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/sandbox"
)

// An example in the documentation that nobody runs rots: every fenced block
// marked `console` in README.md and docs/*.md is run here, and what it
// prints must match what the page shows.
func TestDocumentationExamples(t *testing.T) {
	// The pages show one run's IDs and dates: the sandbox's clock and
	// randomness are fixed to give those again.
	sandboxTestHook = func(o *sandbox.Options) {
		o.Clock = func() time.Time { return time.Date(2026, 11, 28, 17, 41, 10, 0, time.UTC) }
		o.Rand = rand.NewChaCha8([32]byte{'s', 'm', 't', 'p', 'r', 'u', 'n'})
	}
	t.Cleanup(func() { sandboxTestHook = nil })
	for _, v := range []string{"SMTP_USER", "SMTP_PASS", "SMTP_TOKEN", "RCPT"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	t.Chdir("../..") // the examples are written for the repository's root
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	pages = append([]string{"README.md"}, pages...)
	total := 0
	for _, page := range pages {
		src, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, ex := range consoleExamples(page, string(src)) {
			total++
			t.Run(fmt.Sprintf("%s:%d", page, ex.line), func(t *testing.T) {
				args, err := shellWords(ex.command)
				if err != nil {
					t.Fatalf("%s:%d: %v", page, ex.line, err)
				}
				args, ok := smtprunArgs(args)
				if !ok {
					t.Fatalf("%s:%d: a console example must run smtprun (`smtprun ...` or `go run ./cmd/smtprun ...`), got %q", page, ex.line, ex.command)
				}
				var out bytes.Buffer
				run(args, strings.NewReader(""), &out, &out)
				if !matchLines(ex.want, splitLines(out.String())) {
					t.Errorf("%s:%d: $ %s\n--- the page shows:\n%s\n--- it printed:\n%s", page, ex.line, ex.command, strings.Join(ex.want, "\n"), out.String())
				}
			})
		}
	}
	if total == 0 {
		t.Fatal("no console examples found: the pages' examples would go unchecked")
	}
}

type consoleExample struct {
	line    int
	command string
	want    []string
}

// consoleExamples splits each ```console block into commands (lines that
// start with "$ ") and the output shown after each.
func consoleExamples(page, src string) []consoleExample {
	var exs []consoleExample
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```console" {
			continue
		}
		var cur *consoleExample
		for i++; i < len(lines) && !strings.HasPrefix(lines[i], "```"); i++ {
			l := strings.TrimRight(lines[i], " \t")
			if cmd, ok := strings.CutPrefix(l, "$ "); ok {
				exs = append(exs, consoleExample{line: i + 1, command: cmd})
				cur = &exs[len(exs)-1]
				continue
			}
			if cur != nil {
				cur.want = append(cur.want, l)
			}
		}
	}
	return exs
}

func smtprunArgs(words []string) ([]string, bool) {
	switch {
	case len(words) >= 1 && words[0] == "smtprun":
		return words[1:], true
	case len(words) >= 3 && words[0] == "go" && words[1] == "run" && words[2] == "./cmd/smtprun":
		return words[3:], true
	}
	return nil, false
}

// shellWords splits a command line as sh would for the quoting the pages
// use: single quotes, double quotes with \" and \\, and bare words.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			in = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\' || s[i+1] == '$') {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated \" in %q", s)
			}
			in = true
		case c == '#' && !in:
			return words, nil
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

func splitLines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	ls := strings.Split(s, "\n")
	for i := range ls {
		ls[i] = strings.TrimRight(ls[i], " \t")
	}
	return ls
}

var (
	// A line of dots alone, with or without the transcript's gutter,
	// stands for any number of lines.
	elidedLines = regexp.MustCompile(`^[\s|]*\.\.\.$`)
	// Durations differ from run to run.
	duration = regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|us|ms|s|m)\b`)
)

func normalise(l string) string { return duration.ReplaceAllString(l, "D") }

func lineMatches(want, got string) bool {
	want, got = normalise(want), normalise(got)
	if !strings.Contains(want, "...") {
		return want == got
	}
	parts := strings.Split(want, "...")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$").MatchString(got)
}

// matchLines matches the shown lines against the printed ones, an elided
// line matching any run of lines (the shortest that lets the rest match).
func matchLines(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if elidedLines.MatchString(want[0]) {
		for k := 0; k <= len(got); k++ {
			if matchLines(want[1:], got[k:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && lineMatches(want[0], got[0]) && matchLines(want[1:], got[1:])
}

func TestDocumentationMatcher(t *testing.T) {
	got := []string{"a", "b (12ms)", "c", "d 2026-12-02"}
	for _, c := range []struct {
		want []string
		ok   bool
	}{
		{[]string{"a", "b (3µs)", "c", "d 2026-12-02"}, true},
		{[]string{"a", "...", "d ..."}, true},
		{[]string{"...", "c", "..."}, true},
		{[]string{"a", "c", "..."}, false},
		{[]string{"a", "b (1s)", "c"}, false},
		{[]string{"a", "...", "x"}, false},
		{[]string{"     | ...", "d ..."}, true},
	} {
		if matchLines(c.want, got) != c.ok {
			t.Errorf("matchLines(%q) = %v, want %v", c.want, !c.ok, c.ok)
		}
	}
	w, err := shellWords(`smtprun --var 'A=b c' "x\"y" z # comment`)
	if err != nil || strings.Join(w, "|") != `smtprun|--var|A=b c|x"y|z` {
		t.Errorf("shellWords = %q, %v", w, err)
	}
}
