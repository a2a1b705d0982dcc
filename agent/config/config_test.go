package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/weirhq/weir/agent/snapshot"
)

const full = `cluster_name: prod
broker_id: 2
brokers: [127.0.0.1:9092]
broker_admin_url: 127.0.0.1:9644
log_dirs: [/var/lib/weir]
interval: 1s
level: PER_TOPIC_PER_PARTITION
topic_filter:
  include: "orders.*|payments"
  exclude: "orders-tmp.*"
group_filter:
  exclude: "console-consumer-.*"
prometheus: {}
otlp:
  endpoint: collector:4317
  headers: {x-team: kafka}
cloudwatch:
  region: eu-west-1
samples: {}
`

func TestParseFull(t *testing.T) {
	c, err := Parse([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	if c.ClusterName != "prod" || c.BrokerID != 2 || c.Interval != time.Second || c.Level != snapshot.LevelPerTopicPerPartition {
		t.Fatalf("parsed %+v", c)
	}
	if *c.Prometheus != (Prometheus{":11001", ":11002"}) {
		t.Errorf("prometheus defaults %+v", c.Prometheus)
	}
	if c.OTLP.Protocol != "" || c.OTLP.Headers["x-team"] != "kafka" {
		t.Errorf("otlp %+v", c.OTLP)
	}
	if *c.CloudWatch != (CloudWatch{Region: "eu-west-1", Namespace: "AWS/Kafka", BatchSize: 1000}) {
		t.Errorf("cloudwatch %+v", c.CloudWatch)
	}
	if c.Samples.Topic != "__weir_metrics" || c.Samples.Retention != 5*time.Hour {
		t.Errorf("samples %+v", c.Samples)
	}
	for name, want := range map[string]bool{"orders": true, "orders-eu": true, "payments": true, "orders-tmp1": false, "old-orders": false, "payments2": false} {
		if got := c.TopicFilter.Match(name); got != want {
			t.Errorf("topic filter %q = %v, want %v", name, got, want)
		}
	}
	if c.GroupFilter.Match("console-consumer-1") || !c.GroupFilter.Match("billing") {
		t.Error("group filter")
	}
}

func TestParseDefaults(t *testing.T) {
	c, err := Parse([]byte("brokers: [localhost:9092]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Interval != 60*time.Second || c.Level != snapshot.LevelDefault || c.BrokerID != -1 || c.Prometheus != nil || c.ProcRoot != "/proc" {
		t.Fatalf("defaults %+v", c)
	}
	if !c.TopicFilter.Match("anything") {
		t.Fatal("an empty filter rejects")
	}
}

func TestParseErrorsNameFieldAndLine(t *testing.T) {
	cases := []struct{ doc, want string }{
		{"brokers: [a:1]\nintervall: 5s\n", "line 2: field intervall not found"},
		{"brokers: [a:1]\nprometheus:\n  brokr_listen: x\n", "line 3: field brokr_listen not found"},
		{"brokers: [a:1]\nlevel: PER_PARTITION\n", "line 2"},
		{"brokers: [a:1]\ninterval: soon\n", "line 2"},
		{"brokers: [a:1]\ninterval: -1s\n", "line 2: interval: must be positive"},
		{"interval: 1s\n", "brokers: at least one"},
		{"brokers: [nope]\n", `line 1: brokers: "nope" is not host:port`},
		{"brokers: [a:1]\ntopic_filter:\n  include: \"(\"\n", "line 3: topic_filter.include: bad regular expression"},
		{"brokers: [a:1]\nprometheus:\n  broker_listen: \":1\"\n  node_listen: \":1\"\n", "line 4: prometheus.node_listen: must differ"},
		{"brokers: [a:1]\notlp:\n  timeout: -1s\n", "line 3: otlp.timeout: must not be negative"},
		{"brokers: [a:1]\notlp:\n  endpoint: c:4317\n  protocol: udp\n", "line 4: otlp.protocol"},
		{"brokers: [a:1]\ncloudwatch:\n  region: r\n  batch_size: 5000\n", "line 4: cloudwatch.batch_size"},
		{"brokers: [a:1]\nsamples:\n  retention: -1h\n", "line 3: samples.retention: must not be negative"},
		{"brokers: [a:1\n", "line"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", c.doc, err, c.want)
		}
	}
}

func TestResolveLogDirs(t *testing.T) {
	dir := t.TempDir()
	props := filepath.Join(dir, "server.properties")
	if err := os.WriteFile(props, []byte("# x\nnode.id=1\nlog.dirs = /a, /b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &Config{BrokerConfig: props}
	if dirs, err := c.ResolveLogDirs(); err != nil || !reflect.DeepEqual(dirs, []string{"/a", "/b"}) {
		t.Fatalf("ResolveLogDirs = %v, %v", dirs, err)
	}
	c = &Config{BrokerConfig: props, LogDirs: []string{"/c"}}
	if dirs, _ := c.ResolveLogDirs(); !reflect.DeepEqual(dirs, []string{"/c"}) {
		t.Fatalf("log_dirs does not win: %v", dirs)
	}
	if _, err := (&Config{BrokerConfig: filepath.Join(dir, "missing")}).ResolveLogDirs(); err == nil {
		t.Fatal("missing broker config accepted")
	}
}
