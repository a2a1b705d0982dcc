// Package config reads the agent's YAML config file (config/agent.yaml is
// the commented example, docs/AGENT.md the reference).
//
// Unknown fields are errors, and every error names the field and its line,
// so a typo fails at start instead of silently turning a feature off.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/weirhq/weir/agent/snapshot"
)

// Defaults.
const (
	DefaultInterval        = 60 * time.Second // MSK's CloudWatch period
	DefaultBrokerListen    = ":11001"         // MSK open monitoring's JMX exporter port
	DefaultNodeListen      = ":11002"         // MSK open monitoring's node exporter port
	DefaultCloudWatchNS    = "AWS/Kafka"
	DefaultCloudWatchBatch = 1000 // PutMetricData's limit per call
	DefaultSamplesTopic    = "__weir_metrics"
	DefaultSamplesRetain   = 5 * time.Hour // retention.ms of a samples topic the agent creates
	DefaultAppLogDir       = "/var/log"    // where packaged brokers log
)

// Config is the whole agent config.
type Config struct {
	ClusterName string `yaml:"cluster_name"`
	// BrokerID is the broker this agent sits beside; -1 (the default) for an
	// agent run against a whole cluster.
	BrokerID int32 `yaml:"broker_id"`
	// Brokers are the Kafka bootstrap addresses, host:port.
	Brokers []string `yaml:"brokers"`
	// ClientConfig is a Kafka client config file (Java properties:
	// security.protocol, sasl.*, ssl.* as PEM; the file --command-config
	// reads and weir up --secure writes) for a secure cluster; empty:
	// PLAINTEXT.
	ClientConfig string `yaml:"client_config"`
	// BrokerAdminURL is the broker's admin HTTP address ("host:port" or a
	// URL); empty for a cluster without one (Apache Kafka).
	BrokerAdminURL string `yaml:"broker_admin_url"`
	// LogDirs are the broker's log directories, for disk usage.
	LogDirs []string `yaml:"log_dirs"`
	// BrokerConfig is a server.properties to read log.dirs from when
	// LogDirs is empty.
	BrokerConfig string `yaml:"broker_config"`
	// ProcRoot is where /proc is ("/proc"); the host's root filesystem
	// (RootDiskUsed) is its parent.
	ProcRoot string `yaml:"proc_root"`
	// AppLogDir is where the broker writes its application logs
	// (KafkaAppLogsDiskUsed).
	AppLogDir string        `yaml:"app_log_dir"`
	Interval  time.Duration `yaml:"interval"`
	// LevelName is the monitoring level as written (DEFAULT if empty);
	// Level is its parsed value.
	LevelName string         `yaml:"level"`
	Level     snapshot.Level `yaml:"-"`

	TopicFilter Filter `yaml:"topic_filter"`
	GroupFilter Filter `yaml:"group_filter"`

	Prometheus *Prometheus `yaml:"prometheus"`
	OTLP       *OTLP       `yaml:"otlp"`
	CloudWatch *CloudWatch `yaml:"cloudwatch"`
	Samples    *Samples    `yaml:"samples"`
}

// Filter selects names by regular expressions: a name passes if it matches
// Include (or Include is empty) and does not match Exclude. The expressions
// are anchored: "orders.*" does not match "old-orders".
type Filter struct {
	Include string `yaml:"include"`
	Exclude string `yaml:"exclude"`

	include, exclude *regexp.Regexp
}

// Match reports whether name passes the filter.
func (f *Filter) Match(name string) bool {
	if f.include != nil && !f.include.MatchString(name) {
		return false
	}
	return f.exclude == nil || !f.exclude.MatchString(name)
}

func (f *Filter) compile() (string, error) {
	var err error
	if f.Include != "" {
		if f.include, err = regexp.Compile("^(?:" + f.Include + ")$"); err != nil {
			return "include", err
		}
	}
	if f.Exclude != "" {
		if f.exclude, err = regexp.Compile("^(?:" + f.Exclude + ")$"); err != nil {
			return "exclude", err
		}
	}
	return "", nil
}

// Prometheus serves MSK open monitoring's two endpoints.
type Prometheus struct {
	BrokerListen string `yaml:"broker_listen"` // broker, topic, partition and lag series
	NodeListen   string `yaml:"node_listen"`   // node_exporter series
}

// OTLP exports to an OpenTelemetry collector. Empty fields leave the
// standard OTEL_EXPORTER_OTLP_* environment variables in force.
type OTLP struct {
	Endpoint string            `yaml:"endpoint"` // host:port or URL
	Protocol string            `yaml:"protocol"` // grpc or http (http/protobuf)
	Insecure bool              `yaml:"insecure"`
	Headers  map[string]string `yaml:"headers"`
	Timeout  time.Duration     `yaml:"timeout"`  // per export attempt
	Interval time.Duration     `yaml:"interval"` // 0: every collection
}

// CloudWatch puts metrics under MSK's names and dimensions. Region,
// endpoint and credentials otherwise come from the AWS SDK's standard
// configuration (AWS_REGION, AWS_ENDPOINT_URL_CLOUDWATCH, profiles, …).
type CloudWatch struct {
	Region    string `yaml:"region"`
	Namespace string `yaml:"namespace"`
	Endpoint  string `yaml:"endpoint"` // override, for a local CloudWatch stand-in
	BatchSize int    `yaml:"batch_size"`
}

// Samples produces Avro load samples to a topic for the collector.
type Samples struct {
	Topic string `yaml:"topic"`
	// Retention is the retention.ms of the topic when the agent creates it.
	Retention time.Duration `yaml:"retention"`
}

// Load reads and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading agent config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse reads and validates a config document, filling in defaults.
func Parse(data []byte) (*Config, error) {
	c := &Config{BrokerID: -1, Interval: DefaultInterval, ProcRoot: "/proc", AppLogDir: DefaultAppLogDir}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil && !errors.Is(err, errEOF) {
		return nil, yamlError(err)
	}
	if root.Kind != 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(c); err != nil {
			return nil, yamlError(err)
		}
	}
	if err := c.validate(&root); err != nil {
		return nil, err
	}
	return c, nil
}

// yamlError drops yaml.v3's "yaml: " prefix and its Go type names.
func yamlError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	msg = regexp.MustCompile(` in type [\w.*]+`).ReplaceAllString(msg, "")
	return errors.New(msg)
}

// ResolveLogDirs returns LogDirs, or else log.dirs (or log.dir) from the
// server.properties named by BrokerConfig. It reads only those two keys, so
// it works on Apache Kafka's file as well as Weir's.
func (c *Config) ResolveLogDirs() ([]string, error) {
	if len(c.LogDirs) > 0 || c.BrokerConfig == "" {
		return c.LogDirs, nil
	}
	data, err := os.ReadFile(c.BrokerConfig)
	if err != nil {
		return nil, fmt.Errorf("reading log.dirs from the broker config: %w", err)
	}
	props := map[string]string{}
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimSpace(line)
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			props[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	dirs := props["log.dirs"]
	if dirs == "" {
		dirs = props["log.dir"]
	}
	if dirs == "" {
		return nil, fmt.Errorf("%s sets neither log.dirs nor log.dir", c.BrokerConfig)
	}
	var out []string
	for d := range strings.SplitSeq(dirs, ",") {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, d)
		}
	}
	return out, nil
}
