package main

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"

	"github.com/smtprun/smtprun/load"
)

const loadTestScript = "../../load/testdata/sandbox-submit.smtp"

// TestLoadProgressOnPTY: on a terminal the live display is drawn (and
// redrawn with carriage returns) on stderr, and cleared before the
// summary, which goes to stdout.
func TestLoadProgressOnPTY(t *testing.T) {
	master, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close(); tty.Close() })
	if err := pty.Setsize(tty, &pty.Winsize{Rows: 24, Cols: 80}); err != nil {
		t.Fatal(err)
	}
	screen := &syncBuffer{}
	go io.Copy(screen, master)
	t.Setenv("TERM", "xterm")
	out := &syncBuffer{}
	code := run([]string{"load", "--sandbox", "-c", "2", "-n", "12", "--rate", "12", loadTestScript}, nil, out, tty)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, screen)
	}
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(screen.String(), "\r\x1b[K") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	s := screen.String()
	for _, want := range []string{"\rload [", "/12 ", "errors", " left", "\x1b[K"} {
		if !strings.Contains(s, want) {
			t.Errorf("terminal lacks %q:\n%q", want, s)
		}
	}
	if !strings.Contains(out.String(), "iterations  12 ok, 0 failed (of 12)") {
		t.Errorf("summary:\n%s", out)
	}
	// One line that rewrites itself: no line feed, and every redraw fits
	// the 80 columns.
	if strings.ContainsAny(s, "\n") {
		t.Errorf("the display printed new lines:\n%q", s)
	}
	for _, draw := range strings.Split(s, "\r") {
		draw = strings.TrimSuffix(draw, "\x1b[K")
		if n := utf8.RuneCountInString(draw); n > 79 {
			t.Errorf("a redraw of %d columns on an 80-column terminal: %q", n, draw)
		}
	}
	if strings.Contains(out.String(), "\r") {
		t.Errorf("progress leaked into stdout:\n%q", out)
	}
}

// TestLoadNoProgressWithoutTerminal: without a terminal (a pipe, a CI
// log) stderr gets nothing, and stdout only the summary; -q likewise.
func TestLoadNoProgressWithoutTerminal(t *testing.T) {
	for _, q := range [][]string{nil, {"-q"}} {
		out, errOut := &syncBuffer{}, &syncBuffer{}
		args := append(append([]string{"load"}, q...), "--sandbox", "-c", "2", "-n", "8", "--rate", "16", loadTestScript)
		if code := run(args, nil, out, errOut); code != exitOK {
			t.Fatalf("%v: exit %d\n%s\n%s", q, code, out, errOut)
		}
		if errOut.String() != "" {
			t.Errorf("%v: stderr %q", q, errOut)
		}
		if !strings.HasPrefix(out.String(), "load: ") || strings.Contains(out.String(), "\r") {
			t.Errorf("%v: stdout:\n%q", q, out)
		}
	}
}

