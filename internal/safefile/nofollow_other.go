//go:build !unix

package safefile

// O_EXCL alone refuses an existing link where there is no O_NOFOLLOW.
const oNoFollow = 0
