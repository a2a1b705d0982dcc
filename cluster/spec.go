package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"

	"github.com/weirhq/weir/internal/atomicfile"
	"github.com/weirhq/weir/internal/bytesize"
	"github.com/weirhq/weir/internal/vfs"
)

// SpecVersion is the cluster.json format version this package writes.
const SpecVersion = 1

// Defaults of `weir up` when neither flags nor a saved spec say otherwise.
const (
	DefaultBrokers       = 3
	DefaultBasePort      = 9092
	DefaultAdminBasePort = 9644
	DefaultAgentBasePort = 11001 // MSK's open-monitoring port for the broker exporter
	DefaultCollectorPort = 9090  // Cruise Control's webserver.http.port
	DefaultControlPort   = 9099  // the control plane's REST API
	Host                 = "127.0.0.1"
)

// Spec is a local cluster as `<dir>/cluster.json` keeps it: which brokers
// exist, their ports and racks, and the cluster id. It is the identity of
// the cluster: a second `weir up` on the same directory rebuilds the same
// brokers from it. Paths are not stored; they follow from the directory
// (Layout), so a cluster directory can be moved.
type Spec struct {
	Version       int    `json:"version"`
	ClusterID     string `json:"cluster_id"`
	Host          string `json:"host"`
	BasePort      int    `json:"base_port"`
	AdminBasePort int    `json:"admin_base_port"`
	AgentBasePort int    `json:"agent_base_port"`
	// CollectorPort is the collector's REST API (with --agents); 0 in a
	// spec saved before the collector existed means the default.
	CollectorPort int `json:"collector_port,omitempty"`
	// ControlPort is the control plane's REST API; 0 in an older spec
	// means the default.
	ControlPort int `json:"control_port,omitempty"`
	// AutoscalerPort is the autoscaler's HTTP API (with a policy); 0: the
	// default.
	AutoscalerPort int `json:"autoscaler_port,omitempty"`
	// AutoscalerPolicy is the policy file the last weir up ran the
	// autoscaler with (for endpoints.json; weir up --autoscaler-policy
	// decides whether it runs).
	AutoscalerPolicy string            `json:"autoscaler_policy,omitempty"`
	Brokers          []BrokerSpec      `json:"brokers"`
	ConfigOverrides  map[string]string `json:"config_overrides,omitempty"`
	// ConfigRevision counts the configurations applied through the control
	// plane (MSK's configuration revision; 0: the one weir up started with).
	ConfigRevision int `json:"config_revision,omitempty"`
	// Secure is weir up --secure (secure.go): clients on SASL_SSL (the
	// Kafka ports), brokers to each other on SSL with client certificates
	// (BrokerBasePort), ACLs on, the HTTP APIs behind the cluster's token.
	Secure bool `json:"secure,omitempty"`
	// BrokerBasePort is broker 1's inter-broker (SSL) port when Secure;
	// broker N's is BrokerBasePort+N-1.
	BrokerBasePort int `json:"broker_base_port,omitempty"`
	// VoterIDs are the metadata quorum's voters (controller.quorum.voters),
	// fixed when the cluster is created: the first min(3, N) brokers. The
	// quorum is static, as Kafka's controller.quorum.voters is, so growing
	// a 1- or 2-broker cluster adds brokers, not voters: a new broker given
	// another voter list would elect a second quorum of its own. Empty in a
	// spec saved before this field: LoadSpec fills it in.
	VoterIDs []int `json:"voter_ids,omitempty"`
}

// BrokerSpec is one broker of a Spec.
type BrokerSpec struct {
	ID        int `json:"id"`
	KafkaPort int `json:"kafka_port"`
	AdminPort int `json:"admin_port"`
	// The agent's Prometheus ports (--agents): broker metrics, node metrics.
	AgentPort     int `json:"agent_port"`
	AgentNodePort int `json:"agent_node_port"`
	// BrokerPort is the inter-broker SSL listener's (secure clusters
	// only; 0 otherwise).
	BrokerPort int    `json:"broker_port,omitempty"`
	Rack       string `json:"rack"`
	// StorageBytes is the broker's provisioned storage (its
	// weir.storage.provisioned.bytes); 0: none, the filesystem is the
	// limit.
	StorageBytes int64 `json:"storage_bytes,omitempty"`
}

// Request is what the command line asked for. A zero field was not given:
// for a new cluster the default applies, for a saved one the saved value.
type Request struct {
	Brokers         int
	BasePort        int
	AdminBasePort   int
	AgentBasePort   int
	CollectorPort   int
	ControlPort     int
	AutoscalerPort  int
	ConfigOverrides map[string]string // nil: not given; given ones replace the saved set
	StorageBytes    int64             // provisioned storage per broker; 0: none
	Secure          bool              // weir up --secure (a new cluster only)
	BrokerBasePort  int               // with Secure: broker 1's inter-broker port
}

