//go:build unix

package safefile

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// foreignOwner says who owns fi when that is neither the user running
// smtprun nor root, or returns "".
func foreignOwner(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	if int(st.Uid) == os.Geteuid() || st.Uid == 0 {
		return ""
	}
	name := strconv.FormatUint(uint64(st.Uid), 10)
	if u, err := user.LookupId(name); err == nil {
		name += " (" + u.Username + ")"
	}
	return "owned by another user, uid " + name
}

// othersWrite says how other users can write to the directory fi, or
// returns "". A sticky directory (/tmp) lets others add names but not
// remove or rename ours, which O_EXCL and rename make harmless. A
// group-writable one is another user's unless the group is the user's
// own (the user-private groups of Debian and Fedora).
func othersWrite(fi fs.FileInfo) string {
	m := fi.Mode()
	if m&fs.ModeSticky != 0 {
		return ""
	}
	if m&0o002 != 0 {
		return fmt.Sprintf("writable by every user (mode %04o, not sticky)", m.Perm())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && m&0o020 != 0 && int(st.Gid) != os.Getegid() {
		return fmt.Sprintf("writable by group %d (mode %04o, not sticky)", st.Gid, m.Perm())
	}
	return ""
}
