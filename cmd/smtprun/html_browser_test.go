package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/internal/testenv"
)

// chromium loads a page in headless Chromium (Debian's chromium package,
// which .ci/run installs) and returns the DOM as rendered and the console
// messages the page logged.
func chromium(t *testing.T, page string, extra ...string) (dom, console string) {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Missing(t, "chromium is not installed (apt-get install chromium)")
		return "", ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, "file://"+page)...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errOut.String())
	}
	var lines []string
	for _, l := range strings.Split(errOut.String(), "\n") {
		if strings.Contains(l, ":CONSOLE") {
			lines = append(lines, l)
		}
	}
	return out.String(), strings.Join(lines, "\n")
}

// TestHTMLReportInChromium loads the HTML report of a suite with every
// outcome in a real browser: the index has one row per script, the
// failing script's page shows the failing step highlighted with the
// server's reply, nothing logs to the console, nothing is fetched from
// the network, and the page prints.
func TestHTMLReportInChromium(t *testing.T) {
	if _, err := exec.LookPath("chromium"); err != nil {
		testenv.Missing(t, "chromium is not installed (apt-get install chromium)")
		return
	}
	_, _, dir := suiteReports(t, "--explain")
	html, _ := filepath.Abs(filepath.Join(dir, "html"))

	// The console check must be able to fail: a page that logs is caught.
	control := filepath.Join(t.TempDir(), "control.html")
	os.WriteFile(control, []byte(`<!DOCTYPE html><p>x</p><script>console.error("boom")</script>`), 0o644)
	if _, console := chromium(t, control, "--dump-dom"); !strings.Contains(console, "boom") {
		t.Fatalf("a console.error on a control page was not seen; the console check would prove nothing")
	}

	dom, console := chromium(t, filepath.Join(html, "index.html"), "--dump-dom")
	if console != "" {
		t.Errorf("index.html logged to the console:\n%s", console)
	}
	if rows := regexp.MustCompile(`<tr class="row-`).FindAllString(dom, -1); len(rows) != 5 {
		t.Errorf("index.html renders %d script rows, want 5:\n%s", len(rows), dom)
	}
	if !strings.Contains(dom, "1 passed, 1 failed, 3 errors") {
		t.Errorf("index.html lacks the summary:\n%s", dom)
	}

	page := filepath.Join(html, "002-testdata--suite--b-fail.html")
	dom, console = chromium(t, page, "--dump-dom")
	if console != "" {
		t.Errorf("the failing script's page logged to the console:\n%s", console)
	}
	failed := regexp.MustCompile(`(?s)<div class="step failed" id="failed-step">(.*?)</div>\s*</div>`).FindStringSubmatch(dom)
	if failed == nil || !strings.Contains(failed[1], "expect 251") || !strings.Contains(failed[1], "S: 250 CHUNKING") {
		t.Errorf("the failing step is not highlighted with the server's reply:\n%s", dom)
	}
	if !strings.Contains(dom, "<details><summary>explain</summary>") {
		t.Errorf("no folded --explain annotations:\n%s", dom)
	}
	for _, f := range []string{filepath.Join(html, "index.html"), page} {
		if src := readFile(t, f); regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(src) || strings.Contains(src, "<script") {
			t.Errorf("%s is not a static page without network or script", f)
		}
	}

	pdf := filepath.Join(t.TempDir(), "page.pdf")
	chromium(t, page, "--print-to-pdf="+pdf, "--no-pdf-header-footer")
	if info, err := os.Stat(pdf); err != nil || info.Size() < 1000 {
		t.Errorf("the page does not print: %v", err)
	}
}
