//go:build unix

package oauth

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// checkOwner refuses what another user owns: they could change it.
func checkOwner(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Geteuid(); int(st.Uid) != uid {
		return fmt.Errorf("token cache %s is owned by uid %d, not by you (uid %d), who could have planted a token in it: refusing it; remove it", path, st.Uid, uid)
	}
	return nil
}

// readPrivate reads a cache file without following a link, without
// waiting for a FIFO's writer, and no more than maxCacheFile, after
// checking what the open file is.
func readPrivate(path string, warn io.Writer) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("token cache %s is a link, not a regular file: refusing it; remove it", path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("token cache %s is not a regular file (%s): refusing it; remove it", path, fi.Mode().Type())
	}
	if err := checkOwner(path, fi); err != nil {
		return nil, err
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return nil, fmt.Errorf("token cache %s is writable by others (mode %04o), who could have planted a token in it: refusing it; remove it and sign in again", path, perm)
	} else if perm&0o077 != 0 {
		fmt.Fprintf(warn, "warning: token cache %s was readable by others (mode %04o): the refresh token in it may have been read; made private (0600). Revoke it at the provider if others use this machine\n", path, perm)
		if err := f.Chmod(0o600); err != nil {
			return nil, err
		}
	}
	return readBounded(f, path)
}
