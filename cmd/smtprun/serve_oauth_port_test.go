package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeTwiceDefaultOAuth: two serve processes at once, each with the
// OAuth listener's default address (127.0.0.1:2580), both start; the one
// that cannot have the port says so and serves SMTP without it. The port
// is held by the test where it can be, so that neither gets it.
func TestServeTwiceDefaultOAuth(t *testing.T) {
	if ln, err := net.Listen("tcp", "127.0.0.1:2580"); err == nil {
		defer ln.Close()
	}
	var cmds []*exec.Cmd
	var outs []*syncBuffer
	for range 2 {
		cmd := exec.Command(os.Args[0], "serve", "--listen", "127.0.0.1:0", "--listen-tls", "127.0.0.1:0", "--no-color")
		cmd.Env = append(os.Environ(), "SMTPRUN_TEST_MAIN=1")
		out := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, out := range outs {
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(out.String(), "Ctrl-C stops the server.") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if !strings.Contains(out.String(), "Ctrl-C stops the server.") {
			t.Fatalf("serve %d did not start:\n%s", i+1, out)
		}
		if !strings.Contains(out.String(), "OAuth endpoints not started: cannot listen on 127.0.0.1:2580") {
			t.Errorf("serve %d does not say the OAuth port is taken:\n%s", i+1, out)
		}
	}
	for i, cmd := range cmds {
		cmd.Process.Signal(syscall.SIGINT)
		if err := cmd.Wait(); err != nil {
			t.Errorf("serve %d: %v\n%s", i+1, err, outs[i])
		}
	}
}

// TestServeExplicitOAuthPortTaken: an explicit --listen-oauth that cannot
// listen is still an error.
func TestServeExplicitOAuthPortTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	inv := &invocation{cmd: lookupCommand("serve"), ctx: ctx, stdout: out, stderr: out}
	code := runServe(inv, []string{"--listen", "127.0.0.1:0", "--listen-tls", "off", "--listen-oauth", ln.Addr().String()})
	if code != exitUsage || !strings.Contains(out.String(), "cannot listen on "+ln.Addr().String()) {
		t.Errorf("exit %d, want %d:\n%s", code, exitUsage, out)
	}
}
