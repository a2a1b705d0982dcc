package monitor

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestConfigSet(t *testing.T) {
	c := DefaultConfig()
	for k, v := range map[string]string{
		"metric.reporter.topic": "m", "partition.metrics.window.ms": "60000", "num.partition.metrics.windows": "5",
		"min.samples.per.partition.metrics.window": "3", "broker.metrics.window.ms": "30000", "num.broker.metrics.windows": "20",
		"min.samples.per.broker.metrics.window": "2", "min.valid.partition.ratio": "0.9", "min.valid.windows": "2",
		"metadata.max.age.ms": "1000", "capacity.config.file": "/c.json", "default.network.capacity.bytes.per.sec": "1e9",
		"default.cpu.cores": "4", "cluster.name": "east", "max.sample.future.skew.ms": "5000",
	} {
		if err := c.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	want := Config{Topic: "m", PartitionWindow: time.Minute, NumPartitionWindows: 5, MinSamplesPerPartitionWindow: 3,
		BrokerWindow: 30 * time.Second, NumBrokerWindows: 20, MinSamplesPerBrokerWindow: 2, MinValidPartitionRatio: 0.9,
		MinValidWindows: 2, MetadataRefresh: time.Second, CapacityFile: "/c.json", DefaultNetworkCapacity: 1e9,
		DefaultCPUCores: 4, ClusterName: "east", MaxFutureSkew: 5 * time.Second}
	if c != want {
		t.Fatalf("%+v\nwant %+v", c, want)
	}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	for _, kv := range [][2]string{
		{"no.such.key", "1"}, {"partition.metrics.window.ms", "0"}, {"partition.metrics.window.ms", "1m"},
		{"min.valid.partition.ratio", "1.5"}, {"num.partition.metrics.windows", "-1"}, {"metric.reporter.topic", ""},
		{"default.network.capacity.bytes.per.sec", "NaN"},
	} {
		if err := c.Set(kv[0], kv[1]); err == nil || !strings.Contains(err.Error(), kv[0]) {
			t.Errorf("Set(%q, %q): %v, want an error naming the key", kv[0], kv[1], err)
		}
	}
	if err := c.Set("no.such.key", "1"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("unknown key: %v", err)
	}
	c.MinValidWindows = 6
	if err := c.validate(); err == nil || !strings.Contains(err.Error(), "min.valid.windows") {
		t.Errorf("min.valid.windows above the windows kept: %v", err)
	}
}

// TestDefaultConfigFirstModelWithinAMinute checks DefaultConfig's
// arithmetic: the worst case from the agents' first sample to a valid
// model is one agent interval (5 s) plus one window, well under a minute.
func TestDefaultConfigFirstModelWithinAMinute(t *testing.T) {
	c := DefaultConfig()
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	const agentInterval = 5 * time.Second
	worst := agentInterval + time.Duration(c.MinValidWindows)*c.PartitionWindow
	if worst > 30*time.Second || c.MinSamplesPerPartitionWindow > int(c.PartitionWindow/agentInterval) {
		t.Fatalf("first model after up to %v; %d samples needed per window", worst, c.MinSamplesPerPartitionWindow)
	}
}