// Kafka returns the broker's Kafka listener address.
func (b BrokerSpec) Kafka(host string) string { return fmt.Sprintf("%s:%d", host, b.KafkaPort) }

// InterBroker returns the address brokers reach b on: the Kafka listener,
// or on a secure cluster the inter-broker (SSL) listener.
func (b BrokerSpec) InterBroker(host string) string {
	if b.BrokerPort == 0 {
		return b.Kafka(host)
	}
	return fmt.Sprintf("%s:%d", host, b.BrokerPort)
}

// Admin returns the broker's admin HTTP address.
func (b BrokerSpec) Admin(host string) string { return fmt.Sprintf("%s:%d", host, b.AdminPort) }

// Agent returns the address of the agent's Prometheus endpoint for broker,
// topic, partition and lag metrics.
func (b BrokerSpec) Agent(host string) string { return fmt.Sprintf("%s:%d", host, b.AgentPort) }

// AgentNode returns the address of the agent's node (host) metrics endpoint.
func (b BrokerSpec) AgentNode(host string) string { return fmt.Sprintf("%s:%d", host, b.AgentNodePort) }

// Collector returns the collector's REST API address.
func (s Spec) Collector() string {
	return fmt.Sprintf("%s:%d", s.Host, orDefault(s.CollectorPort, DefaultCollectorPort))
}

// Control returns the control plane's REST API address.
func (s Spec) Control() string {
	return fmt.Sprintf("%s:%d", s.Host, orDefault(s.ControlPort, DefaultControlPort))
}

// NewSpec builds the spec of a new cluster from req, filling in defaults.
func NewSpec(req Request, clusterID string) (Spec, error) {
	s := Spec{
		Version:         SpecVersion,
		ClusterID:       clusterID,
		Host:            Host,
		BasePort:        orDefault(req.BasePort, DefaultBasePort),
		AdminBasePort:   orDefault(req.AdminBasePort, DefaultAdminBasePort),
		AgentBasePort:   orDefault(req.AgentBasePort, DefaultAgentBasePort),
		CollectorPort:   orDefault(req.CollectorPort, DefaultCollectorPort),
		ControlPort:     orDefault(req.ControlPort, DefaultControlPort),
		AutoscalerPort:  orDefault(req.AutoscalerPort, DefaultAutoscalerPort),
		ConfigOverrides: req.ConfigOverrides,
	}
	if req.Secure {
		s.Secure, s.BrokerBasePort = true, orDefault(req.BrokerBasePort, DefaultBrokerBasePort)
	}
	n := orDefault(req.Brokers, DefaultBrokers)
	for id := 1; id <= n; id++ {
		b := s.brokerSpec(id)
		b.StorageBytes = req.StorageBytes
		s.Brokers = append(s.Brokers, b)
	}
	s.VoterIDs = firstVoters(s.Brokers)
	return s, s.Validate()
}

// firstVoters is the voter set a new cluster gets: its first min(3, N)
// brokers.
func firstVoters(brokers []BrokerSpec) []int {
	ids := make([]int, min(3, len(brokers)))
	for i := range ids {
		ids[i] = brokers[i].ID
	}
	return ids
}

// brokerSpec is broker id's ports and rack, from the spec's base ports.
func (s Spec) brokerSpec(id int) BrokerSpec {
	b := BrokerSpec{
		ID:        id,
		KafkaPort: s.BasePort + id - 1,
		AdminPort: s.AdminBasePort + id - 1,
		// MSK open monitoring's pair (11001, 11002), two ports per broker.
		AgentPort:     s.AgentBasePort + 2*(id-1),
		AgentNodePort: s.AgentBasePort + 2*(id-1) + 1,
		Rack:          rack(id),
	}
	if s.Secure {
		b.BrokerPort = s.BrokerBasePort + id - 1
	}
	return b
}

// Resized returns the spec with n brokers: new ones numbered on from the
// last, with ports from the base ports and the largest provisioned storage
// of the cluster (MSK gives new brokers the cluster's volume size);
// removed ones from the end.
func (s Spec) Resized(n int) Spec {
	out := s
	out.Brokers = slices.Clone(s.Brokers[:min(n, len(s.Brokers))])
	var storage int64
	for _, b := range s.Brokers {
		storage = max(storage, b.StorageBytes)
	}
	for id := len(out.Brokers) + 1; id <= n; id++ {
		b := s.brokerSpec(id)
		b.StorageBytes = storage
		out.Brokers = append(out.Brokers, b)
	}
	return out
}

