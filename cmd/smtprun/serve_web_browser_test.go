package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/smtprun/smtprun/internal/testenv"
)

// browser starts headless Chromium (Debian's chromium, which .ci/run
// installs) with a fresh profile and nothing fetched in the background,
// and collects what the page logs as errors, its uncaught exceptions and
// the browser's own errors (a policy violation, a failed load).
func browser(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Missing(t, "chromium is not installed (apt-get install chromium)")
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 900))
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	var mu sync.Mutex
	var problems []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				problems = append(problems, "console.error")
			}
		case *cdplog.EventEntryAdded:
			// The browser's own: a content security policy violation, a
			// failed load. The icon a browser asks for by itself is none
			// of the page's doing.
			if e.Entry.Level == cdplog.EntryLevelError && !strings.HasSuffix(e.Entry.URL, "/favicon.ico") {
				problems = append(problems, string(e.Entry.Source)+": "+e.Entry.Text)
			}
		}
	}); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string{}, problems...)
	}
}

// step runs browser actions within d, so a page that never shows what is
// waited for fails the test instead of hanging it.
func step(t *testing.T, ctx context.Context, what string, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// click clicks the element sel selects once there is one, in one step of
// the page's own: the live lists are redrawn as events arrive, so a node
// looked up first and clicked after may be gone by then.
func click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](`(e => e ? (e.click(), true) : false)(document.querySelector(` + strconv.Quote(sel) + `))`)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// TestServeWebInChromium opens the page of `serve --web --explain` in a
// real browser and, without reloading it: sees a real client's session
// and message appear; opens a mistaken client's transcript and sees the
// coach's diagnosis inline; opens the HTML message, whose script would
// mark the page, and finds it unmarked; sets a fault plan through the
// page and sees the next client's RCPT refused. With -update it saves
// docs/serve-web.png, the transcript with its diagnosis.
func TestServeWebInChromium(t *testing.T) {
	ctx, problems := browser(t)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	sub, base, out := startWeb(t, "--explain", "--ca-out", ca)

	step(t, ctx, "open the page", 30*time.Second,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#live.on")))
	// A reload would lose this; the page must update without one.
	eval[chromedp.Void](t, ctx, `window.noReload = "still here"`)

	// The marker check can fail: set by the page itself, it is seen.
	eval[chromedp.Void](t, ctx, `document.body.dataset.pwned = "control"`)
	if got := eval[string](t, ctx, `document.body.dataset.pwned || ""`); got != "control" {
		t.Fatalf("the marker set on the page reads %q; the script check would prove nothing", got)
	}
	eval[chromedp.Void](t, ctx, `delete document.body.dataset.pwned`)

	// Client text with markup in it, shown as text: a subject, and below an
	// EHLO name, each of which would mark the page if parsed as HTML.
	const markup = `<img src=x id=injected onerror="document.body.dataset.pwned='markup'">`
	// The error check can fail: an image from another origin (loopback,
	// refused by the page's policy before any request) is reported.
	eval[chromedp.Void](t, ctx, `new Image().src = "http://127.0.0.1:9/control.png"`)
	step(t, ctx, "the policy's refusal is reported", 10*time.Second, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		for len(problems()) == 0 {
			if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
				return err
			}
		}
		return nil
	}))
	baseline := len(problems())

	if got := sendSMTPLib(t, sub, ca, "browser test "+markup, "friend@example.edu"); got != "" {
		t.Fatalf("smtplib: %s\n%s", got, out)
	}
	step(t, ctx, "the session and the message appear", 15*time.Second,
		chromedp.WaitVisible(chromedp.CSS(`#sessions tbody tr[data-id="1"] td.outcome-delivered`)),
		chromedp.WaitVisible(chromedp.CSS(`#messages tbody tr[data-id="1"]`)))
	if got := eval[string](t, ctx, `document.querySelector('#messages tbody tr[data-id="1"]').textContent`); !strings.Contains(got, "browser test") || !strings.Contains(got, "friend@example.edu") {
		t.Errorf("the message's row: %q", got)
	}

	sendBareLF(t, sub, "student"+markup)
	step(t, ctx, "open the mistaken client's transcript", 15*time.Second,
		chromedp.WaitVisible(chromedp.CSS(`#sessions tbody tr[data-id="2"]`)),
		click(`#sessions tbody tr[data-id="2"]`),
		chromedp.WaitVisible(chromedp.CSS(`#transcript .diag[data-rule="bare_lf_command"]`)))
	if card := eval[string](t, ctx, `document.getElementById("report-card").textContent`); !strings.Contains(card, "mistakes: bare_lf_command") {
		t.Errorf("the report card shown: %q", card)
	}
	diag := eval[string](t, ctx, `document.querySelector('#transcript .diag').textContent`)
	if !strings.Contains(diag, "RFC 5321") || !strings.Contains(diag, "a correct client") {
		t.Errorf("the diagnosis shown: %q", diag)
	}
	// Inline: beside the line it is about, where the terminal log has it
	// (a line ending's diagnosis comes as the line is read, before it).
	if near := eval[string](t, ctx, `(d => [d.previousElementSibling, d.nextElementSibling].map(e => e ? e.textContent : "").join("|"))(document.querySelector('#transcript .diag'))`); !strings.Contains(near, "C: EHLO student"+markup) {
		t.Errorf("the diagnosis is between %q, not beside the EHLO line", near)
	}

	if *update {
		var png []byte
		step(t, ctx, "screenshot", 15*time.Second, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			var err error
			png, err = chromedp.FullScreenshot(100)(ctx, tg)
			return err
		}))
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "serve-web.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	step(t, ctx, "open the HTML message", 15*time.Second,
		click(`#messages tbody tr[data-id="1"]`),
		chromedp.WaitVisible(chromedp.CSS(`iframe#html-part`)),
		chromedp.Poll[chromedp.Void](`performance.getEntriesByType("resource").some(e => e.name.endsWith("/api/v1/messages/1/html"))`),
		chromedp.Sleep(500*time.Millisecond)) // a script, were it let run, has run by now
	if got := eval[string](t, ctx, `(document.body.dataset.pwned || "") + "|" + document.title`); got != "|smtprun serve" {
		t.Errorf("the message's script ran in the page: marker and title %q", got)
	}
	if got := eval[int](t, ctx, `document.querySelectorAll("#injected").length`); got != 0 {
		t.Errorf("client text became %d elements of the page", got)
	}
	if got := eval[string](t, ctx, `document.querySelector("#detail h2").textContent`); got != "browser test "+markup {
		t.Errorf("the subject shown: %q", got)
	}
	if got := eval[string](t, ctx, `document.getElementById("html-part").getAttribute("sandbox")`); got != "" {
		t.Errorf("the HTML part's iframe has sandbox=%q, want no permissions", got)
	}
	if got := eval[string](t, ctx, `document.getElementById("text-part").textContent`); got != "Hello in text." {
		t.Errorf("the text part shown: %q", got)
	}
	step(t, ctx, "set a fault plan through the page", 15*time.Second,
		chromedp.SetValue(chromedp.CSS(`#fault-edit`), "rcpt#1=550 5.1.1 No such user here"),
		click(`#faults-save`),
		chromedp.Poll[chromedp.Void](`document.getElementById("fault-list").textContent.includes("rcpt#1=550 5.1.1 No such user here")`))
	if got := sendSMTPLib(t, sub, ca, "after the plan", "friend@example.edu"); !strings.Contains(got, "No such user here") {
		t.Errorf("with the plan set in the page, smtplib said %q\n%s", got, out)
	}
	step(t, ctx, "the refused session and the spent plan show", 15*time.Second,
		chromedp.WaitVisible(chromedp.CSS(`#sessions tbody tr[data-id="3"] td.outcome-failed`)),
		chromedp.Poll[chromedp.Void](`document.getElementById("fault-list").textContent.includes("fired 1 (spent)")`))

	// A greeting refused by a plan set in the page: the session fails, and
	// its card names the greeting, not a command.
	step(t, ctx, "refuse the next greeting through the page", 15*time.Second,
		chromedp.SetValue(chromedp.CSS(`#fault-edit`), "connect#1=554 5.7.1 No SMTP service here"),
		click(`#faults-save`),
		chromedp.Poll[chromedp.Void](`document.getElementById("fault-list").textContent.includes("connect#1=554")`))
	c, err := net.DialTimeout("tcp", sub, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	greeting, _ := r.ReadString('\n')
	fmt.Fprint(c, "QUIT\r\n")
	r.ReadString('\n')
	c.Close()
	if !strings.HasPrefix(greeting, "554 5.7.1 No SMTP service here") {
		t.Errorf("greeting %q", greeting)
	}
	step(t, ctx, "open the refused session", 15*time.Second,
		chromedp.WaitVisible(chromedp.CSS(`#sessions tbody tr[data-id="4"] td.outcome-failed`)),
		click(`#sessions tbody tr[data-id="4"]`),
		chromedp.Poll[chromedp.Void](`(document.getElementById("report-card") || {textContent: ""}).textContent.includes("failed:")`))
	if card := eval[string](t, ctx, `document.getElementById("report-card").textContent`); !strings.Contains(card, "failed: the greeting refused: 554 5.7.1 No SMTP service here") || strings.Contains(card, "(greeting)") || strings.Contains(card, "mistakes: none") {
		t.Errorf("the refused session's report card: %q", card)
	}

	if got := eval[string](t, ctx, `window.noReload || ""`); got != "still here" {
		t.Errorf("the page reloaded")
	}
	if p := problems()[baseline:]; len(p) > 0 {
		t.Errorf("the page logged errors: %v", p)
	}
}
