package collector

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/weirhq/weir/collector/anomaly"
)

// The example config parses, and states every default it shows.
func TestExampleConfig(t *testing.T) {
	c, err := LoadConfig("../config/collector.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := DefaultConfig()
	d.BootstrapServers = c.BootstrapServers
	if c.Listen != d.Listen || c.MaxBlock != d.MaxBlock || c.Monitor != d.Monitor || c.Executor != d.Executor ||
		!reflect.DeepEqual(healing(c.Anomaly), healing(d.Anomaly)) {
		t.Errorf("the example differs from the defaults:\n%+v\n%+v", c, d)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"no.such.key: 1\n", `line 1: unknown key "no.such.key"`},
		{"a: 1\nwebserver.http.port: x\n", "line 2: webserver.http.port"},
		{"partition.metrics.window.ms: -5\n", "partition.metrics.window.ms"},
		{"disk.capacity.threshold: 2\n", "disk.capacity.threshold"},
		{"default.replication.throttle: fast\n", "default.replication.throttle"},
		{"- a\n- b\n", "mapping"},
		{"bootstrap.servers: []\n", "bootstrap.servers"},
		{"broker.failure.self.healing.threshold.ms: soon\n", "broker.failure.self.healing.threshold.ms"},
		{"anomaly.detection.goals: [NoSuchGoal]\n", `unknown goal "NoSuchGoal"`},
	} {
		_, err := ParseConfig([]byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error containing %q", tc.yaml, err, tc.want)
		}
	}
}

func TestConfigValues(t *testing.T) {
	c, err := ParseConfig([]byte("bootstrap.servers: a:1,b:2\nwebserver.http.port: 9999\npartition.metrics.window.ms: 30000\n" +
		"default.replication.throttle: 1000\nmax.replicas.per.broker: 50\nself.healing.enabled: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.BootstrapServers) != 2 || c.Listen != "127.0.0.1:9999" || c.Monitor.PartitionWindow != 30*time.Second ||
		c.Executor.ReplicationThrottle != 1000 || c.Planner.MaxReplicasPerBroker != 50 || c.Anomaly.Healing(anomaly.BrokerFailure) {
		t.Fatalf("parsed %+v", c)
	}
	if c, err := ParseConfig(nil); err != nil || c.Listen != DefaultConfig().Listen {
		t.Fatalf("an empty file: %v %+v", err, c)
	}
}

// healing is the anomaly config with the per-type switches as their
// effect (the example sets them explicitly, to the defaults).
func healing(c anomaly.Config) anomaly.Config {
	for _, t := range anomaly.Types {
		on := c.Healing(t)
		c.TypeEnabled[t], c.TypeExplicit[t] = on, false
	}
	return c
}
