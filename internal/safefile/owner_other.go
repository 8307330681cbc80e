//go:build !unix

package safefile

import "io/fs"

// Ownership and mode bits mean something else off Unix: only the
// O_EXCL and rename rules apply there.
func foreignOwner(fs.FileInfo) string { return "" }

func othersWrite(fs.FileInfo) string { return "" }
