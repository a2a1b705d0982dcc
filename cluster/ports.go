package cluster

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// checkPorts tries to listen on every port the cluster will use and
// returns one error per port that is taken, naming it and what it is for.
// hint says how to proceed; it differs for a new and a saved cluster.
func checkPorts(host string, ports []namedPort, hint string) error {
	var errs []error
	for _, p := range ports {
		ln, err := net.Listen("tcp", fmt.Sprintf("%s:%d", host, p.port))
		if err != nil {
			errs = append(errs, fmt.Errorf("port %d (%s) is not free: %v", p.port, p.what, unwrapOp(err)))
			continue
		}
		ln.Close()
	}
	if len(errs) == 0 {
		return nil
	}
	errs = append(errs, errors.New(hint))
	return errors.Join(errs...)
}

// unwrapOp turns "listen tcp 127.0.0.1:9092: bind: address already in use"
// into "address already in use": the port is already in the message.
func unwrapOp(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}

// portsHint says what to do about a taken port.
func portsHint(created bool, dir string) string {
	if created {
		return "stop what listens there (`ss -ltnp` shows it), or choose other ports with --base-port, --admin-base-port (and --agent-base-port)"
	}
	return fmt.Sprintf("the ports belong to the cluster saved in %s: stop what listens there (`ss -ltnp` shows it), or start a new cluster with another --dir", dir)
}
