package cluster

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	agentconfig "github.com/weirhq/weir/agent/config"
	"github.com/weirhq/weir/broker/config"
)

func newSpec(t *testing.T, req Request) Spec {
	t.Helper()
	s, err := NewSpec(req, "test-cluster-id")
	if err != nil {
		t.Fatalf("NewSpec(%+v): %v", req, err)
	}
	return s
}

// props returns broker id's server.properties as a map.
func props(s Spec, l Layout, id int) map[string]string {
	out := map[string]string{}
	for _, p := range s.BrokerProps(l, s.Brokers[id-1]) {
		out[p.Key] = p.Value
	}
	return out
}

func TestSpecBrokerProps(t *testing.T) {
	l := Layout{Dir: "/c"}
	tests := []struct {
		n                 int
		voters            string
		rf, minISR        string
		bootstrap         string
		lastKafka, racks5 string
	}{
		{1, "1@127.0.0.1:9092", "1", "1", "127.0.0.1:9092", "127.0.0.1:9092", ""},
		{3, "1@127.0.0.1:9092,2@127.0.0.1:9093,3@127.0.0.1:9094", "3", "2",
			"127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094", "127.0.0.1:9094", ""},
		{5, "1@127.0.0.1:9092,2@127.0.0.1:9093,3@127.0.0.1:9094", "3", "2",
			"127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094,127.0.0.1:9095,127.0.0.1:9096", "127.0.0.1:9096",
			"rack-1 rack-2 rack-3 rack-1 rack-2"},
	}
	for _, tt := range tests {
		s := newSpec(t, Request{Brokers: tt.n})
		if s.Bootstrap() != tt.bootstrap {
			t.Errorf("N=%d: bootstrap %q, want %q", tt.n, s.Bootstrap(), tt.bootstrap)
		}
		for id := 1; id <= tt.n; id++ {
			p := props(s, l, id)
			want := map[string]string{
				"node.id":                                  itoa(id),
				"process.roles":                            "broker,controller",
				"controller.quorum.voters":                 tt.voters,
				"weir.cluster.id":                          "test-cluster-id",
				"broker.rack":                              rack(id),
				"listeners":                                "PLAINTEXT://127.0.0.1:" + itoa(9091+id),
				"weir.admin.listener":                      "127.0.0.1:" + itoa(9643+id),
				"log.dirs":                                 "/c/broker-" + itoa(id) + "/data",
				"default.replication.factor":               tt.rf,
				"min.insync.replicas":                      tt.minISR,
				"offsets.topic.replication.factor":         tt.rf,
				"transaction.state.log.replication.factor": tt.rf,
				"transaction.state.log.min.isr":            tt.minISR,
			}
			if !reflect.DeepEqual(p, want) {
				t.Errorf("N=%d broker %d props:\n got %v\nwant %v", tt.n, id, p, want)
			}
		}
		if tt.racks5 != "" {
			var racks []string
			for _, b := range s.Brokers {
				racks = append(racks, b.Rack)
			}
			if got := strings.Join(racks, " "); got != tt.racks5 {
				t.Errorf("N=%d racks %q, want %q", tt.n, got, tt.racks5)
			}
		}
	}
}

func TestSpecPorts(t *testing.T) {
	s := newSpec(t, Request{Brokers: 2, BasePort: 19092, AdminBasePort: 19644, AgentBasePort: 21001})
	want := []BrokerSpec{
		{ID: 1, KafkaPort: 19092, AdminPort: 19644, AgentPort: 21001, AgentNodePort: 21002, Rack: "rack-1"},
		{ID: 2, KafkaPort: 19093, AdminPort: 19645, AgentPort: 21003, AgentNodePort: 21004, Rack: "rack-2"},
	}
	if !reflect.DeepEqual(s.Brokers, want) {
		t.Errorf("brokers %+v, want %+v", s.Brokers, want)
	}
	d := newSpec(t, Request{})
	if len(d.Brokers) != 3 || d.BasePort != 9092 || d.AdminBasePort != 9644 || d.AgentBasePort != 11001 {
		t.Errorf("defaults: %+v", d)
	}
}

