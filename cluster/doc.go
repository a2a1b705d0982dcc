// Package cluster will hold cluster specs and the local supervisor behind
// `weir up` (MSK's control plane on one machine): start N brokers with
// their own data directories and ports, wait for readiness, write
// endpoints.json, and restart a broker that dies on its old address and
// storage. Not built yet; see docs/DESIGN.md.
package cluster
