package testenv

import (
	"os"
	"os/user"
	"strconv"
	"testing"
)

// OtherUser returns the uid and gid of a second, unprivileged user
// (nobody) for tests of what another local user can do: plant a link,
// own a directory. Giving a file away takes root, so it is Missing
// unless the test runs as root, as CI does.
func OtherUser(t testing.TB) (uid, gid int) {
	t.Helper()
	if os.Geteuid() != 0 {
		Missing(t, "this test plays two local users and gives files to nobody, which takes root: run it as root (CI does)")
		return
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		Missing(t, "no user nobody on this machine to play the other user: "+err.Error())
		return
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}
