package main

import (
	"flag"
	"strings"
	"testing"
)

// TestFlagErrors: every mistake on a command line says what is wrong, how
// to write it, and which help to read (each command has its own). A
// mistyped subcommand is suggested like a mistyped flag; a one-letter
// flag is not "corrected" to another letter; an argument a command does
// not take is refused, not ignored.
func TestFlagErrors(t *testing.T) {
	dir := t.TempDir()
	script := writeFile(t, dir, "x.smtp", "connect \"h:25\"\nexpect 220\nquit\n")
	tests := []struct {
		name string
		args []string
	}{
		{"timeout-no-unit", []string{"--timeout", "5", script}},
		{"timeout-not-duration", []string{"--timeout=five", script}},
		{"typo", []string{script, "--timout", "5s"}},
		{"typo-single-dash", []string{"-sandbx", script}},
		{"check-typo", []string{"check", "--quiett", script}},
		{"serve-typo", []string{"serve", "--listn", "127.0.0.1:0"}},
		{"serve-profile", []string{"serve", "--profile", "gmial"}},
		{"serve-argument", []string{"serve", "gmail"}},
		{"serve-missing-value", []string{"serve", "--profile"}},
		{"command-typo", []string{"chek", script}},
		{"command-typo-alone", []string{"senarios"}},
		{"one-letter", []string{"-x", script}},
		{"serve-prefix", []string{"serve", "--prof", "gmail"}},
		{"var-no-equals", []string{"--var", "FOO", script}},
		{"var-not-shown", []string{"--var", "SMTP_PASS:hunter2", script}},
		{"scenarios-argument", []string{"scenarios", "extra"}},
		{"version-argument", []string{"version", "extra"}},
		{"explain-not-found", []string{"explain", "999"}},
		{"load-zero-iterations", []string{"load", "-n", "0", script}},
		{"load-negative-iterations", []string{"load", "--iterations=-3", script}},
		{"help-unknown", []string{"help", "chek"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := cli(t, tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			got := "$ smtprun " + strings.Join(tc.args, " ") + "\n--- stdout\n" + out + "--- stderr\n" + errOut
			golden(t, "flag-"+tc.name, strings.ReplaceAll(got, dir, "DIR"))
		})
	}
}

// TestCheckFlags: checkFlags walks arguments as the flag package does, so a flag's
// value that starts with a dash, or anything after "--", is not taken for
// an unknown flag.
func TestCheckFlags(t *testing.T) {
	fs := newFlagSet("t")
	fs.String("var", "", "")
	fs.Bool("quiet", false, "")
	fs.Bool("q", false, "")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--var", "-x", "a.smtp"}, ""},
		{[]string{"--var=-x", "-q", "a.smtp", "--quiet"}, ""},
		{[]string{"a.smtp", "--", "--nope"}, ""},
		{[]string{"-h"}, ""},
		{[]string{"-"}, ""},
		{[]string{"--quiet", "--vra", "A=1"}, "unknown flag --vra (did you mean --var?)"},
		{[]string{"--quiet=true", "-Q"}, "unknown flag -Q (did you mean -q?)"},
		{[]string{"-x"}, "unknown flag -x"},
		{[]string{"--qui"}, "unknown flag --qui (did you mean --quiet?)"},
		{[]string{"-vr"}, "unknown flag -vr (did you mean --var?)"},
		{[]string{"--xyzzy"}, "unknown flag --xyzzy"},
		{[]string{"a.smtp", "--var"}, "--var needs a value"},
	}
	for _, tc := range tests {
		err := checkFlags(fs, tc.args)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("%q: %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestTimeoutFlag(t *testing.T) {
	for arg, want := range map[string]string{
		"5":     "--timeout 5: a duration needs a unit, as in 5s or 5ms",
		"1.5":   "--timeout 1.5: a duration needs a unit, as in 1.5s or 1.5ms",
		"5 s":   "--timeout 5 s: not a duration; write it as 30s, 500ms or 1m30s",
		"0s":    "--timeout must be positive, got 0s",
		"-1s":   "--timeout must be positive, got -1s",
		"500ms": "",
	} {
		o, err := parseFlags([]string{"--timeout", arg, "x.smtp"})
		got := ""
		if err != nil {
			got = err.Error()
		} else if o.timeout.String() != arg {
			t.Errorf("--timeout %s parsed as %s", arg, o.timeout)
		}
		if got != want {
			t.Errorf("--timeout %s: %q, want %q", arg, got, want)
		}
	}
	if o, err := parseFlags([]string{"x.smtp"}); err != nil || o.timeout.String() != "30s" {
		t.Errorf("default timeout: %v, %v", o, err)
	}
	if _, err := parseFlags([]string{"--help"}); err != flag.ErrHelp {
		t.Errorf("--help: %v", err)
	}
}
