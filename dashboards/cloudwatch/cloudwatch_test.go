package cloudwatch

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	agentcw "github.com/weirhq/weir/agent/export/cloudwatch"
	"github.com/weirhq/weir/agent/snapshot"
)

// TestExamplesAreCurrent fails when the checked-in examples differ from what
// the code generates.
func TestExamplesAreCurrent(t *testing.T) {
	files, err := Files(Example, "example")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(name)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is stale or missing: run go run ./dashboards/cloudwatch/gen -example", name)
		}
	}
}

// fullSnapshot is the active controller's agent with every section filled:
// topics, client connections, replication, request phases and idle shares,
// host (CPU valid, a disk), a group with lag and time lag.
func fullSnapshot() *snapshot.Snapshot {
	s := &snapshot.Snapshot{Time: time.Unix(1_700_000_000, 0), ClusterName: "c", BrokerID: 1,
		Cluster: &snapshot.Cluster{Brokers: []snapshot.BrokerMeta{{ID: 1}}},
		Host: &snapshot.Host{CPU: snapshot.CPUPercent{Valid: true, User: 30, System: 10, Idle: 55, IOWait: 5},
			Memory: snapshot.Memory{TotalBytes: 1000, UsedBytes: 600, FreeBytes: 300},
			Disks:  []snapshot.Disk{{UsedPercent: 25}}},
		Broker: &snapshot.Broker{ActiveControllerCount: 1, PartitionCount: 1, LeaderCount: 1,
			Topics:                []snapshot.TopicRates{{Topic: "orders", BytesInPerSec: 1}},
			ClientConnectionValid: true, ReplicationValid: true, RequestStatsValid: true,
			RequestHandlerIdleValid: true, NetworkProcessorIdleValid: true},
	}
	s.Groups = []snapshot.Group{{Name: "readers", Members: 1, Partitions: []snapshot.GroupPartition{
		{Topic: "orders", Partition: 0, Committed: 1, End: 2, Lag: 1, TimeLagMs: 1000}}}}
	return s
}

// emitted is what the agent publishes at a level: "name|dim,dim".
func emitted(level snapshot.Level) map[string]bool {
	out := map[string]bool{}
	for _, d := range agentcw.Metrics(fullSnapshot(), agentcw.Options{Level: level}) {
		var dims []string
		for _, dm := range d.Dimensions {
			dims = append(dims, *dm.Name)
		}
		slices.Sort(dims)
		out[*d.MetricName+"|"+strings.Join(dims, ",")] = true
	}
	return out
}

func key(m Metric) string {
	dims := slices.Clone(m.Dims)
	slices.Sort(dims)
	return m.Name + "|" + strings.Join(dims, ",")
}

// TestEveryMetricIsEmitted checks every metric a widget or alarm names
// against the agent's CloudWatch exporter: emitted at the level the metric
// declares, with exactly its dimensions, and not below that level (so the
// level in a widget's title is the one to configure).
func TestEveryMetricIsEmitted(t *testing.T) {
	uses := append(Dashboard(Example).Uses(), AlarmUses(Alarms(Example))...)
	if len(uses) == 0 {
		t.Fatal("no metrics")
	}
	checked := map[string]bool{}
	for _, m := range uses {
		if !emitted(m.Level)[key(m)] {
			t.Errorf("%s with dimensions %v: the agent does not emit it at %v", m.Name, m.Dims, m.Level)
		}
		if m.Level > snapshot.LevelDefault && emitted(m.Level - 1)[key(m)] {
			t.Errorf("%s with dimensions %v: emitted already below %v", m.Name, m.Dims, m.Level)
		}
		checked[key(m)] = true
	}
	t.Logf("%d metric uses, %d distinct metric and dimension sets, all emitted by the agent", len(uses), len(checked))
}

// TestAlarmsNameTheirMetrics checks each alarm's dimensions are the ones its
// metric has, and each has a runbook.
func TestAlarmsNameTheirMetrics(t *testing.T) {
	for _, a := range Alarms(Example) {
		if !strings.Contains(a.AlarmDescription, "docs/DASHBOARDS.md#") {
			t.Errorf("%s: no runbook", a.AlarmName)
		}
		if a.MetricName == "" && len(a.Metrics) == 0 {
			t.Errorf("%s: no metric", a.AlarmName)
		}
		for _, d := range a.Dimensions {
			if d.Value == "" {
				t.Errorf("%s: dimension %s empty", a.AlarmName, d.Name)
			}
		}
	}
}
