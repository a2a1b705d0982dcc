package collector

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/weirhq/weir/collector/anomaly"
	"github.com/weirhq/weir/collector/executor"
	"github.com/weirhq/weir/collector/monitor"
	"github.com/weirhq/weir/collector/planner"
)

// Config is the collector's whole configuration. The file form is YAML
// with Cruise Control's property names as flat keys
// (config/collector.yaml is the commented example).
type Config struct {
	BootstrapServers []string      // bootstrap.servers
	ClientID         string        // client.id
	Listen           string        // webserver.http.address:webserver.http.port
	DataDir          string        // data.dir: the executor's state file and the anomaly history live here
	MaxBlock         time.Duration // webserver.request.maxBlockTimeMs
	MaxActiveTasks   int           // max.active.user.tasks
	TaskRetention    time.Duration // completed.user.task.retention.time.ms
	// ProposalRefresh is proposal.expiration.ms: how often the default
	// proposal is recomputed (and the balancedness metrics with it).
	ProposalRefresh time.Duration
	Monitor         monitor.Config
	Planner         planner.Config
	Executor        executor.Config
	// Anomaly is the anomaly detector's and self-healing's keys; its
	// DiskThreshold is the planner's disk.capacity.threshold, copied at New.
	Anomaly anomaly.Config
	// ControlPlane and Autoscaler are the base URLs of weir up's control
	// plane and of the autoscaler, for the console's pages (flags
	// --control-plane and --autoscaler; "": the pages say not configured).
	ControlPlane, Autoscaler string
	// ClientConfig is kafka.client.config: a Kafka client config file
	// (security.protocol, sasl.*, ssl.* as PEM: what --command-config
	// reads, what weir up --secure writes) for a secure cluster; "":
	// PLAINTEXT.
	ClientConfig string
	// TokenFile is webserver.auth.token.file: when set, the API and the
	// console need this bearer token (internal/httpauth; plain HTTP from
	// loopback only); /metrics and /healthz stay open for Prometheus and
	// probes. "": no authentication.
	TokenFile string
}

// DefaultConfig is the configuration with every default.
func DefaultConfig() Config {
	return Config{
		BootstrapServers: []string{"127.0.0.1:9092"}, ClientID: "weir-collector", Listen: "127.0.0.1:9090",
		MaxBlock: 10 * time.Second, MaxActiveTasks: 25, TaskRetention: 6 * time.Hour, ProposalRefresh: 30 * time.Second,
		Monitor: monitor.DefaultConfig(), Planner: planner.DefaultConfig(), Executor: executor.DefaultConfig(),
		Anomaly: anomaly.DefaultConfig(),
	}
}

// LoadConfig reads a YAML file of Cruise Control keys over the defaults.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading the collector config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig reads YAML config text over the defaults. Every error names
// the key and its line; unknown keys are errors.
func ParseConfig(data []byte) (Config, error) {
	c := DefaultConfig()
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return c, nil
		}
		return c, fmt.Errorf("parsing YAML: %w", err)
	}
	if len(doc.Content) == 0 {
		return c, nil
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return c, fmt.Errorf("line %d: the config must be a mapping of Cruise Control keys to values", m.Line)
	}
	var errs []error
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if err := c.Set(k.Value, scalar(v)); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", k.Line, err))
		}
	}
	return c, errors.Join(errs...)
}

// scalar turns a YAML value into the text Set takes: sequences become
// comma-separated lists.
func scalar(n *yaml.Node) string {
	if n.Kind != yaml.SequenceNode {
		return n.Value
	}
	var parts []string
	for _, c := range n.Content {
		parts = append(parts, c.Value)
	}
	return strings.Join(parts, ",")
}

// Set sets one key: the collector's own, then the executor's, the
// anomaly detector's, the monitor's and the planner's.
func (c *Config) Set(key, value string) error {
	if ok, err := c.setOwn(key, value); ok {
		return err
	}
	if ok, err := c.Anomaly.Set(key, value); ok {
		return err
	}
	if ok, err := setExecutor(&c.Executor, key, value); ok {
		return err
	}
	merr := c.Monitor.Set(key, value)
	if merr == nil {
		return nil
	}
	perr := c.Planner.Set(key, value)
	if perr == nil {
		return nil
	}
	if isUnknownKey(merr) && isUnknownKey(perr) {
		return fmt.Errorf("unknown key %q (docs/COLLECTOR.md lists every key)", key)
	}
	if !isUnknownKey(merr) {
		return merr
	}
	return perr
}

func isUnknownKey(err error) bool { return strings.Contains(strings.ToLower(err.Error()), "unknown") }

func (c *Config) setOwn(key, v string) (bool, error) {
	var err error
	switch key {
	case "bootstrap.servers":
		c.BootstrapServers = splitList(v)
		if len(c.BootstrapServers) == 0 {
			err = errors.New("bootstrap.servers: at least one host:port")
		}
	case "client.id":
		c.ClientID = v
	case "webserver.http.address":
		_, port := splitHostPort(c.Listen)
		c.Listen = v + ":" + port
	case "webserver.http.port":
		host, _ := splitHostPort(c.Listen)
		_, err = positiveInt(key, v)
		c.Listen = host + ":" + v
	case "data.dir":
		c.DataDir = v
	case "kafka.client.config":
		c.ClientConfig = v
	case "webserver.auth.token.file":
		c.TokenFile = v
	case "webserver.request.maxBlockTimeMs":
		c.MaxBlock, err = millis(key, v)
	case "max.active.user.tasks":
		c.MaxActiveTasks, err = positiveInt(key, v)
	case "completed.user.task.retention.time.ms":
		c.TaskRetention, err = millis(key, v)
	case "proposal.expiration.ms":
		c.ProposalRefresh, err = millis(key, v)
	default:
		return false, nil
	}
	return true, err
}

func setExecutor(e *executor.Config, key, v string) (bool, error) {
	var err error
	switch key {
	case "num.concurrent.partition.movements.per.broker":
		e.ConcurrentPartitionMovementsPerBroker, err = positiveInt(key, v)
	case "max.num.cluster.partition.movements":
		e.MaxClusterPartitionMovements, err = positiveInt(key, v)
	case "num.concurrent.leader.movements":
		e.ConcurrentLeaderMovements, err = positiveInt(key, v)
	case "default.replication.throttle":
		var n int
		if n, err = strconv.Atoi(v); err != nil || n < 0 {
			err = fmt.Errorf("%s: %q is not a rate in bytes per second (0: none)", key, v)
		}
		e.ReplicationThrottle = int64(n)
	case "execution.progress.check.interval.ms":
		e.ProgressCheckInterval, err = millis(key, v)
	default:
		return false, nil
	}
	return true, err
}

func positiveInt(key, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive integer", key, v)
	}
	return n, nil
}

func millis(key, v string) (time.Duration, error) {
	n, err := positiveInt(key, v)
	return time.Duration(n) * time.Millisecond, err
}

func splitList(v string) []string {
	var out []string
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func splitHostPort(addr string) (string, string) {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return addr, "9090"
	}
	return addr[:i], addr[i+1:]
}
