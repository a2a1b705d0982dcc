package vfs

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncfs syncs the filesystem that holds f (syncfs(2); since Linux 5.8 it
// reports writeback errors seen on that filesystem).
func syncfs(f *os.File) error { return unix.Syncfs(int(f.Fd())) }
