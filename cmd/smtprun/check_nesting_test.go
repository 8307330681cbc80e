package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckRefusesWhatOnlyTheRunWouldFind: `smtprun check` exits 2 with
// the positioned error for the mistakes dsl.Check finds inside repeat
// blocks, in repeat counts, in limits and in includes, and exits 0 for
// the same steps in the right order.
func TestCheckRefusesWhatOnlyTheRunWouldFind(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const head = "connect \"127.0.0.1:25\"\nexpect 220\nsend \"EHLO x\"\nexpect 250\n"
	write("pass.smtp", "send \"NOOP\"\nexpect 250 /token (?P<SMTP_PASS>\\S+)/\n")
	for _, tc := range []struct{ name, src, want string }{
		{"capture in repeat", head + "repeat 2 {\n  send \"NOOP ${qid}\"\n  expect 250 /(?P<qid>\\d+)/\n}\n", ".smtp:6:14\nerror: capture used before it is defined"},
		{"count captured in its block", head + "repeat ${N} {\n  send \"NOOP\"\n  expect 250 /(?P<N>\\d+)/\n}\n", ".smtp:5:8\nerror: capture used before it is defined"},
		{"too many steps", head + strings.Repeat("repeat 1000 {\n", 4) + "send \"NOOP\"\nexpect 250\n" + strings.Repeat("}\n", 4), ".smtp:5:8\nerror: too many steps"},
		{"capture shadows a secret", head + "include \"pass.smtp\"\nauth plain \"u\" \"${SMTP_PASS}\"\nexpect 235\n", "pass.smtp:2:23\nerror: capture shadows a secret"},
		{"in order", head + "repeat 2 {\n  send \"NOOP\"\n  expect 250 /(?P<qid>\\d+)/\n  send \"NOOP ${qid}\"\n  expect 250\n}\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := write(strings.ReplaceAll(tc.name, " ", "-")+".smtp", tc.src)
			code, _, errOut := cli(t, "check", p)
			if tc.want == "" {
				if code != 0 {
					t.Fatalf("exit %d, want 0: %s", code, errOut)
				}
				return
			}
			where, title, _ := strings.Cut(tc.want, "\n")
			if code != 2 || !strings.Contains(errOut, where+"\n") || !strings.Contains(errOut, title+"\n") {
				t.Fatalf("exit %d, want 2 with %q:\n%s", code, tc.want, errOut)
			}
		})
	}
}
