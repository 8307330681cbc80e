package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// completionDir is a directory with a script, a directory and a file
// that is not a script, and the completion script for shell in it.
func completionDir(t *testing.T, shell string) (dir, script string) {
	t.Helper()
	if _, err := exec.LookPath(shell); err != nil {
		t.Skipf("%s is not installed (.ci/run installs it)", shell)
	}
	dir = t.TempDir()
	for _, f := range []string{"gmail.smtp", "notes.txt", "lessons/one.smtp"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := cli(t, "completion", shell)
	if code != exitOK || errOut != "" {
		t.Fatalf("completion %s: exit %d, stderr %q", shell, code, errOut)
	}
	script = filepath.Join(dir, "completion."+shell)
	if err := os.WriteFile(script, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, script
}

// completionCases are command lines, the last word being completed, and
// words the completion must offer and must not.
var completionCases = []struct {
	line      []string
	want, not []string
}{
	{[]string{"smtprun", "te"}, []string{"test"}, []string{"token"}},
	{[]string{"smtprun", "--sc"}, []string{"--scenario"}, nil},
	{[]string{"smtprun", "test", "--report-j"}, []string{"--report-json", "--report-junit"}, nil},
	{[]string{"smtprun", "load", "--it"}, []string{"--iterations"}, nil},
	{[]string{"smtprun", "serve", "--profile", "gm"}, []string{"gmail"}, nil},
	{[]string{"smtprun", "--sandbox", "--scenario", "grey"}, []string{"greylisted"}, nil},
	{[]string{"smtprun", "check", ""}, []string{"gmail.smtp", "lessons"}, []string{"notes.txt"}},
	{[]string{"smtprun", "help", "lang"}, []string{"language"}, nil},
	{[]string{"smtprun", "completion", ""}, []string{"bash", "zsh", "fish"}, nil},
	{[]string{"smtprun", "serve", "--save", "no"}, []string{"notes.txt"}, nil},
	{[]string{"smtprun", "fmt", "-"}, []string{"-w", "--check"}, []string{"--sandbox"}},
}

func checkCompletion(t *testing.T, line []string, got []string, want, not []string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) && !slices.Contains(got, w+"/") {
			t.Errorf("%q: %q not offered, got %q", strings.Join(line, " "), w, got)
		}
	}
	for _, n := range not {
		if slices.Contains(got, n) {
			t.Errorf("%q: %q offered, got %q", strings.Join(line, " "), n, got)
		}
	}
}

// bashArray writes words as a bash array literal.
func bashArray(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = shQuote(w)
	}
	return "(" + strings.Join(q, " ") + ")"
}

func TestCompletionBash(t *testing.T) {
	dir, script := completionDir(t, "bash")
	for _, tc := range completionCases {
		prog := "source " + shQuote(script) + "; COMP_WORDS=" + bashArray(tc.line) +
			"; COMP_CWORD=" + itoa(len(tc.line)-1) + `; _smtprun; printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.Command("bash", "--norc", "--noprofile", "-c", prog)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		checkCompletion(t, tc.line, strings.Fields(string(out)), tc.want, tc.not)
	}
}

// TestCompletionZsh runs the script in zsh after compinit: it registers
// the completion, and its function completes under zsh's bashcompinit.
func TestCompletionZsh(t *testing.T) {
	dir, script := completionDir(t, "zsh")
	for _, tc := range completionCases {
		// zsh's compgen leaves the matching to compadd, which compares
		// with $PREFIX: the test sets it and matches as compadd would.
		cur := tc.line[len(tc.line)-1]
		prog := "autoload -U compinit && compinit -u -D; source " + shQuote(script) + "; PREFIX=" + shQuote(cur) +
			"; [[ -n ${_comps[smtprun]} ]] || { echo not registered; exit 1 }" +
			"; COMP_WORDS=" + bashArray(tc.line) + "; COMP_CWORD=" + itoa(len(tc.line)-1) +
			`; emulate sh -c _smtprun; print -l -- "${COMPREPLY[@]}"`
		cmd := exec.Command("zsh", "-f", "-c", prog)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		var got []string
		for _, w := range strings.Fields(string(out)) {
			if strings.HasPrefix(w, cur) {
				got = append(got, w)
			}
		}
		checkCompletion(t, tc.line, got, tc.want, tc.not)
	}
}

func TestCompletionFish(t *testing.T) {
	dir, script := completionDir(t, "fish")
	for _, tc := range completionCases {
		line := strings.Join(tc.line, " ")
		prog := "source " + shQuote(script) + "; complete -C " + shQuote(line)
		cmd := exec.Command("fish", "--no-config", "-c", prog)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			// fish prints a completion, a tab and its description; a
			// word being completed is printed whole.
			w, _, _ := strings.Cut(l, "\t")
			got = append(got, w)
		}
		checkCompletion(t, tc.line, got, tc.want, tc.not)
	}
}

func TestCompletionUsage(t *testing.T) {
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}} {
		if code, _, errOut := cli(t, args...); code != exitUsage || !strings.Contains(errOut, "bash") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
}

// TestCompletionFileFlags: every flag completed with file names is a flag
// of some command that takes a value, and is never a boolean elsewhere.
func TestCompletionFileFlags(t *testing.T) {
	for _, name := range fileFlags {
		found := false
		for _, c := range commands {
			for _, f := range completionFlags(c) {
				if f.name != name {
					continue
				}
				found = true
				if !f.value {
					t.Errorf("--%s of %s takes no value, yet completes file names", name, c.name)
				}
			}
		}
		if !found {
			t.Errorf("--%s is a flag of no command", name)
		}
	}
}
