package main

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smtprun/smtprun/internal/testenv"
)

// foreignDir is a directory another local user (nobody) owns, as one
// they made in /tmp would be, with their link at name to a file of the
// victim's ("bashrc", beside it): the writer must refuse the directory
// and leave the victim's file as it was.
func foreignDir(t *testing.T, name string) (dir, victim string) {
	t.Helper()
	uid, gid := testenv.OtherUser(t)
	base := t.TempDir()
	victim = filepath.Join(base, "bashrc")
	if err := os.WriteFile(victim, []byte("# the victim's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(base, "theirs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if name != "" {
		link := filepath.Join(dir, name)
		if err := os.Symlink(victim, link); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(link, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return dir, victim
}

func untouched(t *testing.T, victim string) {
	t.Helper()
	if b, err := os.ReadFile(victim); err != nil || string(b) != "# the victim's\n" {
		t.Errorf("the victim's file was written through the link: %.60q... (%v)", b, err)
	}
}

// TestReportsRefuseAnotherUsersDirectory: every report writer refuses a
// directory another user owns (exit 1, the reason named) instead of
// writing through the link planted at the report's name.
func TestReportsRefuseAnotherUsersDirectory(t *testing.T) {
	const script = "testdata/suite/a-pass.smtp"
	tests := []struct {
		name string
		file string // planted at this name
		args func(dir string) []string
	}{
		{"test --report-junit", "junit.xml", func(d string) []string {
			return []string{"test", "--sandbox", "--report-junit", filepath.Join(d, "junit.xml"), script}
		}},
		{"test --report-tap", "r.tap", func(d string) []string {
			return []string{"test", "--sandbox", "--report-tap", filepath.Join(d, "r.tap"), script}
		}},
		{"test --report-json", "r.json", func(d string) []string {
			return []string{"test", "--sandbox", "--report-json", filepath.Join(d, "r.json"), script}
		}},
		{"test --report-html", "index.html", func(d string) []string {
			return []string{"test", "--sandbox", "--report-html", d, script}
		}},
		{"run --report-json", "r.json", func(d string) []string {
			return []string{"--sandbox", "--report-json", filepath.Join(d, "r.json"), script}
		}},
		{"run --report-html", "index.html", func(d string) []string {
			return []string{"--sandbox", "--report-html", d, script}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, victim := foreignDir(t, tt.file)
			code, _, errOut := cli(t, tt.args(dir)...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d\n%s", code, exitUsage, errOut)
			}
			if !strings.Contains(errOut, "refusing to write into") || !strings.Contains(errOut, "owned by another user") {
				t.Errorf("stderr does not say why:\n%s", errOut)
			}
			untouched(t, victim)
		})
	}
}

// TestReportsArePrivate: reports hold the conversation, so they are
// 0600 and the HTML directory smtprun makes is 0700, whatever the umask.
func TestReportsArePrivate(t *testing.T) {
	dir := t.TempDir()
	html := filepath.Join(dir, "html")
	args := []string{"test", "--sandbox", "--report-html", html, "testdata/suite/a-pass.smtp"}
	for _, f := range []string{"junit.xml", "r.tap", "r.json"} {
		flag := map[string]string{"junit.xml": "--report-junit", "r.tap": "--report-tap", "r.json": "--report-json"}[f]
		args = append(args[:1], append([]string{flag, filepath.Join(dir, f)}, args[1:]...)...)
	}
	if code, out, errOut := cli(t, args...); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	want := map[string]fs.FileMode{"junit.xml": 0o600, "r.tap": 0o600, "r.json": 0o600, "html": 0o700, "html/index.html": 0o600}
	for name, mode := range want {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %04o, want %04o", name, fi.Mode().Perm(), mode)
		}
	}
}

// TestServeRefusesAnotherUsersDirectory: --record and --save into a
// directory another user owns end serve at once, exit 1.
func TestServeRefusesAnotherUsersDirectory(t *testing.T) {
	for _, flag := range []string{"--record", "--save"} {
		t.Run(flag, func(t *testing.T) {
			dir, victim := foreignDir(t, "")
			var out syncBuffer
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			done := make(chan int, 1)
			inv := &invocation{cmd: lookupCommand("serve"), ctx: ctx, stdout: &out, stderr: &out}
			go func() {
				done <- runServe(inv, []string{"--listen", "127.0.0.1:0", "--listen-tls", "127.0.0.1:0", "--listen-oauth", "127.0.0.1:0", "--no-color", flag, dir})
			}()
			select {
			case code := <-done:
				if code != exitUsage {
					t.Errorf("exit %d, want %d\n%s", code, exitUsage, out.String())
				}
			case <-time.After(3 * time.Second):
				stop()
				<-done
				t.Fatalf("serve started with %s in another user's directory:\n%s", flag, out.String())
			}
			if !strings.Contains(out.String(), "owned by another user") {
				t.Errorf("serve does not say why:\n%s", out.String())
			}
			untouched(t, victim)
		})
	}
}

// TestRecordPassesOverPlantedNames: in a shared sticky directory (as
// /tmp is) another user plants links at the next seconds' predictable
// recording names; the session is recorded under another name, 0600,
// and nothing is written through the links.
func TestRecordPassesOverPlantedNames(t *testing.T) {
	uid, gid := testenv.OtherUser(t)
	base := t.TempDir()
	victim := filepath.Join(base, "bashrc")
	os.WriteFile(victim, []byte("# the victim's\n"), 0o644)
	shared := filepath.Join(base, "shared")
	os.Mkdir(shared, 0o700)
	if err := os.Chmod(shared, 0o777|fs.ModeSticky); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for s := -1; s < 10; s++ {
		name := fmt.Sprintf("session-%s-0001-postfix.smtp", now.Add(time.Duration(s)*time.Second).Format("20060102T150405Z"))
		link := filepath.Join(shared, name)
		if err := os.Symlink(victim, link); err != nil {
			t.Fatal(err)
		}
		os.Lchown(link, uid, gid)
	}
	sub, _, out := startServe(t, "--profile", "postfix", "--record", shared)
	c, err := net.DialTimeout("tcp", sub, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	for _, line := range []string{"", "EHLO laptop", "QUIT"} {
		if line != "" {
			fmt.Fprint(c, line+"\r\n")
		}
		for {
			l, err := r.ReadString('\n')
			if err != nil || len(l) < 4 || l[3] != '-' {
				break
			}
		}
	}
	c.Close()
	var recorded string
	deadline := time.Now().Add(5 * time.Second)
	for recorded == "" && time.Now().Before(deadline) {
		matches, _ := filepath.Glob(filepath.Join(shared, "session-*-0001-postfix-*.smtp"))
		if len(matches) > 0 {
			recorded = matches[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	if recorded == "" {
		t.Fatalf("no recording under another name:\n%s", out.String())
	}
	fi, err := os.Lstat(recorded)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("recording %s: %v, %v; want a regular file 0600", recorded, fi.Mode(), err)
	}
	if b, _ := os.ReadFile(recorded); !strings.Contains(string(b), "EHLO laptop") {
		t.Errorf("the recording lacks the session:\n%s", b)
	}
	untouched(t, victim)
}

// TestFmtWriteFiles: fmt -w keeps the file's mode, formats through the
// user's own link (the link stays a link), and refuses a directory
// another user owns.
func TestFmtWriteFiles(t *testing.T) {
	dir := t.TempDir()
	messy := "connect   \"a:25\"\n\n\n\nexpect 220\n"
	p := writeFile(t, dir, "a.smtp", messy)
	os.Chmod(p, 0o640)
	link := filepath.Join(dir, "link.smtp")
	target := writeFile(t, dir, "target.smtp", messy)
	os.Symlink("target.smtp", link)
	if code, out, errOut := cli(t, "fmt", "-w", p, link); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %04o after fmt -w, want 0640", fi.Mode().Perm())
	}
	for _, f := range []string{p, target} {
		if b, _ := os.ReadFile(f); string(b) == messy {
			t.Errorf("%s was not formatted", f)
		}
	}
	if fi, _ := os.Lstat(link); fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("fmt -w replaced the link by a file")
	}

	theirs, victim := foreignDir(t, "")
	// Their directory, their file in it: the victim formats a script
	// someone else can swap for a link between read and write.
	uid, gid := testenv.OtherUser(t)
	os.Chown(theirs, 0, 0)
	q := writeFile(t, theirs, "b.smtp", messy)
	os.Chown(theirs, uid, gid)
	code, _, errOut := cli(t, "fmt", "-w", q)
	if code != exitUsage || !strings.Contains(errOut, "owned by another user") {
		t.Errorf("fmt -w in another user's directory: exit %d\n%s", code, errOut)
	}
	if b, _ := os.ReadFile(q); string(b) != messy {
		t.Errorf("the file in their directory was rewritten")
	}
	untouched(t, victim)
}
