package quorum

import (
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// three brokers 1,2,3 and topic "t" with partition 0 on [1 2 3], led by 1.
func threeBrokers(b *builder) {
	b.brokers(0, 1, 2, 3)
	b.topic("t", []int32{1, 2, 3})
}

func TestApply(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*builder)
		cmd   Command
		code  *kerr.Error
		err   error // an error that is not a Kafka code
		check func(*testing.T, *builder, any)
	}{
		{name: "init cluster", cmd: InitCluster{ClusterID: "abc"},
			check: func(t *testing.T, b *builder, _ any) {
				if b.img.ClusterID != "abc" {
					t.Fatalf("cluster id %q", b.img.ClusterID)
				}
			}},
		{name: "init cluster again same id", setup: func(b *builder) { b.must(InitCluster{ClusterID: "abc"}) },
			cmd: InitCluster{ClusterID: "abc"}},
		{name: "init cluster other id", setup: func(b *builder) { b.must(InitCluster{ClusterID: "abc"}) },
			cmd: InitCluster{ClusterID: "xyz"}, code: kerr.InconsistentClusterID},
		{name: "init cluster empty", cmd: InitCluster{}, code: kerr.InvalidRequest},

		{name: "register broker", cmd: RegisterBroker{ID: 1, IncarnationID: "a", Host: "h", Port: 1, Rack: "r"},
			check: func(t *testing.T, b *builder, v any) {
				br, _ := b.img.Broker(1)
				if !br.Fenced || br.Epoch != 1 || br.Rack != "r" || v.(RegisterResult).Epoch != 1 {
					t.Fatalf("broker %+v result %+v", br, v)
				}
			}},
		{name: "register broker without host", cmd: RegisterBroker{ID: 1, IncarnationID: "a", Port: 1}, code: kerr.InvalidRequest},
		{name: "register broker bad port", cmd: RegisterBroker{ID: 1, IncarnationID: "a", Host: "h", Port: 70000}, code: kerr.InvalidRequest},
		{name: "re-register same incarnation is idempotent", setup: func(b *builder) { b.brokers(0, 1) },
			cmd: RegisterBroker{ID: 1, IncarnationID: "inc-1", Host: "h", Port: 1},
			check: func(t *testing.T, b *builder, v any) {
				if br, _ := b.img.Broker(1); br.Fenced || v.(RegisterResult).Epoch != 1 {
					t.Fatalf("broker %+v result %+v", br, v)
				}
			}},
		{name: "re-register new incarnation fences and moves leadership", setup: threeBrokers,
			cmd: RegisterBroker{ID: 1, IncarnationID: "new", Host: "h", Port: 1},
			check: func(t *testing.T, b *builder, v any) {
				br, _ := b.img.Broker(1)
				p := b.part("t", 0)
				if !br.Fenced || br.Epoch != int64(b.index) || p.Leader != 2 || p.LeaderEpoch != 1 || !slices.Equal(p.ISR, []int32{2, 3}) {
					t.Fatalf("broker %+v partition %+v", br, p)
				}
			}},

		{name: "fence leader moves leadership and shrinks ISR", setup: threeBrokers, cmd: FenceBroker{ID: 1},
			check: func(t *testing.T, b *builder, _ any) {
				p := b.part("t", 0)
				if p.Leader != 2 || p.LeaderEpoch != 1 || p.PartitionEpoch != 1 || !slices.Equal(p.ISR, []int32{2, 3}) {
					t.Fatalf("partition %+v", p)
				}
			}},
		{name: "fence follower shrinks ISR only", setup: threeBrokers, cmd: FenceBroker{ID: 3},
			check: func(t *testing.T, b *builder, _ any) {
				p := b.part("t", 0)
				if p.Leader != 1 || p.LeaderEpoch != 0 || p.PartitionEpoch != 1 || !slices.Equal(p.ISR, []int32{1, 2}) {
					t.Fatalf("partition %+v", p)
				}
			}},
		{name: "fence last ISR member leaves no leader", setup: func(b *builder) {
			b.brokers(0, 1, 2)
			b.topic("t", []int32{1, 2})
			b.must(FenceBroker{ID: 2})
		}, cmd: FenceBroker{ID: 1},
			check: func(t *testing.T, b *builder, _ any) {
				p := b.part("t", 0)
				if p.Leader != NoLeader || p.LeaderEpoch != 1 || !slices.Equal(p.ISR, []int32{1}) {
					t.Fatalf("partition %+v", p)
				}
			}},
		{name: "fence with unclean election enabled", setup: func(b *builder) {
			b.brokers(0, 1, 2)
			b.must(CreateTopic{Name: "t", ID: testTopicID(), Assignment: [][]int32{{1, 2}},
				Configs: map[string]string{"unclean.leader.election.enable": "true"}})
			b.must(FenceBroker{ID: 2})
			b.must(UnfenceBroker{ID: 2}) // back, but not in the ISR
		}, cmd: FenceBroker{ID: 1},
			check: func(t *testing.T, b *builder, _ any) {
				p := b.part("t", 0)
				if p.Leader != 2 || !slices.Equal(p.ISR, []int32{2}) {
					t.Fatalf("partition %+v", p)
				}
			}},
		{name: "fence stale epoch", setup: threeBrokers, cmd: FenceBroker{ID: 1, Epoch: 99}, code: kerr.StaleBrokerEpoch},
		{name: "fence unknown", cmd: FenceBroker{ID: 7}, code: kerr.BrokerIDNotRegistered},
		{name: "fence fenced is a no-op", setup: func(b *builder) {
			b.must(RegisterBroker{ID: 1, IncarnationID: "a", Host: "h", Port: 1})
		}, cmd: FenceBroker{ID: 1}},

		{name: "unfence elects leaderless partitions", setup: func(b *builder) {
			b.brokers(0, 1, 2)
			b.topic("t", []int32{1, 2})
			b.must(FenceBroker{ID: 2})
			b.must(FenceBroker{ID: 1})
		}, cmd: UnfenceBroker{ID: 1},
			check: func(t *testing.T, b *builder, _ any) {
				p := b.part("t", 0)
				if p.Leader != 1 || p.LeaderEpoch != 2 {
					t.Fatalf("partition %+v", p)
				}
			}},
		{name: "unfence unknown", cmd: UnfenceBroker{ID: 3}, code: kerr.BrokerIDNotRegistered},

		{name: "unregister", setup: threeBrokers, cmd: UnregisterBroker{ID: 1},
			check: func(t *testing.T, b *builder, _ any) {
				p := b.part("t", 0)
				if _, ok := b.img.Broker(1); ok || p.Leader != 2 {
					t.Fatalf("broker 1 still there or leads")
				}
				// The assignment stays (the caller empties a broker first);
				// the ISR loses it as on fencing.
				if !slices.Equal(p.Replicas, []int32{1, 2, 3}) || slices.Contains(p.ISR, 1) {
					t.Fatalf("partition %+v", p)
				}
			}},
		{name: "unregister a fenced broker", setup: func(b *builder) {
			threeBrokers(b)
			b.must(FenceBroker{ID: 3})
		}, cmd: UnregisterBroker{ID: 3},
			check: func(t *testing.T, b *builder, _ any) {
				if _, ok := b.img.Broker(3); ok || len(b.img.LiveBrokers()) != 2 {
					t.Fatalf("brokers %v", b.img.AllBrokers())
				}
			}},
		{name: "unregister unknown", cmd: UnregisterBroker{ID: 1}, code: kerr.BrokerIDNotRegistered},

		{name: "create topic", setup: func(b *builder) { b.brokers(0, 1, 2) },
			cmd: CreateTopic{Name: "x", ID: TopicID{9}, Assignment: [][]int32{{1, 2}, {2, 1}}, Configs: map[string]string{"a": "b"}},
			check: func(t *testing.T, b *builder, v any) {
				tp := v.(*Topic)
				byID, _ := b.img.TopicByID(TopicID{9})
				if byID != tp || tp.Partitions[1].Leader != 2 || tp.Configs["a"] != "b" {
					t.Fatalf("topic %+v", tp)
				}
			}},
		{name: "create topic with a fenced replica", setup: func(b *builder) {
			b.brokers(0, 1)
			b.must(RegisterBroker{ID: 2, IncarnationID: "a", Host: "h", Port: 1})
		}, cmd: CreateTopic{Name: "x", ID: TopicID{9}, Assignment: [][]int32{{2, 1}}},
			check: func(t *testing.T, b *builder, _ any) {
				if p := b.part("x", 0); p.Leader != 1 || !slices.Equal(p.ISR, []int32{1}) {
					t.Fatalf("partition %+v", p)
				}
			}},
		{name: "create topic all fenced", setup: func(b *builder) {
			b.must(RegisterBroker{ID: 2, IncarnationID: "a", Host: "h", Port: 1})
		}, cmd: CreateTopic{Name: "x", ID: TopicID{9}, Assignment: [][]int32{{2}}}, code: kerr.InvalidReplicaAssignment},
		{name: "create topic exists", setup: threeBrokers, cmd: CreateTopic{Name: "t", ID: TopicID{9}, Assignment: [][]int32{{1}}}, code: kerr.TopicAlreadyExists},
		{name: "create topic id in use", setup: func(b *builder) {
			b.brokers(0, 1)
			b.must(CreateTopic{Name: "a", ID: TopicID{9}, Assignment: [][]int32{{1}}})
		}, cmd: CreateTopic{Name: "b", ID: TopicID{9}, Assignment: [][]int32{{1}}}, code: kerr.InvalidRequest},
		{name: "create topic zero id", setup: threeBrokers, cmd: CreateTopic{Name: "x", Assignment: [][]int32{{1}}}, code: kerr.InvalidRequest},
		{name: "create topic bad name", setup: threeBrokers, cmd: CreateTopic{Name: "a/b", ID: TopicID{9}, Assignment: [][]int32{{1}}}, code: kerr.InvalidTopicException},
		{name: "create topic no partitions", setup: threeBrokers, cmd: CreateTopic{Name: "x", ID: TopicID{9}}, code: kerr.InvalidPartitions},
		{name: "create topic uneven replication", setup: threeBrokers, cmd: CreateTopic{Name: "x", ID: TopicID{9}, Assignment: [][]int32{{1, 2}, {1}}}, code: kerr.InvalidReplicaAssignment},
		{name: "create topic duplicate replica", setup: threeBrokers, cmd: CreateTopic{Name: "x", ID: TopicID{9}, Assignment: [][]int32{{1, 1}}}, code: kerr.InvalidReplicaAssignment},
		{name: "create topic unknown broker", setup: threeBrokers, cmd: CreateTopic{Name: "x", ID: TopicID{9}, Assignment: [][]int32{{1, 8}}}, code: kerr.InvalidReplicaAssignment},

		{name: "delete topic", setup: threeBrokers, cmd: DeleteTopic{Name: "t"},
			check: func(t *testing.T, b *builder, _ any) {
				if len(b.img.Topics) != 0 || len(b.img.byID) != 0 {
					t.Fatal("topic still there")
				}
			}},
		{name: "delete unknown topic", cmd: DeleteTopic{Name: "t"}, code: kerr.UnknownTopicOrPartition},

		{name: "create partitions", setup: threeBrokers, cmd: CreatePartitions{Topic: "t", Assignment: [][]int32{{2, 3, 1}}},
			check: func(t *testing.T, b *builder, _ any) {
				if p := b.part("t", 1); p.Leader != 2 {
					t.Fatalf("partition %+v", p)
				}
			}},
		{name: "create partitions from the count it has", setup: threeBrokers, cmd: CreatePartitions{Topic: "t", Assignment: [][]int32{{2, 3, 1}}, From: 1},
			check: func(t *testing.T, b *builder, _ any) {
				if n := len(b.img.Topics["t"].Partitions); n != 2 {
					t.Fatalf("%d partitions", n)
				}
			}},
		// The same command again (a resend after a lost answer) finds 2
		// partitions, not 1, and adds none.
		{name: "create partitions from a stale count", setup: func(b *builder) {
			threeBrokers(b)
			b.must(CreatePartitions{Topic: "t", Assignment: [][]int32{{2, 3, 1}}, From: 1})
		}, cmd: CreatePartitions{Topic: "t", Assignment: [][]int32{{3, 1, 2}}, From: 1}, code: kerr.InvalidPartitions,
			check: func(t *testing.T, b *builder, _ any) {
				if n := len(b.img.Topics["t"].Partitions); n != 2 {
					t.Fatalf("%d partitions", n)
				}
			}},
		{name: "create partitions wrong count", setup: threeBrokers, cmd: CreatePartitions{Topic: "t", Assignment: [][]int32{{2, 3}}}, code: kerr.InvalidReplicaAssignment},
		{name: "create partitions none", setup: threeBrokers, cmd: CreatePartitions{Topic: "t"}, code: kerr.InvalidPartitions},
		{name: "create partitions unknown topic", cmd: CreatePartitions{Topic: "t", Assignment: [][]int32{{1}}}, code: kerr.UnknownTopicOrPartition},

		{name: "set topic configs", setup: threeBrokers, cmd: SetTopicConfigs{Topic: "t", Configs: map[string]string{"retention.ms": "1"}},
			check: func(t *testing.T, b *builder, _ any) {
				if v, _ := b.img.TopicConfig("t", "retention.ms"); v != "1" {
					t.Fatalf("config %q", v)
				}
			}},
		{name: "set topic configs on their base", setup: func(b *builder) {
			threeBrokers(b)
			b.must(SetTopicConfigs{Topic: "t", Configs: map[string]string{"a": "1"}})
		}, cmd: SetTopicConfigs{Topic: "t", Configs: map[string]string{"a": "1", "b": "2"}, Base: map[string]string{"a": "1"}, CheckBase: true},
			check: func(t *testing.T, b *builder, _ any) {
				if v, _ := b.img.TopicConfig("t", "b"); v != "2" {
					t.Fatalf("config %q", v)
				}
			}},
		// An edit of configs that another edit changed since erases
		// nothing.
		{name: "set topic configs on a stale base", setup: func(b *builder) {
			threeBrokers(b)
			b.must(SetTopicConfigs{Topic: "t", Configs: map[string]string{"a": "1"}})
		}, cmd: SetTopicConfigs{Topic: "t", Configs: map[string]string{"b": "2"}, CheckBase: true}, err: ErrConfigsChanged},
		{name: "set broker configs on a stale base", setup: func(b *builder) {
			b.must(SetBrokerConfigs{BrokerID: 1, Configs: map[string]string{"a": "1"}})
		}, cmd: SetBrokerConfigs{BrokerID: 1, Configs: map[string]string{"b": "2"}, Base: map[string]string{"a": "0"}, CheckBase: true}, err: ErrConfigsChanged},
		{name: "set default broker configs on a stale base", setup: func(b *builder) {
			b.must(SetBrokerConfigs{BrokerID: ClusterDefault, Configs: map[string]string{"a": "1"}})
		}, cmd: SetBrokerConfigs{BrokerID: ClusterDefault, Base: map[string]string{}, CheckBase: true}, err: ErrConfigsChanged},
		{name: "set topic configs unknown", cmd: SetTopicConfigs{Topic: "t"}, code: kerr.UnknownTopicOrPartition},
		{name: "set cluster default configs", cmd: SetBrokerConfigs{BrokerID: ClusterDefault, Configs: map[string]string{"k": "d"}},
			check: func(t *testing.T, b *builder, _ any) {
				if v, _ := b.img.BrokerConfig(4, "k"); v != "d" {
					t.Fatalf("config %q", v)
				}
			}},
		{name: "set per-broker configs", setup: func(b *builder) {
			b.must(SetBrokerConfigs{BrokerID: ClusterDefault, Configs: map[string]string{"k": "d"}})
		}, cmd: SetBrokerConfigs{BrokerID: 4, Configs: map[string]string{"k": "4"}},
			check: func(t *testing.T, b *builder, _ any) {
				v4, _ := b.img.BrokerConfig(4, "k")
				v5, _ := b.img.BrokerConfig(5, "k")
				if v4 != "4" || v5 != "d" {
					t.Fatalf("configs %q %q", v4, v5)
				}
			}},
		{name: "set broker configs bad id", cmd: SetBrokerConfigs{BrokerID: -5}, code: kerr.InvalidRequest},

		{name: "alter partition shrinks ISR", setup: threeBrokers,
			cmd: AlterPartition{BrokerID: 1, Topic: "t", ISR: []int32{1, 2}},
			check: func(t *testing.T, b *builder, v any) {
				p := b.part("t", 0)
				if !slices.Equal(p.ISR, []int32{1, 2}) || p.PartitionEpoch != 1 || v.(Partition).PartitionEpoch != 1 {
					t.Fatalf("partition %+v", p)
				}
			}},
		{name: "alter partition unchanged ISR", setup: threeBrokers, cmd: AlterPartition{BrokerID: 1, Topic: "t", ISR: []int32{1, 2, 3}},
			check: func(t *testing.T, b *builder, _ any) {
				if b.part("t", 0).PartitionEpoch != 0 {
					t.Fatal("epoch bumped")
				}
			}},
		{name: "alter partition stale leader epoch", setup: threeBrokers,
			cmd: AlterPartition{BrokerID: 1, Topic: "t", LeaderEpoch: 1, ISR: []int32{1}}, code: kerr.FencedLeaderEpoch},
		{name: "alter partition not leader", setup: threeBrokers,
			cmd: AlterPartition{BrokerID: 2, Topic: "t", ISR: []int32{2}}, code: kerr.InvalidRequest},
		{name: "alter partition stale partition epoch", setup: threeBrokers,
			cmd: AlterPartition{BrokerID: 1, Topic: "t", PartitionEpoch: 5, ISR: []int32{1}}, code: kerr.InvalidUpdateVersion},
		{name: "alter partition ISR without leader", setup: threeBrokers,
			cmd: AlterPartition{BrokerID: 1, Topic: "t", ISR: []int32{2, 3}}, code: kerr.InvalidRequest},
		{name: "alter partition ISR not replicas", setup: func(b *builder) {
			b.brokers(0, 1, 2, 3, 4)
			b.topic("t", []int32{1, 2, 3})
		}, cmd: AlterPartition{BrokerID: 1, Topic: "t", ISR: []int32{1, 4}}, code: kerr.InvalidRequest},
		{name: "alter partition duplicate in ISR", setup: threeBrokers,
			cmd: AlterPartition{BrokerID: 1, Topic: "t", ISR: []int32{1, 1}}, code: kerr.InvalidRequest},
		{name: "alter partition adds a fenced broker", setup: func(b *builder) {
			threeBrokers(b)
			b.must(FenceBroker{ID: 3})
		}, cmd: AlterPartition{BrokerID: 1, Topic: "t", PartitionEpoch: 1, ISR: []int32{1, 2, 3}}, code: kerr.IneligibleReplica},
		{name: "alter partition stale broker epoch", setup: threeBrokers,
			cmd: AlterPartition{BrokerID: 1, BrokerEpoch: 77, Topic: "t", ISR: []int32{1}}, code: kerr.StaleBrokerEpoch},
		{name: "alter partition wrong topic id", setup: threeBrokers,
			cmd: AlterPartition{BrokerID: 1, Topic: "t", TopicID: TopicID{0xee}, ISR: []int32{1}}, code: kerr.UnknownTopicID},
		{name: "alter partition unknown partition", setup: threeBrokers,
			cmd: AlterPartition{BrokerID: 1, Topic: "t", Partition: 1, ISR: []int32{1}}, code: kerr.UnknownTopicOrPartition},

		{name: "reassign adds then completes on ISR expansion", setup: func(b *builder) {
			b.brokers(0, 1, 2, 3, 4)
			b.topic("t", []int32{1, 2, 3})
			b.must(Reassign{Topic: "t", Replicas: []int32{4, 2, 3}})
			p := b.part("t", 0)
			if !slices.Equal(p.Replicas, []int32{4, 2, 3, 1}) || !slices.Equal(p.AddingReplicas, []int32{4}) || !slices.Equal(p.RemovingReplicas, []int32{1}) {
				b.t.Fatalf("moving partition %+v", p)
			}
		}, cmd: AlterPartition{BrokerID: 1, Topic: "t", PartitionEpoch: 1, ISR: []int32{1, 2, 3, 4}},
			check: func(t *testing.T, b *builder, _ any) {
				p := b.part("t", 0)
				if !slices.Equal(p.Replicas, []int32{4, 2, 3}) || p.Reassigning() || p.Leader != 4 || p.LeaderEpoch != 1 ||
					!slices.Equal(p.ISR, []int32{2, 3, 4}) {
					t.Fatalf("partition %+v", p)
				}
			}},
		{name: "reassign shrink completes at once", setup: threeBrokers, cmd: Reassign{Topic: "t", Replicas: []int32{2, 3}},
			check: func(t *testing.T, b *builder, _ any) {
				p := b.part("t", 0)
				if !slices.Equal(p.Replicas, []int32{2, 3}) || p.Reassigning() || p.Leader != 2 {
					t.Fatalf("partition %+v", p)
				}
			}},
		{name: "reassign reorder", setup: threeBrokers, cmd: Reassign{Topic: "t", Replicas: []int32{3, 2, 1}},
			check: func(t *testing.T, b *builder, _ any) {
				p := b.part("t", 0)
				if !slices.Equal(p.Replicas, []int32{3, 2, 1}) || p.Leader != 1 {
					t.Fatalf("partition %+v", p)
				}
			}},
		{name: "reassign to the same replicas is a no-op", setup: threeBrokers, cmd: Reassign{Topic: "t", Replicas: []int32{1, 2, 3}},
			check: func(t *testing.T, b *builder, _ any) {
				if b.img.Version == b.index {
					t.Fatal("image changed")
				}
			}},
		{name: "reassign cancel", setup: func(b *builder) {
			b.brokers(0, 1, 2, 3, 4)
			b.topic("t", []int32{1, 2, 3})
			b.must(Reassign{Topic: "t", Replicas: []int32{4, 2, 3}})
		}, cmd: Reassign{Topic: "t"},
			check: func(t *testing.T, b *builder, _ any) {
				p := b.part("t", 0)
				// KRaft's way: the original order is not kept while moving.
				if !slices.Equal(p.Replicas, []int32{2, 3, 1}) || p.Reassigning() || p.PartitionEpoch != 2 || p.Leader != 1 {
					t.Fatalf("partition %+v", p)
				}
			}},
		{name: "reassign cancel none running", setup: threeBrokers, cmd: Reassign{Topic: "t"}, code: kerr.NoReassignmentInProgress},
		{name: "reassign to a fenced broker", setup: func(b *builder) {
			threeBrokers(b)
			b.must(RegisterBroker{ID: 4, IncarnationID: "a", Host: "h", Port: 1})
		}, cmd: Reassign{Topic: "t", Replicas: []int32{4}}, code: kerr.InvalidReplicaAssignment},
		{name: "reassign to an unknown broker", setup: threeBrokers, cmd: Reassign{Topic: "t", Replicas: []int32{1, 9}}, code: kerr.InvalidReplicaAssignment},
		{name: "reassign duplicate", setup: threeBrokers, cmd: Reassign{Topic: "t", Replicas: []int32{1, 1}}, code: kerr.InvalidReplicaAssignment},
		{name: "reassign empty", setup: threeBrokers, cmd: Reassign{Topic: "t", Replicas: []int32{}}, code: kerr.InvalidReplicaAssignment},
		{name: "reassign unknown partition", setup: threeBrokers, cmd: Reassign{Topic: "t", Partition: 3, Replicas: []int32{1}}, code: kerr.UnknownTopicOrPartition},

		{name: "complete reassignment not ready", setup: func(b *builder) {
			b.brokers(0, 1, 2, 3, 4)
			b.topic("t", []int32{1, 2, 3})
			b.must(Reassign{Topic: "t", Replicas: []int32{4, 2, 3}})
		}, cmd: CompleteReassignment{Topic: "t"}, code: kerr.ReassignmentInProgress},
		{name: "complete reassignment none", setup: threeBrokers, cmd: CompleteReassignment{Topic: "t"}, code: kerr.NoReassignmentInProgress},

		{name: "alter partitions: each change alone, in order, in one entry", setup: func(b *builder) {
			threeBrokers(b)
			b.topic("u", []int32{1, 2, 3})
		}, cmd: AlterPartitions{Changes: []AlterPartition{
			{BrokerID: 1, Topic: "t", ISR: []int32{1, 2}},
			{BrokerID: 1, Topic: "nope", ISR: []int32{1}},
			{BrokerID: 1, Topic: "u", PartitionEpoch: 7, ISR: []int32{1}},
			{BrokerID: 1, Topic: "u", ISR: []int32{1, 3}},
			// Against the state the first change left: epoch 1 now.
			{BrokerID: 1, Topic: "t", PartitionEpoch: 1, ISR: []int32{1}},
		}},
			check: func(t *testing.T, b *builder, v any) {
				rs := v.([]AlterPartitionResult)
				wantCode(t, rs[0].Err, nil)
				wantCode(t, rs[1].Err, kerr.UnknownTopicOrPartition)
				wantCode(t, rs[2].Err, kerr.InvalidUpdateVersion)
				wantCode(t, rs[3].Err, nil)
				wantCode(t, rs[4].Err, nil)
				if p := b.part("t", 0); !slices.Equal(p.ISR, []int32{1}) || p.PartitionEpoch != 2 || rs[4].Partition.PartitionEpoch != 2 {
					t.Fatalf("t-0 %+v", p)
				}
				if p := b.part("u", 0); !slices.Equal(p.ISR, []int32{1, 3}) || p.PartitionEpoch != 1 || !slices.Equal(rs[3].Partition.ISR, []int32{1, 3}) {
					t.Fatalf("u-0 %+v", p)
				}
			}},
		{name: "preferred election", setup: func(b *builder) {
			threeBrokers(b)
			b.must(FenceBroker{ID: 1})
			b.must(UnfenceBroker{ID: 1})
			b.must(AlterPartition{BrokerID: 2, Topic: "t", LeaderEpoch: 1, PartitionEpoch: 1, ISR: []int32{2, 3, 1}})
		}, cmd: ElectLeaders{Type: ElectPreferred, Partitions: []TopicPartition{{"t", 0}, {"nope", 0}}},
			check: func(t *testing.T, b *builder, v any) {
				rs := v.([]ElectionResult)
				wantCode(t, rs[0].Err, nil)
				wantCode(t, rs[1].Err, kerr.UnknownTopicOrPartition)
				if p := b.part("t", 0); p.Leader != 1 || p.LeaderEpoch != 2 || rs[0].Leader != 1 {
					t.Fatalf("partition %+v", p)
				}
			}},
		{name: "preferred election not needed", setup: threeBrokers,
			cmd: ElectLeaders{Type: ElectPreferred, Partitions: []TopicPartition{{"t", 0}}},
			check: func(t *testing.T, b *builder, v any) {
				wantCode(t, v.([]ElectionResult)[0].Err, kerr.ElectionNotNeeded)
			}},
		{name: "preferred leader not in ISR", setup: func(b *builder) {
			threeBrokers(b)
			b.must(FenceBroker{ID: 1})
			b.must(UnfenceBroker{ID: 1})
		}, cmd: ElectLeaders{Type: ElectPreferred, Partitions: []TopicPartition{{"t", 0}}},
			check: func(t *testing.T, b *builder, v any) {
				wantCode(t, v.([]ElectionResult)[0].Err, kerr.PreferredLeaderNotAvailable)
			}},
		{name: "unclean election", setup: func(b *builder) {
			b.brokers(0, 1, 2)
			b.topic("t", []int32{1, 2})
			b.must(FenceBroker{ID: 2})
			b.must(FenceBroker{ID: 1})
			b.must(UnfenceBroker{ID: 2})
		}, cmd: ElectLeaders{Type: ElectUnclean, Partitions: []TopicPartition{{"t", 0}}},
			check: func(t *testing.T, b *builder, v any) {
				wantCode(t, v.([]ElectionResult)[0].Err, nil)
				if p := b.part("t", 0); p.Leader != 2 || !slices.Equal(p.ISR, []int32{2}) {
					t.Fatalf("partition %+v", p)
				}
			}},
		{name: "unclean election not needed", setup: threeBrokers,
			cmd: ElectLeaders{Type: ElectUnclean, Partitions: []TopicPartition{{"t", 0}}},
			check: func(t *testing.T, b *builder, v any) {
				wantCode(t, v.([]ElectionResult)[0].Err, kerr.ElectionNotNeeded)
			}},
		{name: "unclean election nobody live", setup: func(b *builder) {
			b.brokers(0, 1)
			b.topic("t", []int32{1})
			b.must(FenceBroker{ID: 1})
		}, cmd: ElectLeaders{Type: ElectUnclean, Partitions: []TopicPartition{{"t", 0}}},
			check: func(t *testing.T, b *builder, v any) {
				wantCode(t, v.([]ElectionResult)[0].Err, kerr.EligibleLeadersNotAvailable)
			}},
		{name: "elect bad type", cmd: ElectLeaders{Type: 7}, code: kerr.InvalidRequest},

		{name: "allocate producer ids", setup: func(b *builder) {
			b.brokers(0, 1)
			b.must(AllocateProducerIDs{BrokerID: 1})
		}, cmd: AllocateProducerIDs{BrokerID: 1, BrokerEpoch: 1},
			check: func(t *testing.T, b *builder, v any) {
				if blk := v.(ProducerIDBlock); blk.First != 1000 || blk.Size != 1000 || b.img.NextProducerID != 2000 {
					t.Fatalf("block %+v next %d", blk, b.img.NextProducerID)
				}
			}},
		{name: "allocate producer ids unknown broker", cmd: AllocateProducerIDs{BrokerID: 1}, code: kerr.BrokerIDNotRegistered},
		{name: "allocate producer ids stale epoch", setup: func(b *builder) { b.brokers(0, 1) },
			cmd: AllocateProducerIDs{BrokerID: 1, BrokerEpoch: 3}, code: kerr.StaleBrokerEpoch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBuilder(t)
			if tc.setup != nil {
				tc.setup(b)
			}
			before := b.img
			v, err := b.do(tc.cmd)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
			} else {
				wantCode(t, err, tc.code)
			}
			if err != nil && b.img != before {
				t.Fatal("a failed command changed the image")
			}
			if tc.check != nil {
				tc.check(t, b, v)
			}
		})
	}
}

