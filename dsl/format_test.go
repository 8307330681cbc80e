package dsl

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFormatGolden formats each testdata/format/*.smtp and compares it
// with its .golden: the canonical text, comments and blank lines kept.
// Formatting the golden again must change nothing.
func TestFormatGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/format/*.smtp")
	if len(files) == 0 {
		t.Fatal("no format test scripts")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			got := formatFile(t, f)
			golden := strings.TrimSuffix(f, ".smtp") + ".golden"
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./dsl -update writes it)", err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
			if again := formatFile(t, golden); again != got {
				t.Errorf("formatting the golden changed it:\n%s", again)
			}
		})
	}
}

func formatFile(t *testing.T, path string) string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(path, src)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var b bytes.Buffer
	if err := Format(&b, s); err != nil {
		t.Fatalf("format: %v", err)
	}
	return b.String()
}

// TestScriptsAreCanonical keeps every script in scripts/ as Format writes
// it (run `smtprun fmt -w scripts` after editing one).
func TestScriptsAreCanonical(t *testing.T) {
	top, _ := filepath.Glob("../scripts/*.smtp")
	nested, _ := filepath.Glob("../scripts/*/*.smtp")
	files := append(top, nested...)
	if len(files) < 10 {
		t.Fatalf("found %d scripts under scripts/, want the whole collection", len(files))
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := formatFile(t, f); got != string(src) {
			t.Errorf("%s is not canonical; smtprun fmt gives:\n%s", f, got)
		}
	}
}

// TestFormatProgram: a checked program prints as its script does.
func TestFormatProgram(t *testing.T) {
	src := "# scenario: greylist\nconnect   \"h:25\"\nexpect 2XX  /ok/ # greeting\nquit\n"
	s, err := Parse("p.smtp", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Check(s)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := FormatProgram(&b, p); err != nil {
		t.Fatal(err)
	}
	if want := "# scenario: greylist\nconnect \"h:25\"\nexpect 2xx /ok/ # greeting\nquit\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// TestFormatCRLF: a script written with CRLF line ends formats to LF and
// means the same.
func TestFormatCRLF(t *testing.T) {
	src := "connect \"h:25\" # c\r\nexpect 220\r\n\r\n\r\nquit\r\n"
	s, err := Parse("crlf.smtp", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Format(&b, s); err != nil {
		t.Fatal(err)
	}
	if want := "connect \"h:25\" # c\nexpect 220\n\nquit\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// TestFormatRefusesUnknownSteps: like gofmt with code that does not
// parse, Format reports the line instead of guessing.
func TestFormatRefusesUnknownSteps(t *testing.T) {
	s, err := Parse("u.smtp", []byte("connect \"h:25\"\nstartls\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = Format(&bytes.Buffer{}, s)
	e, ok := err.(*Error)
	if !ok || e.Pos.Line != 2 || e.Title != "unknown step" {
		t.Fatalf("got %v, want the unknown-step error at line 2", err)
	}
}