// rack spreads brokers over three zones, as MSK spreads them over three
// availability zones: rack-1, rack-2, rack-3, rack-1, ...
func rack(id int) string { return fmt.Sprintf("rack-%d", (id-1)%3+1) }

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// Validate checks that the spec describes a cluster that can run: at least
// one broker, ports in range, no port used twice, overrides that do not
// touch what the spec itself decides.
func (s Spec) Validate() error {
	if s.Version != SpecVersion {
		return fmt.Errorf("cluster spec version %d; this weir reads version %d", s.Version, SpecVersion)
	}
	if s.ClusterID == "" {
		return errors.New("cluster spec has no cluster_id")
	}
	if len(s.Brokers) == 0 {
		return errors.New("a cluster needs at least one broker")
	}
	if err := s.checkPorts(); err != nil {
		return err
	}
	if len(s.VoterIDs) == 0 {
		return errors.New("cluster spec has no metadata quorum voters (voter_ids)")
	}
	for _, id := range s.VoterIDs {
		if id < 1 || id > len(s.Brokers) {
			return fmt.Errorf("metadata quorum voter %d is not one of the cluster's %d brokers", id, len(s.Brokers))
		}
	}
	return checkOverrides(s.ConfigOverrides)
}

// checkPorts rejects ports out of range and ports used twice.
func (s Spec) checkPorts() error {
	used := map[int]string{}
	for i, b := range s.Brokers {
		if b.ID != i+1 {
			return fmt.Errorf("broker %d is listed at position %d; brokers are numbered 1..N in order", b.ID, i+1)
		}
		for _, p := range b.ports() {
			if p.port < 1 || p.port > 65535 {
				return fmt.Errorf("port %d for %s is out of range (1-65535): choose lower base ports", p.port, p.what)
			}
			if other, dup := used[p.port]; dup {
				return fmt.Errorf("port %d would serve both %s and %s: choose base ports whose ranges do not overlap", p.port, other, p.what)
			}
			used[p.port] = p.what
		}
	}
	if other, dup := used[orDefault(s.CollectorPort, DefaultCollectorPort)]; dup {
		return fmt.Errorf("port %d would serve both %s and the collector: choose another --collector-port", s.CollectorPort, other)
	}
	if other, dup := used[orDefault(s.AutoscalerPort, DefaultAutoscalerPort)]; dup {
		return fmt.Errorf("port %d would serve both %s and the autoscaler: choose another --autoscaler-port", s.AutoscalerPort, other)
	}
	if other, dup := used[orDefault(s.ControlPort, DefaultControlPort)]; dup {
		return fmt.Errorf("port %d would serve both %s and the control plane: choose another --control-plane-port", s.ControlPort, other)
	}
	return nil
}

// namedPort is a port and what listens on it, for messages.
type namedPort struct {
	port int
	what string
}

func (b BrokerSpec) ports() []namedPort {
	return append(b.brokerPorts(), b.agentPorts()...)
}

// brokerPorts are the broker's own: Kafka, admin and, when secure,
// inter-broker.
func (b BrokerSpec) brokerPorts() []namedPort {
	p := []namedPort{
		{b.KafkaPort, fmt.Sprintf("broker %d's Kafka listener", b.ID)},
		{b.AdminPort, fmt.Sprintf("broker %d's admin listener", b.ID)},
	}
	if b.BrokerPort != 0 {
		p = append(p, namedPort{b.BrokerPort, fmt.Sprintf("broker %d's inter-broker listener", b.ID)})
	}
	return p
}

func (b BrokerSpec) agentPorts() []namedPort {
	return []namedPort{
		{b.AgentPort, fmt.Sprintf("broker %d's agent", b.ID)},
		{b.AgentNodePort, fmt.Sprintf("broker %d's agent (node metrics)", b.ID)},
	}
}

