package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smtprun/smtprun/internal/testenv"
)

// syncBuffer is written by the server goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `smtprun serve` on ephemeral loopback ports and returns
// the submission and implicit-TLS addresses it printed.
func startServe(t *testing.T, args ...string) (sub, tls string, out *syncBuffer) {
	t.Helper()
	out = &syncBuffer{}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	args = append([]string{"--listen", "127.0.0.1:0", "--listen-tls", "127.0.0.1:0", "--listen-oauth", "127.0.0.1:0", "--no-color"}, args...)
	inv := &invocation{cmd: lookupCommand("serve"), ctx: ctx, stdout: out, stderr: out}
	go func() { done <- runServe(inv, args) }()
	t.Cleanup(func() {
		stop()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d\n%s", code, out)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("serve did not stop")
		}
	})
	re := regexp.MustCompile(`listening on (\S+): (submission|implicit)`)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range re.FindAllStringSubmatch(out.String(), -1) {
			if m[2] == "submission" {
				sub = m[1]
			} else {
				tls = m[1]
			}
		}
		if sub != "" && tls != "" && strings.Contains(out.String(), "Ctrl-C") {
			return sub, tls, out
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("serve did not start:\n%s", out)
	return
}

// TestServeWithSwaks: a third-party client (swaks, in Perl) runs STARTTLS,
// AUTH LOGIN and a message against `smtprun serve`, verifying the
// certificate with the --ca-out file; the saved .eml is what it sent.
func TestServeWithSwaks(t *testing.T) {
	swaks, err := exec.LookPath("swaks")
	if err != nil {
		testenv.Missing(t, "swaks is not installed; `apt-get install swaks` (or .ci/setup-postfix) enables this test")
	}
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	save := filepath.Join(dir, "saved")
	sub, implicit, out := startServe(t, "--profile", "office365", "--ca-out", ca, "--save", save)
	user, pass := "student@contoso.onmicrosoft.com", "practice-password"
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"starttls", []string{"--server", sub, "--tls"}},
		{"implicit", []string{"--server", implicit, "--tlsc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := filepath.Glob(filepath.Join(save, "*.eml"))
			args := append(tc.args, "--tls-verify", "--tls-ca-path", ca,
				"--auth", "LOGIN", "--auth-user", user, "--auth-password", pass,
				"--from", user, "--to", "friend@example.com",
				"--header", "Subject: practice "+tc.name, "--body", "hello\n.dotted line\nbye")
			cmd := exec.Command(swaks, args...)
			got, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("swaks failed: %v\n%s\nserver:\n%s", err, got, out)
			}
			if !strings.Contains(string(got), "235 2.7.0 Authentication successful") {
				t.Errorf("swaks did not authenticate:\n%s", got)
			}
			after, _ := filepath.Glob(filepath.Join(save, "*.eml"))
			if len(after) != len(before)+1 {
				t.Fatalf("%d saved messages, want %d", len(after), len(before)+1)
			}
			eml, _ := os.ReadFile(after[len(after)-1])
			for _, want := range []string{"Subject: practice " + tc.name + "\r\n", "\r\n\r\nhello\r\n.dotted line\r\nbye\r\n"} {
				if !strings.Contains(string(eml), want) {
					t.Errorf("saved message lacks %q:\n%q", want, eml)
				}
			}
			if strings.Count(out.String(), pass) > 1 {
				t.Errorf("the password appears in the server transcript beyond the banner")
			}
		})
	}
}

func TestServeUsage(t *testing.T) {
	code, out, _ := cli(t, "serve", "--help")
	if code != 0 || !strings.Contains(out, "--ca-out FILE") {
		t.Errorf("exit %d\n%s", code, out)
	}
	code, _, errOut := cli(t, "serve", "--profile", "hotmail")
	if code != exitUsage || !strings.Contains(errOut, `unknown profile "hotmail"`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
