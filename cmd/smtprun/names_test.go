package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// hostileNames are script names a checkout can hold: an OSC sequence
// that retitles the terminal, and a newline followed by a forged TAP
// line.
var hostileNames = []string{
	"title\x1b]0;pwned\x07.smtp",
	"nl\nok 8 - forged line.smtp",
}

// hostileSuite copies a passing and a failing script under the hostile
// names into a directory and runs smtprun test there with every report.
func hostileSuite(t *testing.T) (dir, stdout, stderr string) {
	t.Helper()
	dir = t.TempDir()
	pass := readFile(t, "testdata/suite/a-pass.smtp")
	fail := readFile(t, "testdata/suite/b-fail.smtp")
	writeFile(t, dir, hostileNames[0], pass)
	writeFile(t, dir, hostileNames[1], fail)
	scripts := filepath.Join(dir, "scripts")
	os.Mkdir(scripts, 0o700)
	for _, n := range hostileNames {
		os.Rename(filepath.Join(dir, n), filepath.Join(scripts, n))
	}
	_, stdout, stderr = cli(t, "test", "--sandbox", "--no-color",
		"--report-junit", filepath.Join(dir, "junit.xml"), "--report-tap", filepath.Join(dir, "r.tap"),
		"--report-json", filepath.Join(dir, "r.json"), "--report-html", filepath.Join(dir, "html"), scripts)
	return dir, stdout, stderr
}

// TestHostileNamesInReports: the JUnit file parses, every report and the
// terminal carry no raw ESC or BEL, and no name splits a line.
func TestHostileNamesInReports(t *testing.T) {
	dir, stdout, stderr := hostileSuite(t)
	for name, text := range map[string]string{"stdout": stdout, "stderr": stderr,
		"junit.xml": readFile(t, filepath.Join(dir, "junit.xml")), "r.tap": readFile(t, filepath.Join(dir, "r.tap")),
		"r.json": readFile(t, filepath.Join(dir, "r.json")), "index.html": readFile(t, filepath.Join(dir, "html", "index.html"))} {
		if strings.ContainsAny(text, "\x1b\x07") {
			t.Errorf("%s holds a raw ESC or BEL:\n%q", name, text)
		}
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "ok 8 - forged line") {
				t.Errorf("%s has a forged line: %q", name, l)
			}
		}
	}
	if !strings.Contains(stdout, `title\x1b]0;pwned\x07.smtp`) || !strings.Contains(stdout, `nl\nok 8 - forged line.smtp`) {
		t.Errorf("the terminal does not show the names escaped:\n%s", stdout)
	}
	var doc struct {
		Cases []struct {
			Name string `xml:"name,attr"`
			File string `xml:"file,attr"`
		} `xml:"testsuite>testcase"`
	}
	if err := xml.Unmarshal([]byte(readFile(t, filepath.Join(dir, "junit.xml"))), &doc); err != nil {
		t.Fatalf("the JUnit file is not XML: %v", err)
	}
	if len(doc.Cases) != 2 {
		t.Errorf("%d test cases, want 2", len(doc.Cases))
	}
	var run struct {
		Scripts []struct {
			Path string `json:"path"`
		} `json:"scripts"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "r.json"))), &run); err != nil {
		t.Fatal(err)
	}
	for _, sc := range run.Scripts {
		if strings.ContainsAny(sc.Path, "\x1b\n") {
			t.Errorf("JSON path %q is not escaped", sc.Path)
		}
	}
}

// TestHostileNamesTAPParsedByProve: prove reads the TAP stream of those
// names as two tests, one failed, and no forged third.
func TestHostileNamesTAPParsedByProve(t *testing.T) {
	prove := lookProve(t)
	dir, _, _ := hostileSuite(t)
	out, _ := exec.Command(prove, "--verbose", "--exec", "cat", filepath.Join(dir, "r.tap")).CombinedOutput()
	for _, bad := range []string{"Bad plan", "Parse errors", "\nok 8 - forged line"} {
		if strings.Contains(string(out), bad) {
			t.Errorf("prove says %q:\n%s", bad, out)
		}
	}
	if !strings.Contains(string(out), "Failed 1/2 subtests") {
		t.Errorf("prove does not count one failure of two:\n%s", out)
	}
}
