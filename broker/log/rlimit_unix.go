//go:build unix

package log

import "syscall"

// openFileLimit is the soft RLIMIT_NOFILE.
func openFileLimit() (int64, bool) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, false
	}
	return int64(r.Cur), true
}