func TestSpecRejects(t *testing.T) {
	tests := []struct {
		req  Request
		want string
	}{
		{Request{Brokers: 3, BasePort: 9092, AdminBasePort: 9093}, "port 9093 would serve both broker 1's admin listener and broker 2's Kafka listener"},
		{Request{Brokers: 3, BasePort: 65534}, "port 65536 for broker 3's Kafka listener is out of range"},
		{Request{ConfigOverrides: map[string]string{"listeners": "PLAINTEXT://:1"}}, "--config-override listeners: weir up sets listeners from --base-port"},
		{Request{ConfigOverrides: map[string]string{"log.retention.hour": "1"}}, `unknown key "log.retention.hour"`},
		{Request{ConfigOverrides: map[string]string{"num.partitions": "many"}}, "num.partitions"},
		{Request{ConfigOverrides: map[string]string{"num.partitions": "1\nnode.id=9"}}, "line break"},
	}
	for _, tt := range tests {
		_, err := NewSpec(tt.req, "id")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewSpec(%+v) = %v, want an error containing %q", tt.req, err, tt.want)
		}
	}
}

func TestSpecRoundTrip(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	req := Request{Brokers: 5, BasePort: 19092, ConfigOverrides: map[string]string{"num.partitions": "6"}}
	s, created, err := Resolve(l, req, func() string { return "first-id" })
	if err != nil || !created {
		t.Fatalf("Resolve on an empty dir = %v, created %v", err, created)
	}
	if err := SaveSpec(l, s); err != nil {
		t.Fatal(err)
	}
	got, ok, err := LoadSpec(l)
	if err != nil || !ok || !reflect.DeepEqual(got, s) {
		t.Fatalf("LoadSpec = %+v, %v, %v; want %+v", got, ok, err, s)
	}
	// A second start with no flags, or with flags that agree, brings back
	// the same cluster; the id generator is not asked again.
	for _, again := range []Request{{}, {Brokers: 5, BasePort: 19092}} {
		back, created, err := Resolve(l, again, func() string { t.Fatal("new id for a saved cluster"); return "" })
		if err != nil || created || !reflect.DeepEqual(back, s) {
			t.Errorf("Resolve(%+v) = %+v, created %v, %v; want the saved spec", again, back, created, err)
		}
	}
	// Overrides given again replace the saved set.
	back, _, err := Resolve(l, Request{ConfigOverrides: map[string]string{"log.retention.hours": "1"}}, nil)
	if err != nil || !reflect.DeepEqual(back.ConfigOverrides, map[string]string{"log.retention.hours": "1"}) {
		t.Errorf("overrides after Resolve: %v, %v", back.ConfigOverrides, err)
	}
}

func TestSpecContradictions(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	s := newSpec(t, Request{Brokers: 3})
	if err := SaveSpec(l, s); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		req  Request
		want []string
	}{
		{Request{Brokers: 5}, []string{
			l.Dir + " holds a 3-broker cluster; --brokers 5 would change it: use a new --dir, or `weir up --dir " + l.Dir + "` without --brokers"}},
		{Request{BasePort: 19092}, []string{"holds a cluster on Kafka ports 9092-9094; --base-port 19092 would change it"}},
		{Request{AdminBasePort: 1}, []string{"admin ports 9644-9646; --admin-base-port 1 would change it"}},
		{Request{AgentBasePort: 2}, []string{"--agent-base-port 2 would change it"}},
		{Request{Brokers: 1, BasePort: 1}, []string{"--brokers 1 would change it", "--base-port 1 would change it"}},
	}
	for _, tt := range tests {
		_, _, err := Resolve(l, tt.req, nil)
		for _, want := range tt.want {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Resolve(%+v) = %v, want an error containing %q", tt.req, err, want)
			}
		}
	}
}

