package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWebDocsCIExample runs docs/web.md's CI script as a user would, with
// the built binary and free loopback ports in place of 2525 and 8025: it
// must pass as written, and fail when what it asserts is not so.
func TestWebDocsCIExample(t *testing.T) {
	need(t, "swaks", "`apt-get install swaks` (or .ci/setup-postfix)")
	need(t, "curl", "`apt-get install curl` (.ci/run installs it)")
	page, err := os.ReadFile("../../docs/web.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(page), "<!-- run by TestWebDocsCIExample -->\n```sh\n")
	script, _, ok2 := strings.Cut(rest, "```\n")
	if !ok || !ok2 {
		t.Fatal("docs/web.md has no CI example marked for this test")
	}
	bin := builtBinary(t)
	run := func(t *testing.T, script string) (string, error) {
		script = strings.NewReplacer("127.0.0.1:2525", freePort(t), "127.0.0.1:8025", freePort(t)).Replace(script)
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		log, _ := os.ReadFile(filepath.Join(cmd.Dir, "serve.log"))
		return string(out) + "\nserve.log:\n" + string(log), err
	}
	if out, err := run(t, script); err != nil {
		t.Fatalf("the CI example failed: %v\n%s", err, out)
	}
	// The assertions can fail: a recipient nobody wrote to is not found.
	wrong := strings.Replace(script, "wait?to=alice@example.com", "wait?to=bob@example.com", 1)
	wrong = strings.Replace(wrong, "timeout=10s", "timeout=1s", 1)
	if out, err := run(t, wrong); err == nil {
		t.Errorf("the CI example passed while waiting for a message nobody sent:\n%s", out)
	}
}

// freePort returns a loopback address with a port free a moment ago.
func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
