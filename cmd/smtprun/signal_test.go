package main

import (
	"bufio"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run this package's main() in a child process, to
// deliver a real signal to it.
func TestMain(m *testing.M) {
	if os.Getenv("SMTPRUN_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestCtrlC: SIGINT during a run says QUIT, closes, and exits 130.
func TestCtrlC(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	gotQuit := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write([]byte("220 slow server\r\n"))
		r := bufio.NewReader(c)
		r.ReadString('\n') // NOOP, never answered
		line, _ := r.ReadString('\n')
		c.Write([]byte("221 bye\r\n"))
		gotQuit <- strings.TrimSpace(line)
	}()
	dir := t.TempDir()
	script := writeFile(t, dir, "wait.smtp", "connect \"${ADDR}\"\nexpect 220\nsend \"NOOP\"\nexpect 250\n")
	cmd := exec.Command(os.Args[0], "--no-color", "--var", "ADDR="+l.Addr().String(), script)
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
	err = cmd.Wait()
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