// Applying never modifies a published image: copy-on-write.
func TestApplyLeavesOldImagesAlone(t *testing.T) {
	b := newBuilder(t)
	threeBrokers(b)
	old := b.img
	oldPart := b.part("t", 0)
	snap := snapshotBytes(t, old)
	b.must(FenceBroker{ID: 1})
	b.must(SetTopicConfigs{Topic: "t", Configs: map[string]string{"x": "y"}})
	b.must(SetBrokerConfigs{BrokerID: 2, Configs: map[string]string{"x": "y"}})
	b.must(AllocateProducerIDs{BrokerID: 2})
	if got := snapshotBytes(t, old); string(got) != string(snap) {
		t.Fatalf("old image changed:\n%s\n%s", snap, got)
	}
	if oldPart.Leader != 1 || b.part("t", 0).Leader != 2 {
		t.Fatal("leader")
	}
}

func TestOpsAllDecode(t *testing.T) {
	cmds := []Command{InitCluster{}, RegisterBroker{}, FenceBroker{}, UnfenceBroker{}, UnregisterBroker{},
		CreateTopic{}, DeleteTopic{}, CreatePartitions{}, SetTopicConfigs{}, SetBrokerConfigs{},
		AlterPartition{}, AlterPartitions{}, Reassign{}, CompleteReassignment{}, ElectLeaders{}, AllocateProducerIDs{},
		AlterScramCredentials{}, CreateACLs{}, DeleteACLs{}, SetFeatureLevel{}}
	if len(cmds) != len(Ops()) {
		t.Fatalf("%d commands, %d ops", len(cmds), len(Ops()))
	}
	for _, c := range cmds {
		b, err := Encode(c)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Decode(b)
		if err != nil || d.Op() != c.Op() {
			t.Fatalf("%s: %v %v", c.Op(), d, err)
		}
	}
}

