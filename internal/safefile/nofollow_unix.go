//go:build unix

package safefile

import "syscall"

const oNoFollow = syscall.O_NOFOLLOW