// TestLoadVariablesFile: load takes --variables-file as a run does: a
// wrong password from the file fails every iteration where the sandbox's
// practice password (filled in when none is set) passes.
func TestLoadVariablesFile(t *testing.T) {
	dir := t.TempDir()
	vf := filepath.Join(dir, "ci.env")
	if err := os.WriteFile(vf, []byte("SMTP_USER=ci@example.com\nSMTP_PASS=not-the-practice-password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut := &syncBuffer{}, &syncBuffer{}
	if code := run([]string{"load", "-q", "--sandbox", "-c", "1", "-n", "2", "--variables-file", vf, loadTestScript}, nil, out, errOut); code != exitExpectation {
		t.Errorf("with the file: exit %d, want %d\n%s\n%s", code, exitExpectation, out, errOut)
	}
	if !strings.Contains(out.String(), "0 ok, 2 failed") {
		t.Errorf("with the file, the summary:\n%s", out)
	}
	out, errOut = &syncBuffer{}, &syncBuffer{}
	if code := run([]string{"load", "-q", "--sandbox", "-c", "1", "-n", "2", loadTestScript}, nil, out, errOut); code != exitOK {
		t.Errorf("without it: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestLoadRefusesPublicProviders: the script connects to smtp.gmail.com;
// without --sandbox load mode says why it will not, and how to practise.
func TestLoadRefusesPublicProviders(t *testing.T) {
	out, errOut := &syncBuffer{}, &syncBuffer{}
	code := run([]string{"load", "-n", "1", loadTestScript}, nil, out, errOut)
	if code != exitUsage || !strings.Contains(errOut.String(), "refusing to load smtp.gmail.com") || !strings.Contains(errOut.String(), "--sandbox") {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
}

// TestLoadShardsThenMerge: two shard processes' JSON reports merge into
// the summary of the whole run.
func TestLoadShardsThenMerge(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for _, shard := range []string{"0/2", "1/2"} {
		f := filepath.Join(dir, strings.ReplaceAll(shard, "/", "-")+".json")
		files = append(files, f)
		out := &syncBuffer{}
		if code := run([]string{"load", "-q", "--sandbox", "-c", "2", "-n", "9", "--shard", shard, "--report-json", f, loadTestScript}, nil, out, io.Discard); code != exitOK {
			t.Fatalf("shard %s: exit %d\n%s", shard, code, out)
		}
		if !strings.Contains(out.String(), "shard "+shard) {
			t.Errorf("shard %s summary:\n%s", shard, out)
		}
	}
	out, errOut := &syncBuffer{}, &syncBuffer{}
	if code := run(append([]string{"load", "merge"}, files...), nil, out, errOut); code != exitOK {
		t.Fatalf("merge: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"2 shards merged", "iterations  9 ok, 0 failed (of 9)", "messages    9 accepted", "conversation"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("merged summary lacks %q:\n%s", want, out)
		}
	}
	if code := run([]string{"load", "-n", "4", "--shard", "2/2", "--sandbox", loadTestScript}, nil, io.Discard, errOut); code != exitUsage {
		t.Errorf("--shard 2/2: exit %d", code)
	}
}

// TestLoadCtrlC: a real SIGINT stops the load, prints the partial
// summary and exits 130.
func TestLoadCtrlC(t *testing.T) {
	// Without --no-limits a fast machine reaches the profile's 500
	// messages a day before the interrupt, and the summary has failures.
	cmd := exec.Command(os.Args[0], "load", "--sandbox", "--no-limits", "-c", "2", "--duration", "1m", loadTestScript)
	cmd.Env = append(os.Environ(), "SMTPRUN_TEST_MAIN=1")
	out, errOut := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(800 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatal("load did not stop after SIGINT")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want %d\nstdout:\n%s\nstderr:\n%s", err, exitInterrupted, out, errOut)
	}
	s := out.String()
	if !strings.Contains(s, "interrupted: partial results") || !strings.Contains(s, " ok, 0 failed") || !strings.Contains(s, "conversation") {
		t.Errorf("partial summary:\n%s", s)
	}
}

// TestRepeatErrorNamesTheIteration: a failure inside a repeat block is
// reported at its line with the iteration it happened in: the sandbox's
// too-many-errors scenario hangs up with 421 after three error replies.
func TestRepeatErrorNamesTheIteration(t *testing.T) {
	dir := t.TempDir()
	script := writeFile(t, dir, "errors.smtp", `connect "mail.example.edu:25"
expect 220
send "EHLO x"
expect 250
repeat 5 {
  send "BOGUS"
  expect 5xx
}
`)
	out, errOut := &syncBuffer{}, &syncBuffer{}
	code := run([]string{"--sandbox", "--no-color", "--scenario", "too-many-errors", script}, nil, out, errOut)
	if code != exitExpectation || !strings.Contains(errOut.String(), "errors.smtp:7:10") ||
		!strings.Contains(errOut.String(), "note: in iteration 4 of 5 of the repeat on line 5") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestLoadProcs: --procs sets how many threads run the conversations for
// the run and restores the setting after; a load with it passes.
func TestLoadProcs(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	restore := withProcs(1)
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Errorf("during: GOMAXPROCS %d, want 1", got)
	}
	restore()
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Errorf("after: GOMAXPROCS %d, want %d", got, before)
	}
	withProcs(0)()
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Errorf("--procs 0 changed GOMAXPROCS to %d", got)
	}
	out, errOut := &syncBuffer{}, &syncBuffer{}
	if code := run([]string{"load", "-q", "--sandbox", "--procs", "1", "-c", "2", "-n", "4", loadTestScript}, nil, out, errOut); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if got := runtime.GOMAXPROCS(0); got != before {
		t.Errorf("after the load: GOMAXPROCS %d, want %d", got, before)
	}
}

// TestLoadGC: a load collects garbage at GOGC=50 unless GOGC is set, and
// restores the setting after.
func TestLoadGC(t *testing.T) {
	t.Setenv("GOGC", "")
	os.Unsetenv("GOGC")
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	restore := loadGC()
	if got := debug.SetGCPercent(50); got != 50 {
		t.Errorf("during a load: GC percent %d, want 50", got)
	}
	restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("after: GC percent %d, want 100", got)
	}
	t.Setenv("GOGC", "200")
	loadGC()()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set, loadGC changed the GC percent to %d", got)
	}
}

// The line fits every width, its share agrees with its counts, and time
// is shown once.
func TestProgressLine(t *testing.T) {
	counted := load.Progress{Done: 544, OK: 540, Failed: 4, Messages: 540, Planned: 1500, Elapsed: 2 * time.Second}
	timed := load.Progress{Done: 90, OK: 90, Messages: 90, Elapsed: 3 * time.Second, Duration: 10 * time.Second}
	for _, width := range []int{20, 40, 60, 80, 100, 200} {
		for _, p := range []load.Progress{counted, timed} {
			line := progressLine(p, width)
			if n := utf8.RuneCountInString(line); n > width-1 {
				t.Errorf("width %d: %d columns: %q", width, n, line)
			}
			if strings.Count(line, " left") > 1 || strings.Contains(line, "elapsed") {
				t.Errorf("width %d: time shown twice: %q", width, line)
			}
		}
	}
	line := progressLine(counted, 80)
	for _, want := range []string{"load [", "544/1500", " 36% ", "4 errors", "272/s", "2s, 4s left"} {
		if !strings.Contains(line, want) {
			t.Errorf("80 columns: %q lacks %q", line, want)
		}
	}
	if line := progressLine(timed, 80); !strings.Contains(line, "90 done") || !strings.Contains(line, " 30% ") || !strings.Contains(line, "3s, 7s left") {
		t.Errorf("a --duration run: %q", line)
	}
	// On a narrow terminal the bar goes first, the counts last.
	if line := progressLine(counted, 30); strings.Contains(line, "[") || !strings.Contains(line, "544/1500") {
		t.Errorf("30 columns: %q", line)
	}
}