func TestLoadSpecBadFile(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	for _, body := range []string{"{", `{"version": 2, "cluster_id": "x", "brokers": [{"id": 1}]}`, `{"version": 1, "cluster_id": "x"}`} {
		if err := os.WriteFile(l.SpecPath(), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadSpec(l); err == nil || !strings.Contains(err.Error(), filepath.Base(l.SpecPath())) {
			t.Errorf("LoadSpec(%s) = %v, want an error naming cluster.json", body, err)
		}
	}
}

// TestBrokerConfigParses checks that what weir up writes is a config the
// broker accepts, with the values the spec meant.
func TestBrokerConfigParses(t *testing.T) {
	l := Layout{Dir: "/c"}
	s := newSpec(t, Request{Brokers: 3, ConfigOverrides: map[string]string{"num.partitions": "6", "min.insync.replicas": "1"}})
	data, err := s.BrokerConfig(l, s.Brokers[1])
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(bytes.NewReader(data), "server.properties", nil)
	if err != nil {
		t.Fatalf("broker rejects the generated config: %v\n%s", err, data)
	}
	if cfg.NodeID != 2 || cfg.NumPartitions != 6 || cfg.MinInsyncReplicas != 1 || cfg.BrokerRack != "rack-2" ||
		cfg.DefaultReplicationFactor != 3 || cfg.LogDirs[0] != "/c/broker-2/data" || cfg.AdminListener != "127.0.0.1:9645" {
		t.Errorf("parsed config: %+v", cfg)
	}
}

// TestAgentConfig checks the agent config against the agent's own parser.
func TestAgentConfig(t *testing.T) {
	l := Layout{Dir: "/c/dev"}
	s := newSpec(t, Request{Brokers: 2})
	data, err := s.AgentConfig(l, s.Brokers[1])
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := agentconfig.Parse(data)
	if err != nil {
		t.Fatalf("the agent rejects the generated config: %v\n%s", err, data)
	}
	if cfg.BrokerID != 2 || cfg.BrokerAdminURL != "127.0.0.1:9645" || cfg.BrokerConfig != "/c/dev/broker-2/server.properties" ||
		strings.Join(cfg.Brokers, ",") != "127.0.0.1:9092,127.0.0.1:9093" || cfg.ClusterName != "dev" ||
		cfg.Prometheus == nil || cfg.Prometheus.BrokerListen != "127.0.0.1:11003" || cfg.Prometheus.NodeListen != "127.0.0.1:11004" {
		t.Errorf("parsed agent config: %+v %+v\n%s", cfg, cfg.Prometheus, data)
	}
	if cfg.Samples == nil || cfg.Samples.Topic != "__weir_metrics" || cfg.Interval != 5*time.Second {
		t.Errorf("samples %+v every %v, want __weir_metrics every 5s\n%s", cfg.Samples, cfg.Interval, data)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestSpecVotersStayWhenGrown: the quorum's voters are fixed when the
// cluster is made. A 1-broker cluster grown to 3 (update-broker-count, the
// autoscaler) gives every broker the same one-voter list; deriving it from
// the broker list gave brokers 2 and 3 a list of three, and they elected a
// quorum of their own.
func TestSpecVotersStayWhenGrown(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	grown := newSpec(t, Request{Brokers: 1}).Resized(3)
	if err := grown.Validate(); err != nil {
		t.Fatal(err)
	}
	for id := 1; id <= 3; id++ {
		if got := props(grown, l, id)["controller.quorum.voters"]; got != "1@127.0.0.1:9092" {
			t.Errorf("broker %d of a grown 1-broker cluster: voters %q, want 1@127.0.0.1:9092", id, got)
		}
	}
	if err := SaveSpec(l, grown); err != nil {
		t.Fatal(err)
	}
	loaded, ok, err := LoadSpec(l)
	if err != nil || !ok || !reflect.DeepEqual(loaded.VoterIDs, []int{1}) {
		t.Fatalf("reloaded voters %v (ok %v, err %v), want [1]", loaded.VoterIDs, ok, err)
	}

	// A spec saved before voter_ids existed keeps what was derived then.
	old := newSpec(t, Request{Brokers: 5})
	old.VoterIDs = nil
	if err := SaveSpec(l, old); err != nil {
		t.Fatal(err)
	}
	if loaded, _, err := LoadSpec(l); err != nil || !reflect.DeepEqual(loaded.VoterIDs, []int{1, 2, 3}) {
		t.Fatalf("old spec: voters %v, err %v; want [1 2 3]", loaded.VoterIDs, err)
	}

	bad := newSpec(t, Request{Brokers: 3})
	bad.VoterIDs = []int{1, 4}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "voter 4 is not one of the cluster's 3 brokers") {
		t.Errorf("a voter outside the cluster: %v", err)
	}
}
