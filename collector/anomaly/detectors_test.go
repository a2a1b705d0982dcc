package anomaly

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/weirhq/weir/collector/model"
	"github.com/weirhq/weir/collector/planner"
)

// testCluster is brokers 1–n in racks a, b, c … (one each), disk
// capacity 1000, and the partitions given.
func testCluster(n int, parts ...model.Partition) *model.Cluster {
	c := &model.Cluster{Windows: 1, ValidPartitionRatio: 1, Partitions: parts}
	for i := 1; i <= n; i++ {
		c.Brokers = append(c.Brokers, model.Broker{ID: int32(i), Rack: string(rune('a' + i - 1)),
			Capacity: model.Load{model.CPU: 8, model.NetworkIn: 1e9, model.NetworkOut: 1e9, model.Disk: 1000}})
	}
	return c
}

func part(topic string, n int32, size float64, replicas ...int32) model.Partition {
	return model.Partition{Topic: topic, Partition: n, Replicas: replicas, Leader: replicas[0],
		Load: model.PartitionLoad{Size: size, BytesIn: 1000, BytesOut: 1000, LeaderCPU: 0.1, FollowerCPU: 0.05}}
}

func TestDiskFull(t *testing.T) {
	cfg := DefaultConfig()
	c := testCluster(4, part("t", 0, 500, 1, 2), part("t", 1, 400, 1, 3), part("t", 2, 10, 2, 3))
	o := &Observation{Model: c, Alive: map[int32]bool{1: true, 2: true, 3: true, 4: true}}
	f, known := diskFailures(o, &cfg, true)
	if !known || f == nil || !slices.Equal(f.brokers, []int32{1}) || f.fix == nil {
		t.Fatalf("broker 1 at 90%% of its disk: finding %+v", f)
	}
	if !slices.Contains(f.fix.Goals, "DiskCapacityGoal") || !strings.Contains(f.description, "90% full") {
		t.Errorf("fix %+v, description %q", f.fix, f.description)
	}
	prop, err := (&Fix{AnomalyID: "x", Goals: f.fix.Goals}).Plan(c, planner.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	after, err := model.Apply(c, prop.Moves)
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := diskFailures(&Observation{Model: after, Alive: o.Alive}, &cfg, true); f != nil {
		t.Errorf("after the fix's %d moves still full: %s", len(prop.Moves), f.description)
	}
	if f, known := diskFailures(o, &cfg, false); f != nil || known {
		t.Errorf("a stale model was judged: %+v", f)
	}
}

func TestBrokerFailureFixMovesOnlyTheDeadBrokersReplicas(t *testing.T) {
	c := testCluster(4, part("t", 0, 100, 4, 1, 2), part("t", 1, 100, 1, 2, 3), part("t", 2, 100, 2, 3, 4))
	c.Brokers[3].State = model.Dead
	fix := &Fix{AnomalyID: "BROKER_FAILURE-1", Type: BrokerFailure, Goals: DefaultConfig().HealingGoals}
	prop, err := fix.Plan(c, planner.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range prop.Moves {
		if slices.Contains(m.NewReplicas, 4) || len(m.NewReplicas) != 3 {
			t.Errorf("%s: %v -> %v", m.Name(), m.OldReplicas, m.NewReplicas)
		}
		if !slices.Contains(m.OldReplicas, 4) && m.MovesReplicas() {
			t.Errorf("%s moved without a replica on the dead broker: %v -> %v", m.Name(), m.OldReplicas, m.NewReplicas)
		}
	}
	if prop.ReplicaMoves() != 2 {
		t.Errorf("%d replica moves, want 2 (the two partitions on broker 4)", prop.ReplicaMoves())
	}
}

func TestMetricAnomaly(t *testing.T) {
	c := testCluster(4)
	for i := range int32(8) {
		c.Partitions = append(c.Partitions, part("t", i, 10, i%4+1, (i+1)%4+1))
	}
	// Broker 3 spends ten times the CPU of its peers on the same traffic.
	for i := range c.Partitions {
		if c.Partitions[i].Leader == 3 {
			c.Partitions[i].Load.LeaderCPU = 1
		}
	}
	cfg := DefaultConfig()
	f, known := metricAnomalies(&Observation{Model: c}, &cfg, true)
	if !known || f == nil || !slices.Equal(f.brokers, []int32{3}) {
		t.Fatalf("finding %+v", f)
	}
	if f.fix.States[3] != model.Demoted || cfg.Healing(MetricAnomaly) {
		t.Errorf("fix %+v; healing on by default: %t", f.fix, cfg.Healing(MetricAnomaly))
	}
	prop, err := f.fix.Plan(c, planner.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range prop.Moves {
		if m.NewLeader() == 3 || m.MovesReplicas() {
			t.Errorf("demotion: %s %v -> %v", m.Name(), m.OldReplicas, m.NewReplicas)
		}
	}
	// Below the ratio, nothing.
	for i := range c.Partitions {
		c.Partitions[i].Load.LeaderCPU = 0.1
	}
	if f, _ := metricAnomalies(&Observation{Model: c}, &cfg, true); f != nil {
		t.Errorf("an even cluster: %s", f.description)
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct{ key, value, err string }{
		{"self.healing.enabled", "false", ""},
		{"self.healing.enabled", "maybe", `not true or false`},
		{"self.healing.metric.anomaly.enabled", "true", ""},
		{"broker.failure.self.healing.threshold.ms", "0", "not a positive integer"},
		{"fixable.failed.broker.percentage.threshold", "1.5", "not a number in [0, 1]"},
		{"anomaly.detection.goals", "RackAwareGoal,NoSuchGoal", `unknown goal "NoSuchGoal"`},
		{"self.healing.goals", "com.linkedin.kafka.cruisecontrol.analyzer.goals.RackAwareGoal", ""},
		{"self.healing.cooldown.ms", "30000", ""},
	} {
		cfg := DefaultConfig()
		ok, err := cfg.Set(tc.key, tc.value)
		if !ok || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Set(%s, %s) = %t, %v; want error %q", tc.key, tc.value, ok, err, tc.err)
		}
	}
	cfg := DefaultConfig()
	if ok, _ := cfg.Set("bootstrap.servers", "x"); ok {
		t.Error("bootstrap.servers taken as the detector's")
	}
	cfg.Set("self.healing.goals", "com.linkedin.kafka.cruisecontrol.analyzer.goals.RackAwareGoal")
	if !slices.Equal(cfg.HealingGoals, []string{"RackAwareGoal"}) {
		t.Errorf("class name kept: %v", cfg.HealingGoals)
	}
	cfg.Set("broker.failure.alert.threshold.ms", "60000")
	if cfg.Validate() == nil {
		t.Error("an alert threshold above the healing threshold is accepted")
	}
	if d := DefaultConfig(); !d.Healing(BrokerFailure) || d.BrokerFailureHeal != 5*time.Second || d.Healing(TopicAnomaly) {
		t.Errorf("defaults: %+v", d)
	}
}
