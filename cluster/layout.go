package cluster

import (
	"fmt"
	"path/filepath"
)

// Layout names the files of a cluster directory:
//
//	<dir>/cluster.json              the Spec (identity: brokers, ports, cluster id)
//	<dir>/endpoints.json            where everything listens, for scripts (while up)
//	<dir>/up.lock                   held by the running `weir up`; holds its pid
//	<dir>/broker-<id>/server.properties  generated on every start from the spec
//	<dir>/broker-<id>/data/         the broker's log.dirs
//	<dir>/broker-<id>/broker.log    the broker's stdout and stderr, appended
//	<dir>/broker-<id>/pid           the running broker's pid
//	<dir>/broker-<id>/agent.yaml    the agent's config (--agents)
//	<dir>/broker-<id>/agent.log     the agent's output (--agents)
//	<dir>/collector/collector.yaml  the collector's config, generated on every start (--agents)
//	<dir>/collector/collector.log   the collector's output
//	<dir>/collector/execution.json  a running rebalance, so a restarted collector finishes it
//
// and a secure cluster's (weir up --secure, secure.go):
//
//	<dir>/tls/                      ca.pem, ca.key; broker-<id>.*, weir-admin.* (pem, key, keystore.pem)
//	<dir>/admin.password            the admin SCRAM user's password (0600)
//	<dir>/api.token                 the HTTP APIs' bearer token (0600)
//	<dir>/client.properties         the admin's client config, Java (--command-config), SASL_SSL
//	<dir>/client.librdkafka.conf    the same for librdkafka (kcat -F)
//	<dir>/client-mtls.properties    weir up's certificate on the inter-broker listener, Java
type Layout struct {
	Dir string // absolute
}

// NewLayout returns the layout of dir, made absolute so generated configs
// do not depend on the working directory.
func NewLayout(dir string) (Layout, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Layout{}, fmt.Errorf("resolving --dir %s: %w", dir, err)
	}
	return Layout{Dir: abs}, nil
}

func (l Layout) SpecPath() string      { return filepath.Join(l.Dir, "cluster.json") }
func (l Layout) EndpointsPath() string { return filepath.Join(l.Dir, "endpoints.json") }
func (l Layout) LockPath() string      { return filepath.Join(l.Dir, "up.lock") }

// BrokerDir is broker id's directory.
func (l Layout) BrokerDir(id int) string { return filepath.Join(l.Dir, fmt.Sprintf("broker-%d", id)) }

func (l Layout) DataDir(id int) string     { return filepath.Join(l.BrokerDir(id), "data") }
func (l Layout) ConfigPath(id int) string  { return filepath.Join(l.BrokerDir(id), "server.properties") }
func (l Layout) LogPath(id int) string     { return filepath.Join(l.BrokerDir(id), "broker.log") }
func (l Layout) PIDPath(id int) string     { return filepath.Join(l.BrokerDir(id), "pid") }
func (l Layout) AgentConfig(id int) string { return filepath.Join(l.BrokerDir(id), "agent.yaml") }
func (l Layout) AgentLog(id int) string    { return filepath.Join(l.BrokerDir(id), "agent.log") }
func (l Layout) AgentPID(id int) string    { return filepath.Join(l.BrokerDir(id), "agent.pid") }

// CollectorDir holds the collector's config, log and state.
func (l Layout) CollectorDir() string { return filepath.Join(l.Dir, "collector") }

// TargetsDir holds Prometheus's file_sd target files under weir up.
func (l Layout) TargetsDir() string { return filepath.Join(l.MonitoringDir(), "targets") }

func (l Layout) AutoscalerDir() string   { return filepath.Join(l.Dir, "autoscaler") }
func (l Layout) AutoscalerState() string { return filepath.Join(l.AutoscalerDir(), "state.json") }
func (l Layout) AutoscalerLog() string   { return filepath.Join(l.AutoscalerDir(), "autoscaler.log") }
func (l Layout) AutoscalerPID() string   { return filepath.Join(l.AutoscalerDir(), "pid") }

func (l Layout) CollectorConfig() string { return filepath.Join(l.CollectorDir(), "collector.yaml") }
func (l Layout) CollectorLog() string    { return filepath.Join(l.CollectorDir(), "collector.log") }
func (l Layout) CollectorPID() string    { return filepath.Join(l.CollectorDir(), "pid") }

func (l Layout) TLSDir() string               { return filepath.Join(l.Dir, "tls") }
func (l Layout) CAFile() string               { return filepath.Join(l.TLSDir(), "ca.pem") }
func (l Layout) AdminPasswordPath() string    { return filepath.Join(l.Dir, "admin.password") }
func (l Layout) TokenPath() string            { return filepath.Join(l.Dir, "api.token") }
func (l Layout) ClientProperties() string     { return filepath.Join(l.Dir, "client.properties") }
func (l Layout) ClientLibrdkafka() string     { return filepath.Join(l.Dir, "client.librdkafka.conf") }
func (l Layout) ClientMTLSProperties() string { return filepath.Join(l.Dir, "client-mtls.properties") }

// BrokerKeystore is broker id's key and certificate chain (PEM).
func (l Layout) BrokerKeystore(id int) string {
	return filepath.Join(l.TLSDir(), fmt.Sprintf("broker-%d.keystore.pem", id))
}
