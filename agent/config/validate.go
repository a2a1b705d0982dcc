package config

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/weirhq/weir/agent/snapshot"
)

var errEOF = io.EOF

// fieldError names a field by its YAML path and line.
func fieldError(root *yaml.Node, path, msg string) error {
	if line := lineOf(root, path); line > 0 {
		return fmt.Errorf("line %d: %s: %s", line, path, msg)
	}
	return fmt.Errorf("%s: %s", path, msg)
}

// lineOf finds the line of the value at a dotted path ("prometheus.node_listen").
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, key := range strings.Split(path, ".") {
		if n.Kind != yaml.MappingNode {
			return 0
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return 0
		}
		n = next
	}
	return n.Line
}

func (c *Config) validate(root *yaml.Node) error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fieldError(root, path, fmt.Sprintf(format, args...)))
	}
	if len(c.Brokers) == 0 {
		bad("brokers", "at least one bootstrap broker (host:port) is needed")
	}
	for _, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			bad("brokers", "%q is not host:port", b)
		}
	}
	if c.Interval <= 0 {
		bad("interval", "must be positive, got %v", c.Interval)
	}
	if c.LevelName != "" {
		l, err := snapshot.ParseLevel(c.LevelName)
		if err != nil {
			bad("level", "%v", err)
		}
		c.Level = l
	}
	if c.BrokerID < -1 {
		bad("broker_id", "must be a node id or -1, got %d", c.BrokerID)
	}
	for name, f := range map[string]*Filter{"topic_filter": &c.TopicFilter, "group_filter": &c.GroupFilter} {
		if which, err := f.compile(); err != nil {
			bad(name+"."+which, "bad regular expression: %v", err)
		}
	}
	c.defaults()
	c.validateExporters(bad)
	return errors.Join(errs...)
}

func (c *Config) defaults() {
	if p := c.Prometheus; p != nil {
		p.BrokerListen = or(p.BrokerListen, DefaultBrokerListen)
		p.NodeListen = or(p.NodeListen, DefaultNodeListen)
	}
	if cw := c.CloudWatch; cw != nil {
		cw.Namespace = or(cw.Namespace, DefaultCloudWatchNS)
		if cw.BatchSize == 0 {
			cw.BatchSize = DefaultCloudWatchBatch
		}
	}
	if s := c.Samples; s != nil {
		s.Topic = or(s.Topic, DefaultSamplesTopic)
		if s.Retention == 0 {
			s.Retention = DefaultSamplesRetain
		}
	}
}

func (c *Config) validateExporters(bad func(path, format string, args ...any)) {
	if p := c.Prometheus; p != nil {
		for path, addr := range map[string]string{"prometheus.broker_listen": p.BrokerListen, "prometheus.node_listen": p.NodeListen} {
			if _, _, err := net.SplitHostPort(addr); err != nil {
				bad(path, "%q is not host:port (\":11001\" listens on every address)", addr)
			}
		}
		if p.BrokerListen == p.NodeListen {
			bad("prometheus.node_listen", "must differ from broker_listen (%s)", p.BrokerListen)
		}
	}
	if o := c.OTLP; o != nil {
		switch o.Protocol {
		case "", "grpc", "http", "http/protobuf":
		default:
			bad("otlp.protocol", "%q: want grpc or http", o.Protocol)
		}
		if o.Interval < 0 {
			bad("otlp.interval", "must not be negative")
		}
		if o.Timeout < 0 {
			bad("otlp.timeout", "must not be negative")
		}
	}
	if cw := c.CloudWatch; cw != nil {
		if cw.BatchSize < 1 || cw.BatchSize > DefaultCloudWatchBatch {
			bad("cloudwatch.batch_size", "%d: want 1 to %d", cw.BatchSize, DefaultCloudWatchBatch)
		}
	}
	if s := c.Samples; s != nil && strings.ContainsAny(s.Topic, " /\\") {
		bad("samples.topic", "%q is not a valid topic name", s.Topic)
	}
	if s := c.Samples; s != nil && s.Retention < 0 {
		bad("samples.retention", "must not be negative")
	}
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
