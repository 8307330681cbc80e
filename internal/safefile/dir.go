package safefile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// UnsafeError is a path smtprun refuses to write into: a directory
// another user owns or can write to, a link another user owns, or a file
// that is not a regular file where one is replaced.
type UnsafeError struct {
	Path   string
	Reason string
}

func (e *UnsafeError) Error() string {
	return fmt.Sprintf("refusing to write into %s: %s", e.Path, e.Reason)
}

// MkdirPrivate makes dir (and any missing parent) with mode 0700, or
// accepts an existing one, and then checks it with CheckDir: a new
// private directory inside /tmp is fine, a directory someone else made
// there is not.
func MkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return CheckDir(dir)
}

// CheckDir returns an *UnsafeError when dir, a directory above it or a
// symbolic link on the way to it is controlled by another user (see the
// package documentation), and the error of reaching it otherwise.
func CheckDir(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	// Links on the way, as named: a link another user owns sends the
	// files wherever that user likes.
	for _, p := range prefixes(abs) {
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if why := foreignOwner(fi); why != "" {
				return &UnsafeError{Path: dir, Reason: fmt.Sprintf("%s is a symbolic link %s", p, why)}
			}
		}
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return err
	}
	fi, err := os.Stat(real)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &UnsafeError{Path: dir, Reason: real + " is not a directory"}
	}
	// Then every directory the files really land in, from the root down.
	for _, p := range prefixes(real) {
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		which := p + " is"
		if p == real {
			which = "it is"
		}
		if why := foreignOwner(fi); why != "" {
			return &UnsafeError{Path: dir, Reason: fmt.Sprintf("%s a directory %s; use a directory of your own (mkdir -m 700 DIR)", which, why)}
		}
		if why := othersWrite(fi); why != "" {
			return &UnsafeError{Path: dir, Reason: fmt.Sprintf("%s %s; use a directory of your own (mkdir -m 700 DIR)", which, why)}
		}
	}
	return nil
}

// prefixes are "/", "/a", "/a/b" for "/a/b".
func prefixes(abs string) []string {
	vol := filepath.VolumeName(abs)
	rest := strings.TrimPrefix(abs[len(vol):], string(filepath.Separator))
	out := []string{vol + string(filepath.Separator)}
	if rest == "" {
		return out
	}
	cur := out[0]
	for _, part := range strings.Split(rest, string(filepath.Separator)) {
		cur = filepath.Join(cur, part)
		out = append(out, cur)
	}
	return out
}
