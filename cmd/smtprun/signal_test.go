package main

import (
	"bufio"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smtprun/smtprun/internal/smtptest"
)

// TestMain lets a test run this package's main() in a child process, to
// deliver a real signal to it.
func TestMain(m *testing.M) {
	if os.Getenv("SMTPRUN_TEST_MAIN") == "1" {
		main()
		return
	}
	if os.Getenv("SMTPRUN_TEST_STUCK") == "1" {
		// A run that ignores its cancellation, as a wait the engine
		// cannot interrupt would: only the second signal can end it.
		ctx, stop := interruptContext()
		defer stop()
		os.Stdout.WriteString("ready\n")
		<-ctx.Done()
		os.Stdout.WriteString("cancelled\n")
		select {}
	}
	os.Exit(m.Run())
}

// TestCtrlC: SIGINT during a run says QUIT, closes, and exits 130.
func TestCtrlC(t *testing.T) {
	gotQuit := make(chan string, 1)
	addr := smtptest.Serve(t, smtptest.NeverAnswersNOOP(gotQuit))
	dir := t.TempDir()
	script := writeFile(t, dir, "wait.smtp", "connect \"${ADDR}\"\nexpect 220\nsend \"NOOP\"\nexpect 250\n")
	cmd := exec.Command(os.Args[0], "--no-color", "--var", "ADDR="+addr, script)
	cmd.Env = append(os.Environ(), "SMTPRUN_TEST_MAIN=1")
	out, errOut := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "C: NOOP") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit: %v, want %d\nstdout:\n%s\nstderr:\n%s", err, exitInterrupted, out.String(), errOut.String())
	}
	select {
	case q := <-gotQuit:
		if q != "QUIT" {
			t.Errorf("server got %q after the interrupt, want QUIT", q)
		}
	case <-time.After(5 * time.Second):
		t.Error("server never got QUIT")
	}
	if !strings.Contains(errOut.String(), "interrupted") {
		t.Errorf("stderr does not say interrupted: %s", errOut.String())
	}
}

// TestCtrlCEndsAFIFOWait: one SIGINT ends a run waiting for a FIFO nobody
// writes to (issue 13, item 11): the wait honours cancellation, and the
// run exits 130 well within its 60 s timeout.
func TestCtrlCEndsAFIFOWait(t *testing.T) {
	addr := smtptest.Serve(t, func(c net.Conn, r *bufio.Reader) {
		c.Write([]byte("220 fake\r\n"))
		r.ReadString('\n')
		c.Write([]byte("354 go\r\n"))
		r.ReadString('\n')
	})
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	script := writeFile(t, dir, "fifo.smtp", "connect \"${ADDR}\"\nexpect 220\nsend \"DATA\"\nexpect 354\nmessage file \"${FILE}\"\nexpect 250\n")
	cmd := exec.Command(os.Args[0], "--no-color", "--timeout", "60s", "--var", "ADDR="+addr, "--var", "FILE="+fifo, script)
	cmd.Env = append(os.Environ(), "SMTPRUN_TEST_MAIN=1")
	out, errOut := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "354") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // into the open of the FIFO
	cmd.Process.Signal(syscall.SIGINT)
	code, ok := waitExit(cmd, 5*time.Second)
	if !ok {
		t.Fatalf("still running 5 s after SIGINT\nstdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	}
	if code != exitInterrupted {
		t.Errorf("exit %d, want %d\nstderr:\n%s", code, exitInterrupted, errOut.String())
	}
}

// TestSecondCtrlCAlwaysEnds: whatever the first SIGINT could not stop, the
// second ends the program (issue 13, item 11).
func TestSecondCtrlCAlwaysEnds(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "SMTPRUN_TEST_STUCK=1")
	out := &syncBuffer{}
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor := func(s string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(out.String(), s) {
			if time.Now().After(deadline) {
				t.Fatalf("child never said %q: %q", s, out.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("ready")
	cmd.Process.Signal(syscall.SIGINT)
	waitFor("cancelled")
	cmd.Process.Signal(syscall.SIGINT)
	if _, ok := waitExit(cmd, 5*time.Second); !ok {
		t.Fatal("a second SIGINT did not end the program")
	}
}

// waitExit waits for cmd up to d; the exit code is -1 for a signal.
func waitExit(cmd *exec.Cmd, d time.Duration) (int, bool) {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), true
		}
		return 0, err == nil
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		return 0, false
	}
}
