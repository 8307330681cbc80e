package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const messyScript = "connect   \"h:587\"   # submission\n\n\n  expect 2XX\nauth   LOGIN \"${U}\" \"${P}\"\nexpect 235\nquit\n"

const canonicalScript = "connect \"h:587\" # submission\n\nexpect 2xx\nauth login \"${U}\" \"${P}\"\nexpect 235\nquit\n"

func TestFmtPrints(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "messy.smtp", messyScript)
	code, out, errOut := cli(t, "fmt", p)
	if code != exitOK || out != canonicalScript || errOut != "" {
		t.Fatalf("exit %d\n--- stdout\n%s--- stderr\n%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(p); string(b) != messyScript {
		t.Error("fmt without -w changed the file")
	}
}

func TestFmtListAndCheck(t *testing.T) {
	dir := t.TempDir()
	messy := writeFile(t, dir, "messy.smtp", messyScript)
	writeFile(t, dir, "clean.smtp", canonicalScript)
	code, out, _ := cli(t, "fmt", "-l", dir)
	if code != exitOK || out != messy+"\n" {
		t.Errorf("-l: exit %d, listed %q; want only %s", code, out, messy)
	}
	code, out, _ = cli(t, "fmt", "--check", dir)
	if code != exitUnformatted || out != "" {
		t.Errorf("--check with a messy file: exit %d, stdout %q; want %d and nothing", code, out, exitUnformatted)
	}
	code, _, _ = cli(t, "fmt", "--check", filepath.Join(dir, "clean.smtp"))
	if code != exitOK {
		t.Errorf("--check with a canonical file: exit %d", code)
	}
}

// TestFmtWrite rewrites in place, keeps the file's permissions, and leaves
// no temporary file behind.
func TestFmtWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "messy.smtp")
	if err := os.WriteFile(p, []byte(messyScript), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, "fmt", "-w", p)
	if code != exitOK || out != "" || errOut != "" {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	b, _ := os.ReadFile(p)
	if string(b) != canonicalScript {
		t.Errorf("rewritten:\n%s", b)
	}
	if info, _ := os.Stat(p); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", info.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries after -w, want 1", len(entries))
	}
}

func TestFmtParseError(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "bad.smtp", "connect \"h:25\"\nexpect 220\nstartls\n")
	code, out, errOut := cli(t, "fmt", p)
	if code != exitScript || out != "" {
		t.Errorf("exit %d, stdout %q; want %d and nothing", code, out, exitScript)
	}
	golden(t, "fmt-unknown-step", strings.ReplaceAll(errOut, dir, "DIR"))
}
