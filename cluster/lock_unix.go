//go:build unix

package cluster

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// lockDir takes an exclusive flock on the directory's up.lock, so two
// `weir up` never run the same cluster, and writes this process's pid into
// it. The kernel drops the lock when the process dies, however it dies.
func lockDir(l Layout) (release func(), err error) {
	f, err := os.OpenFile(l.LockPath(), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(l.LockPath())
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another `weir up` (pid %s) is running the cluster in %s: stop it first, or use another --dir",
				strings.TrimSpace(string(holder)), l.Dir)
		}
		return nil, fmt.Errorf("locking %s: %w", l.LockPath(), err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { f.Close() }, nil
}

// lockHeld reports whether a `weir up` holds the directory's lock now.
func lockHeld(l Layout) bool {
	f, err := os.Open(l.LockPath())
	if err != nil {
		return false
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	}
	return errors.Is(err, syscall.EWOULDBLOCK)
}
