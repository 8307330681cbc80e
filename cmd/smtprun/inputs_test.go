package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestInputsBounded: /dev/zero or a FIFO nobody writes to, named as the
// script, an include, a --variables-file or a --ca file, ends in a named
// error within the timeout instead of filling memory or hanging.
func TestInputsBounded(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	ok := writeFile(t, dir, "ok.smtp", "connect \"127.0.0.1:1\"\nexpect 220\n")
	link := func(name, to string) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(to, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	link("zero.smtp", "/dev/zero")
	link("fifo.smtp", fifo)
	inclZero := writeFile(t, dir, "incl-zero.smtp", "include \"zero.smtp\"\n")
	inclFIFO := writeFile(t, dir, "incl-fifo.smtp", "include \"fifo.smtp\"\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"script /dev/zero", []string{"check", "/dev/zero"}, "larger than 4 MiB"},
		{"script FIFO", []string{"check", "--timeout", "300ms", fifo}, "no writer opened it within 300ms"},
		{"include /dev/zero", []string{"check", inclZero}, "larger than 4 MiB"},
		{"include FIFO", []string{"check", "--timeout", "300ms", inclFIFO}, "no writer opened it within 300ms"},
		{"--variables-file /dev/zero", []string{"check", "--variables-file", "/dev/zero", ok}, "larger than 1 MiB"},
		{"--variables-file FIFO", []string{"check", "--timeout", "300ms", "--variables-file", fifo, ok}, "no writer opened it within 300ms"},
		{"--ca /dev/zero", []string{"--ca", "/dev/zero", ok}, "larger than 4 MiB"},
		{"--ca FIFO", []string{"--timeout", "300ms", "--ca", fifo, ok}, "no writer opened it within 300ms"},
		{"test: script FIFO", []string{"test", "--timeout", "300ms", fifo}, "no writer opened it within 300ms"},
		{"load merge /dev/zero", []string{"load", "merge", "/dev/zero"}, "larger than 64 MiB"},
		{"test: --ca FIFO", []string{"test", "--timeout", "300ms", "--ca", fifo, ok}, "no writer opened it within 300ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			code, out, errOut := cli(t, tt.args...)
			if code == exitOK {
				t.Errorf("exit 0\n%s", out)
			}
			if !strings.Contains(out+errOut, tt.want) {
				t.Errorf("output lacks %q:\n%s%s", tt.want, out, errOut)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestCtrlCEndsAFIFOScriptRead: one SIGINT ends smtprun waiting for a
// writer to the FIFO named as its script, exit 130, within its 60 s
// timeout.
func TestCtrlCEndsAFIFOScriptRead(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "script.smtp")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skipf("no FIFOs here: %v", err)
			}
			cmd := exec.Command(os.Args[0], "--no-color", "--timeout", "60s", fifo)
			cmd.Env = append(os.Environ(), "SMTPRUN_TEST_MAIN=1")
			errOut := &syncBuffer{}
			cmd.Stderr = errOut
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond) // into the open
			cmd.Process.Signal(sig)
			code, ok := waitExit(cmd, 5*time.Second)
			if !ok || code != exitInterrupted {
				t.Fatalf("exit %d (ended: %v), want %d\n%s", code, ok, exitInterrupted, errOut.String())
			}
			if !strings.Contains(errOut.String(), "interrupted") {
				t.Errorf("stderr does not say interrupted: %s", errOut.String())
			}
		})
	}
}