// Reconcile applies req to a saved spec: flags that agree with it or are not
// given keep the cluster as it is; a flag that would change its identity is
// an error that says how to proceed. Config overrides may change: the given
// set replaces the saved one.
func (s Spec) Reconcile(req Request, dir string) (Spec, error) {
	var errs []error
	contradict := func(flag string, asked int, holds string) {
		errs = append(errs, fmt.Errorf("%s holds %s; %s %d would change it: use a new --dir, or `weir up --dir %s` without %s",
			dir, holds, flag, asked, dir, flag))
	}
	if req.Brokers != 0 && req.Brokers != len(s.Brokers) {
		contradict("--brokers", req.Brokers, fmt.Sprintf("a %d-broker cluster", len(s.Brokers)))
	}
	if req.BasePort != 0 && req.BasePort != s.BasePort {
		contradict("--base-port", req.BasePort, "a cluster on Kafka ports "+portRange(s.BasePort, len(s.Brokers)))
	}
	if req.AdminBasePort != 0 && req.AdminBasePort != s.AdminBasePort {
		contradict("--admin-base-port", req.AdminBasePort, "a cluster on admin ports "+portRange(s.AdminBasePort, len(s.Brokers)))
	}
	if req.AgentBasePort != 0 && req.AgentBasePort != s.AgentBasePort {
		contradict("--agent-base-port", req.AgentBasePort, "a cluster with agents on ports "+portRange(s.AgentBasePort, 2*len(s.Brokers)))
	}
	if req.ControlPort != 0 && req.ControlPort != orDefault(s.ControlPort, DefaultControlPort) {
		contradict("--control-plane-port", req.ControlPort, fmt.Sprintf("a cluster with its control plane on port %d", orDefault(s.ControlPort, DefaultControlPort)))
	}
	if req.CollectorPort != 0 && req.CollectorPort != orDefault(s.CollectorPort, DefaultCollectorPort) {
		contradict("--collector-port", req.CollectorPort, fmt.Sprintf("a cluster with its collector on port %d", orDefault(s.CollectorPort, DefaultCollectorPort)))
	}
	if req.Secure && !s.Secure {
		errs = append(errs, fmt.Errorf("%s holds a cluster without security; --secure would change it: use a new --dir (a running cluster is not converted)", dir))
	}
	if req.BrokerBasePort != 0 && s.Secure && req.BrokerBasePort != s.BrokerBasePort {
		contradict("--broker-base-port", req.BrokerBasePort, "a cluster on inter-broker ports "+portRange(s.BrokerBasePort, len(s.Brokers)))
	}
	if req.StorageBytes != 0 {
		for _, b := range s.Brokers {
			if b.StorageBytes != req.StorageBytes {
				errs = append(errs, fmt.Errorf("%s holds broker %d with %s of provisioned storage; --storage %s would change it: grow storage with `weir cluster update-broker-storage` while the cluster runs (an operation, without restarts), or use a new --dir",
					dir, b.ID, storageText(b.StorageBytes), bytesize.Format(req.StorageBytes)))
				break
			}
		}
	}
	if len(errs) > 0 {
		return s, errors.Join(errs...)
	}
	if req.AutoscalerPort != 0 {
		s.AutoscalerPort = req.AutoscalerPort // not part of the cluster's identity
	}
	if req.ConfigOverrides != nil {
		s.ConfigOverrides = req.ConfigOverrides
	}
	return s, s.Validate()
}

func storageText(n int64) string {
	if n == 0 {
		return "no limit"
	}
	return bytesize.Format(n)
}

func portRange(base, n int) string {
	if n == 1 {
		return fmt.Sprint(base)
	}
	return fmt.Sprintf("%d-%d", base, base+n-1)
}

// LoadSpec reads dir's cluster.json. ok is false when there is none (a new
// cluster); a file that exists but cannot be read is an error.
func LoadSpec(l Layout) (s Spec, ok bool, err error) {
	data, err := os.ReadFile(l.SpecPath())
	if errors.Is(err, fs.ErrNotExist) {
		return Spec{}, false, nil
	}
	if err != nil {
		return Spec{}, false, fmt.Errorf("reading the cluster spec: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return Spec{}, false, fmt.Errorf("reading the cluster spec %s: %w", l.SpecPath(), err)
	}
	if len(s.VoterIDs) == 0 {
		// Saved before voter_ids: the voters were derived from the broker
		// list, the first min(3, N).
		s.VoterIDs = firstVoters(s.Brokers)
	}
	if err := s.Validate(); err != nil {
		return Spec{}, false, fmt.Errorf("cluster spec %s: %w", l.SpecPath(), err)
	}
	return s, true, nil
}

// SaveSpec writes the spec to dir's cluster.json atomically.
func SaveSpec(l Layout, s Spec) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the cluster spec: %w", err)
	}
	if err := writeFileAtomic(l.SpecPath(), append(data, '\n')); err != nil {
		return fmt.Errorf("writing the cluster spec: %w", err)
	}
	return nil
}

// Resolve returns the spec `weir up` runs: the saved one reconciled with req,
// or, for a directory without cluster.json, a new one with a cluster id from
// newID. created says which.
func Resolve(l Layout, req Request, newID func() string) (s Spec, created bool, err error) {
	saved, ok, err := LoadSpec(l)
	if err != nil {
		return Spec{}, false, err
	}
	if ok {
		s, err = saved.Reconcile(req, l.Dir)
		return s, false, err
	}
	s, err = NewSpec(req, newID())
	return s, true, err
}

// writeFileAtomic writes data to a temporary file beside path, syncs it and
// renames it over path, so readers see the old or the new file, never half.
func writeFileAtomic(path string, data []byte) error {
	return atomicfile.Write(vfs.Default, path, data)
}

// sortedKeys returns m's keys in order, for stable output.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