// A topic copy shares its partitions' slices with the published image
// (Topic.clone is shallow): changes to one partition must leave every
// partition of the earlier image as it was.
func TestApplyLeavesEarlierImage(t *testing.T) {
	b := newBuilder(t)
	b.brokers(0, 1, 2, 3)
	b.topic("t", []int32{1, 2, 3}, []int32{2, 3, 1})
	before := b.img
	p0, p1 := before.Topics["t"].Partitions[0].clone(), before.Topics["t"].Partitions[1].clone()
	b.must(AlterPartition{BrokerID: 1, Topic: "t", Partition: 0, ISR: []int32{1, 2}})
	b.must(FenceBroker{ID: 3})
	b.must(UnfenceBroker{ID: 3})
	b.must(AlterPartition{BrokerID: 2, Topic: "t", Partition: 1, LeaderEpoch: b.part("t", 1).LeaderEpoch,
		PartitionEpoch: b.part("t", 1).PartitionEpoch, ISR: []int32{2, 3, 1}})
	if got := before.Topics["t"].Partitions; !reflect.DeepEqual(got[0], p0) || !reflect.DeepEqual(got[1], p1) {
		t.Fatalf("earlier image changed: %+v, was %+v %+v", got, p0, p1)
	}
	if reflect.DeepEqual(b.img.Topics["t"].Partitions[0], p0) {
		t.Fatalf("partition 0 did not change: %+v", p0)
	}
}
