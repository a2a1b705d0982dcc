// Package cluster is `weir up`: a whole Weir cluster on one machine,
// supervised the way MSK's control plane supervises brokers.
//
// A cluster lives in one directory. Its Spec (cluster.json) is the
// identity: broker ids, ports, racks and the cluster id; a second `weir up`
// on the directory rebuilds the same brokers from it, and flags that would
// change it are refused with a way forward. From the spec come each
// broker's server.properties (node id, listeners, quorum voters,
// replication defaults sized to the cluster) and, with --agents, each
// agent's config; both are checked with the broker's and the agent's own
// parsers before anything starts.
//
// The Supervisor is generic: it runs a set of Process specs (argv, env, log
// file, pid file, readiness probe), waits until the required ones are
// ready, restarts any that exits on its own on the same command line (same
// address, same storage) after a Backoff, and stops them all, SIGTERM then
// SIGKILL, when its context ends. One goroutine owns every child's state;
// the goroutines that wait for exits and poll readiness only report to it.
// The restart policy (Backoff.Next) is a pure function, table-tested.
//
// Files:
//
//	spec.go        Spec, Request, NewSpec, Reconcile, LoadSpec/SaveSpec/Resolve
//	props.go       a broker's server.properties from the spec; reserved keys
//	agent.go       an agent's config from the spec; agent processes
//	layout.go      where every file of a cluster directory lives
//	backoff.go     the restart policy (pure)
//	process.go     Process: one child, its log and pid files
//	supervisor.go  Supervisor: start, readiness, restart, stop
//	ready.go       readiness probes: /readyz, Kafka Ping, HTTP 200
//	ports.go       refusing to start on a taken port
//	lock_*.go      one `weir up` per directory (flock on up.lock)
//	sysproc_*.go   children in their own process group, killed with their parent
//	endpoints.go   endpoints.json, the printed summary, `weir up status`
//	up.go          Up: the above wired together
//
// docs/UP.md is the user's guide: flags, directory layout, endpoints.json,
// supervision.
package cluster
