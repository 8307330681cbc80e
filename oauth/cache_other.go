//go:build !unix

package oauth

import (
	"fmt"
	"io"
	"io/fs"
	"os"
)

// checkOwner: file ownership is not a uid here; the directory's ACL is
// the user profile's.
func checkOwner(string, fs.FileInfo) error { return nil }

// readPrivate reads a cache file that is a regular file, no more than
// maxCacheFile.
func readPrivate(path string, _ io.Writer) ([]byte, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("token cache %s is not a regular file (%s): refusing it; remove it", path, fi.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readBounded(f, path)
}
