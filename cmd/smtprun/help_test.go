package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelpTopics: smtprun help lists every topic, and help TOPIC prints
// the docs/ page itself, after the command's --help for a topic about a
// command.
func TestHelpTopics(t *testing.T) {
	_, global, _ := cli(t, "help")
	for _, tp := range topics {
		if !strings.Contains(global, "  "+tp.name+" ") {
			t.Errorf("smtprun help does not list %s", tp.name)
		}
		code, out, errOut := cli(t, "help", tp.name)
		if code != exitOK || errOut != "" {
			t.Errorf("help %s: exit %d, stderr %q", tp.name, code, errOut)
		}
		want := exitCodesHelp
		if tp.page != "" {
			b, err := os.ReadFile(filepath.Join("../../docs", tp.page))
			if err != nil {
				t.Fatal(err)
			}
			want = string(b)
		}
		if !strings.HasSuffix(out, want) {
			t.Errorf("help %s does not end with docs/%s", tp.name, tp.page)
		}
		if tp.command != "" && !strings.HasPrefix(out, lookupCommand(tp.command).usage) {
			t.Errorf("help %s does not start with %s --help", tp.name, tp.command)
		}
	}
	code, _, errOut := cli(t, "help", "langauge")
	if code != exitUsage || !strings.Contains(errOut, `(did you mean "language"?)`) {
		t.Errorf("help langauge: exit %d, stderr %q", code, errOut)
	}
}

// TestManPage: smtprun help --man is a man page that man and groff render
// without a single warning, and it holds every command and topic.
func TestManPage(t *testing.T) {
	code, page, errOut := cli(t, "help", "--man")
	if code != exitOK || errOut != "" {
		t.Fatalf("help --man: exit %d, stderr %q", code, errOut)
	}
	for _, c := range commands {
		if !strings.Contains(page, `.SS "smtprun`) || !strings.Contains(page, roffEscaped(c.label())) {
			t.Errorf("the man page has no section for %s", c.name)
		}
	}
	for _, tp := range topics {
		if tp.page != "" && !strings.Contains(page, `.SH "`+strings.ToUpper(roffEscaped(tp.name))+`"`) {
			t.Errorf("the man page has no section for the topic %s", tp.name)
		}
	}
	file := filepath.Join(t.TempDir(), "smtprun.1")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, argv := range [][]string{
		{"groff", "-man", "-Tutf8", "-ww", "-z", file},
		{"man", "--warnings", "-l", file},
	} {
		if _, err := exec.LookPath(argv[0]); err != nil {
			t.Skipf("%s is not installed (.ci/run installs man-db and groff)", argv[0])
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "MANWIDTH=80", "MAN_KEEP_STDERR=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, stderr.String())
		}
		if argv[0] == "man" && !strings.Contains(stdout.String(), "smtprun test") {
			t.Errorf("man rendered no commands:\n%.2000s", stdout.String())
		}
	}
}

func roffEscaped(s string) string { return strings.ReplaceAll(s, "-", `\-`) }
