package cluster

import "syscall"

// sysProcAttr puts a child in its own process group, so a Ctrl-C at the
// terminal reaches only `weir up` (which then stops the children in order,
// instead of racing them), and asks the kernel to SIGKILL the child if
// `weir up` dies without stopping it (kill -9): children never outlive their
// supervisor. Brokers recover an unclean shutdown on their next start.
//
// Pdeathsig fires when the thread that forked the child exits; the Go
// runtime keeps its threads unless a goroutine locked to one exits, which
// nothing in weir does.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
