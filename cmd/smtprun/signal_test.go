package main

import (
	"bufio"
	"context"
	"errors"
	"io"
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
		if os.Getenv("SMTPRUN_TEST_HIDE_INTERRUPT") == "1" {
			// The command never sees the first interrupt, as with a wait
			// that cannot be cancelled: only the second can end it.
			commandContextHook = func(ctx context.Context) context.Context {
				os.Stderr.WriteString("test: dispatched\n")
				go func() { <-ctx.Done(); os.Stderr.WriteString("test: first interrupt\n") }()
				return context.WithoutCancel(ctx)
			}
		}
		main()
		return
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

// TestInterruptHandlerInPlaceBeforeDone: the handler is installed aside
// while the command starts, but whatever waits on the context has it in
// place: a SIGINT right after Done returns cancels the context. Were it
// not installed yet, the signal would end this test binary.
func TestInterruptHandlerInPlaceBeforeDone(t *testing.T) {
	for range 20 {
		ctx, stop := interruptContext()
		done := ctx.Done()
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("SIGINT did not cancel the context")
		}
		stop()
	}
}

// TestCtrlCEndsAFIFOWait: one SIGINT ends a run waiting for a FIFO nobody
// writes to: the wait honours cancellation, and the
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

// TestSecondInterruptEndsEveryLongRunningCommand: whatever the first
// SIGINT could not stop, the second ends the program, for every command
// the interrupt policy covers. Each runs in a child process, busy with
// real work (a conversation with a server that never answers, a load, a
// server, an OAuth sign-in whose endpoint never answers, a FIFO nobody
// writes to named as the script), with the first interrupt hidden from
// it.
func TestSecondInterruptEndsEveryLongRunningCommand(t *testing.T) {
	silent := smtptest.Serve(t, smtptest.NeverAnswersNOOP(make(chan string, 16)))
	mute := smtptest.Serve(t, func(c net.Conn, r *bufio.Reader) { io.Copy(io.Discard, r) })
	dir := t.TempDir()
	script := writeFile(t, dir, "wait.smtp", "connect \"${ADDR}\"\nexpect 220\nsend \"NOOP\"\nexpect 250\n")
	fifo := filepath.Join(dir, "fifo.smtp")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	args := map[string][]string{
		"check": {"check", fifo},
		"fmt":   {"fmt", fifo},
		"run":   {"--var", "ADDR=" + silent, script},
		"test":  {"test", "--var", "ADDR=" + silent, script},
		"load":  {"load", "--sandbox", "-c", "1", "--duration", "1m", "../../load/testdata/sandbox-submit.smtp"},
		"serve": {"serve", "--listen", "127.0.0.1:0", "--listen-tls", "off", "--listen-oauth", "off"},
		"grade": {"grade", "testdata/grade/rubric.yaml", "--", "sleep", "30"},
		"token": {"token", "office365", "--no-cache", "--client-id", "test", "--issuer", "http://" + mute},
	}
	for _, c := range commands {
		if !c.longRunning {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			a, ok := args[c.name]
			if !ok {
				t.Fatalf("no case for the long-running command %s", c.name)
			}
			cmd := exec.Command(os.Args[0], a...)
			cmd.Env = append(os.Environ(), "SMTPRUN_TEST_MAIN=1", "SMTPRUN_TEST_HIDE_INTERRUPT=1", "XDG_CONFIG_HOME="+t.TempDir())
			out, errOut := &syncBuffer{}, &syncBuffer{}
			cmd.Stdout, cmd.Stderr = out, errOut
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			defer func() { cmd.Process.Kill(); <-done }()
			waitFor := func(s string) {
				t.Helper()
				deadline := time.Now().Add(5 * time.Second)
				for !strings.Contains(errOut.String(), s) {
					if time.Now().After(deadline) {
						t.Fatalf("child never said %q\nstdout:\n%s\nstderr:\n%s", s, out, errOut)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			waitFor("test: dispatched")
			time.Sleep(300 * time.Millisecond) // into its work
			cmd.Process.Signal(syscall.SIGINT)
			waitFor("test: first interrupt")
			select {
			case err := <-done:
				done <- err
				t.Fatalf("ended (exit %d) by the first interrupt it was not shown\nstdout:\n%s\nstderr:\n%s", exitOf(err), out, errOut)
			case <-time.After(300 * time.Millisecond):
			}
			cmd.Process.Signal(syscall.SIGINT)
			select {
			case err := <-done:
				done <- err
				if code := exitOf(err); code != -1 {
					t.Errorf("exit %d, want the end by SIGINT itself", code)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("a second SIGINT did not end %s\nstdout:\n%s\nstderr:\n%s", c.name, out, errOut)
			}
		})
	}
}

// waitExit waits for cmd up to d, and kills it if it is still running
// then; the exit code is -1 for a signal.
func waitExit(cmd *exec.Cmd, d time.Duration) (int, bool) {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return exitOf(err), true
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		return 0, false
	}
}

func exitOf(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return 0
}
