package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Create makes a new file at path with perm, in a directory CheckDir
// accepts; it never opens an existing file or a link (fs.ErrExist
// instead), so a name someone guessed and planted is never written
// through.
func Create(path string, perm fs.FileMode) (*os.File, error) {
	if err := CheckDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, perm)
}

// WriteFile is Replace with data.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Replace(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Replace writes path whole or not at all: write fills a temporary file
// in path's directory (which CheckDir must accept), which is then given
// perm and renamed over path. A link at path is replaced, not written
// through, unless the user or root owns it: then its target is replaced
// (fmt -w of a linked script) or, when that is a device or a pipe
// (/dev/stdout, /dev/null), written to directly.
func Replace(path string, perm fs.FileMode, write func(io.Writer) error) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		if why := foreignOwner(fi); why != "" {
			return &UnsafeError{Path: path, Reason: "it is a symbolic link " + why}
		}
		if err := CheckDir(filepath.Dir(path)); err != nil {
			return err
		}
		target, err := os.Stat(path)
		if err != nil {
			return err
		}
		if target.Mode().IsRegular() {
			real, err := filepath.EvalSymlinks(path)
			if err != nil {
				return err
			}
			return Replace(real, perm, write)
		}
		return writeStream(path, target, write)
	case fi.IsDir():
		return fmt.Errorf("%s is a directory", path)
	case !fi.Mode().IsRegular():
		return writeStream(path, fi, write)
	}
	dir := filepath.Dir(path)
	if err := CheckDir(dir); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing to remove
	err = write(tmp)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// writeStream writes to a device or a pipe, which cannot be replaced and
// holds nothing to overwrite.
func writeStream(path string, fi fs.FileInfo, write func(io.Writer) error) error {
	if fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	// Non-blocking: a FIFO nobody reads is an error (ENXIO), not a hang.
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
