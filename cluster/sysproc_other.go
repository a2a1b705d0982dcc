//go:build !linux

package cluster

import "syscall"

// sysProcAttr: outside Linux there is no parent-death signal; children of a
// `weir up` that is killed with SIGKILL keep running and must be stopped by
// hand (their pids are in <dir>/broker-<id>/pid).
func sysProcAttr() *syscall.SysProcAttr { return nil }
