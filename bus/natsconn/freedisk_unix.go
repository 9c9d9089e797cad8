//go:build unix

package natsconn

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// freeDisk is the space available to an unprivileged user on the file
// system holding dir (or its nearest existing parent).
func freeDisk(dir string) (int64, bool) {
	for {
		if _, err := os.Stat(dir); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return 0, false
		}
		dir = parent
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true
}
