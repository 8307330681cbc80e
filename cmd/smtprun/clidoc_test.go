package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const cliDocPath = "../../docs/cli.md"

// cliDoc is docs/cli.md: every subcommand of the table with its summary
// and its own --help (which lists its flags and an example), then the
// exit codes.
func cliDoc() string {
	var b strings.Builder
	b.WriteString("# The smtprun command line\n\n")
	b.WriteString("Every subcommand, with its flags, as its own `--help` prints them. This page is\n")
	b.WriteString("generated from the command's table of subcommands; after changing a command, run\n")
	b.WriteString("`go test ./cmd/smtprun -run TestCLIDoc -update` to rewrite it.\n\n")
	b.WriteString("## Contents\n\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "- [smtprun %s](#smtprun-%s): %s\n", c.name, c.name, c.summary)
	}
	b.WriteString("- [Exit codes](#exit-codes)\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "\n## smtprun %s\n\n%s.\n\n```text\n%s```\n", c.name, upperFirst(c.summary), c.usage)
	}
	fmt.Fprintf(&b, "\n## Exit codes\n\nThe same for every command; each command's help says which it uses.\n\n```text\n%s```\n", exitCodesHelp)
	return b.String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// TestCLIDoc: docs/cli.md is what the table says, so it lists every
// subcommand, with its flags and the exit codes, and cannot drift.
func TestCLIDoc(t *testing.T) {
	doc := cliDoc()
	for _, c := range commands {
		if !strings.Contains(doc, "\n## smtprun "+c.name+"\n") {
			t.Errorf("no section for %s", c.name)
		}
	}
	goldenFile(t, cliDocPath, doc)
}

// TestHelpExamples runs the example in each command's help, from a
// directory where scripts/ is the repository's, so that none rots: each
// is a valid command line whose scripts check. The server and the OAuth
// sign-in, which run until stopped and need a real provider, have their
// command lines parsed only.
func TestHelpExamples(t *testing.T) {
	scripts, err := filepath.Abs("../../scripts")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(scripts, filepath.Join(dir, "scripts")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, c := range commands {
		_, example, ok := strings.Cut(c.usage, "\nExample:\n  smtprun ")
		if !ok {
			continue
		}
		example, _, _ = strings.Cut(example, "\n")
		args := strings.Fields(example)
		t.Run(c.name, func(t *testing.T) {
			switch c.name {
			case "serve":
				if _, err := parseServeFlags(args[1:]); err != nil {
					t.Errorf("smtprun %s: %v", example, err)
				}
				return
			case "token":
				if _, err := parseTokenFlags(args[1:]); err != nil {
					t.Errorf("smtprun %s: %v", example, err)
				}
				return
			}
			code, out, errOut := cli(t, args...)
			if code == exitUsage || code == exitScript {
				t.Errorf("smtprun %s: exit %d\n%s%s", example, code, out, errOut)
			}
		})
	}
}
