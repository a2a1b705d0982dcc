package snapshot

import (
	"reflect"
	"testing"
)

func TestParseLevel(t *testing.T) {
	for i, name := range levelNames {
		l, err := ParseLevel(name)
		if err != nil || l != Level(i) || l.String() != name {
			t.Errorf("ParseLevel(%q) = %v, %v", name, l, err)
		}
	}
	if l, err := ParseLevel("per_topic_per_partition"); err != nil || l != LevelPerTopicPerPartition {
		t.Errorf("lower case: %v, %v", l, err)
	}
	if _, err := ParseLevel("PER_PARTITION"); err == nil {
		t.Error("unknown level accepted")
	}
	if !LevelPerTopicPerBroker.Includes(LevelPerBroker) || LevelPerBroker.Includes(LevelPerTopicPerBroker) {
		t.Error("Includes is not ordered")
	}
}

func TestLagByTopic(t *testing.T) {
	g := Group{Partitions: []GroupPartition{
		{Topic: "a", Partition: 0, Lag: 5, TimeLagMs: 100},
		{Topic: "a", Partition: 1, Lag: 7, TimeLagMs: -1},
		{Topic: "b", Partition: 0, Lag: 0, TimeLagMs: -1},
	}}
	want := []TopicLag{{Topic: "a", SumLag: 12, MaxLag: 7, MaxTimeLagMs: 100}, {Topic: "b", MaxTimeLagMs: -1}}
	if got := g.LagByTopic(); !reflect.DeepEqual(got, want) {
		t.Fatalf("LagByTopic = %+v, want %+v", got, want)
	}
}
