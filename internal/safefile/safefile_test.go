package safefile_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smtprun/smtprun/internal/safefile"
	"github.com/smtprun/smtprun/internal/testenv"
)

// TestCheckDir: directories another user controls are refused, the
// user's own and sticky shared ones accepted.
func TestCheckDir(t *testing.T) {
	uid, gid := testenv.OtherUser(t)
	tests := []struct {
		name   string
		setup  func(t *testing.T, base string) string
		unsafe string // "" when the directory is fine
	}{
		{"own 0700", func(t *testing.T, base string) string { return mkdir(t, base, "own", 0o700) }, ""},
		{"own 0755", func(t *testing.T, base string) string { return mkdir(t, base, "own", 0o755) }, ""},
		{"own sticky 1777 like /tmp", func(t *testing.T, base string) string {
			return mkdir(t, base, "tmp", 0o777|fs.ModeSticky)
		}, ""},
		{"own 0777 not sticky", func(t *testing.T, base string) string { return mkdir(t, base, "open", 0o777) }, "writable by every user"},
		{"group-writable, another group", func(t *testing.T, base string) string {
			d := mkdir(t, base, "grp", 0o770)
			chown(t, d, os.Geteuid(), gid)
			return d
		}, "writable by group"},
		{"owned by nobody", func(t *testing.T, base string) string {
			d := mkdir(t, base, "theirs", 0o755)
			chown(t, d, uid, gid)
			return d
		}, "owned by another user"},
		{"own, inside one nobody owns", func(t *testing.T, base string) string {
			d := mkdir(t, base, "theirs", 0o755)
			in := mkdir(t, d, "mine", 0o700)
			chown(t, d, uid, gid)
			return in
		}, "owned by another user"},
		{"a link nobody owns to an own directory", func(t *testing.T, base string) string {
			l := symlink(t, mkdir(t, base, "own", 0o700), filepath.Join(base, "link"))
			chown(t, l, uid, gid)
			return l
		}, "is a symbolic link owned by another user"},
		{"an own link to an own directory", func(t *testing.T, base string) string {
			return symlink(t, mkdir(t, base, "own", 0o700), filepath.Join(base, "link"))
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.setup(t, t.TempDir())
			err := safefile.CheckDir(dir)
			var ue *safefile.UnsafeError
			switch {
			case tt.unsafe == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.unsafe != "" && !errors.As(err, &ue):
				t.Fatalf("accepted (err %v), want refused with %q", err, tt.unsafe)
			case tt.unsafe != "" && !strings.Contains(err.Error(), tt.unsafe):
				t.Fatalf("error %q lacks %q", err, tt.unsafe)
			}
		})
	}
}

// TestWritesNeverFollowPlantedLinks: another user's link at the name is
// never written through, by Create (refused) or Replace (refused in a
// sticky directory, where the link cannot be replaced; replaced in an
// own directory would need the user to have made it, so it is followed).
func TestWritesNeverFollowPlantedLinks(t *testing.T) {
	uid, gid := testenv.OtherUser(t)
	base := t.TempDir()
	victim := filepath.Join(base, "bashrc")
	if err := os.WriteFile(victim, []byte("original\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	shared := mkdir(t, base, "shared", 0o777|fs.ModeSticky)
	plant := func(name string) string {
		l := symlink(t, victim, filepath.Join(shared, name))
		chown(t, l, uid, gid)
		return l
	}
	if f, err := safefile.Create(plant("session.smtp"), 0o600); !errors.Is(err, fs.ErrExist) {
		f.Close()
		t.Errorf("Create through a planted link: %v, want fs.ErrExist", err)
	}
	var ue *safefile.UnsafeError
	if err := safefile.WriteFile(plant("report.xml"), []byte("evil\n"), 0o600); !errors.As(err, &ue) {
		t.Errorf("Replace of another user's link: %v, want *UnsafeError", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "original\n" {
		t.Errorf("the link's target was written: %q", b)
	}
}

// TestReplace: a new file gets perm, an own link's target is replaced
// and the link kept, a device is written to.
func TestReplace(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.json")
	if err := safefile.WriteFile(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	target := filepath.Join(dir, "target.smtp")
	os.WriteFile(target, []byte("old"), 0o640)
	link := symlink(t, "target.smtp", filepath.Join(dir, "link.smtp"))
	if err := safefile.WriteFile(link, []byte("new"), 0o640); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the user's own link was replaced by a file")
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("target holds %q, want new", b)
	}
	if err := safefile.WriteFile(os.DevNull, []byte("x"), 0o600); err != nil {
		t.Errorf("writing %s: %v", os.DevNull, err)
	}
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode().IsRegular() {
		t.Fatalf("%s was replaced", os.DevNull)
	}
}

// TestReadBounded: /dev/zero ends at the limit; a FIFO nobody writes to
// ends at the timeout or when the context is cancelled, not never.
func TestReadBounded(t *testing.T) {
	ctx := context.Background()
	var le *safefile.LimitError
	if _, err := safefile.Read(ctx, "/dev/zero", 1<<20, 5*time.Second); !errors.As(err, &le) {
		t.Errorf("/dev/zero: %v, want *LimitError", err)
	} else if !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("error %q does not name the limit", err)
	}
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	start := time.Now()
	if _, err := safefile.Read(ctx, fifo, 1<<20, 200*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("FIFO without a writer: %v, want a deadline error", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := safefile.Read(cctx, fifo, 1<<20, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("FIFO, cancelled: %v, want context.Canceled", err)
	}
	// A writer that opens and then stalls: each read has the timeout.
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			w.Write([]byte("x"))
			time.Sleep(2 * time.Second)
			w.Close()
		}
	}()
	if _, err := safefile.Read(ctx, fifo, 1<<20, 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("FIFO, stalled writer: %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the three reads took %v", d)
	}
}

func mkdir(t *testing.T, parent, name string, mode fs.FileMode) string {
	t.Helper()
	d := filepath.Join(parent, name)
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return d
}

// chown gives p (a link itself, not its target) to uid and gid.
func chown(t *testing.T, p string, uid, gid int) {
	t.Helper()
	if err := os.Lchown(p, uid, gid); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, to, at string) string {
	t.Helper()
	if err := os.Symlink(to, at); err != nil {
		t.Fatal(err)
	}
	return at
}
