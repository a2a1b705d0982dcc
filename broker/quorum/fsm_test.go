package quorum

import (
	"bytes"
	"io"
	"reflect"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/weirhq/weir/broker/acl"
	"github.com/weirhq/weir/broker/sasl"
)

func snapshotBytes(t testing.TB, img *Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func logOf(t testing.TB, index uint64, c Command) *raft.Log {
	t.Helper()
	data, err := Encode(c)
	if err != nil {
		t.Fatal(err)
	}
	return &raft.Log{Index: index, Type: raft.LogCommand, Data: data}
}

func TestFSMBatchPublishesOnce(t *testing.T) {
	f := NewFSM()
	img0, changed := f.Watch()
	res := f.ApplyBatch([]*raft.Log{
		logOf(t, 1, InitCluster{ClusterID: "c"}),
		{Index: 2, Type: raft.LogConfiguration},
		logOf(t, 3, RegisterBroker{ID: 1, IncarnationID: "i", Host: "h", Port: 1}),
		logOf(t, 4, FenceBroker{ID: 9}),
		{Index: 5, Type: raft.LogCommand, Data: []byte("junk")},
	})
	select {
	case <-changed:
	default:
		t.Fatal("watch channel not closed")
	}
	img, changed2 := f.Watch()
	if img == img0 || img.Version != 3 || img.ClusterID != "c" || len(img.Brokers) != 1 {
		t.Fatalf("image %+v", img)
	}
	if res[1] != nil || res[2].(Result).Value.(RegisterResult).Epoch != 3 || res[3].(Result).Err == nil || res[4].(Result).Err == nil {
		t.Fatalf("results %+v", res)
	}
	// A batch that changes nothing publishes nothing.
	f.ApplyBatch([]*raft.Log{logOf(t, 6, FenceBroker{ID: 9})})
	select {
	case <-changed2:
		t.Fatal("published an unchanged image")
	default:
	}
}

func TestFSMSnapshotRestore(t *testing.T) {
	b := newBuilder(t)
	b.must(InitCluster{ClusterID: "cid"})
	b.brokers(2, 1, 2, 3)
	b.topic("t", []int32{1, 2, 3}, []int32{2, 3, 1})
	b.must(Reassign{Topic: "t", Partition: 1, Replicas: []int32{3, 1}})
	b.must(SetBrokerConfigs{BrokerID: ClusterDefault, Configs: map[string]string{"a": "1"}})
	b.must(SetBrokerConfigs{BrokerID: 2, Configs: map[string]string{"a": "2"}})
	b.must(AllocateProducerIDs{BrokerID: 1})

	f := NewFSM()
	f.publish(b.img)
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	g := NewFSM()
	if err := g.Restore(io.NopCloser(&sink.buf)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g.Image(), b.img) {
		t.Fatalf("restored image differs:\n%s\n%s", snapshotBytes(t, g.Image()), snapshotBytes(t, b.img))
	}
	if err := g.Restore(io.NopCloser(bytes.NewReader([]byte{9}))); err == nil {
		t.Fatal("restored an unknown format")
	}
}

type memSink struct {
	buf bytes.Buffer
}

func (s *memSink) Write(p []byte) (int, error) { return s.buf.Write(p) }
func (s *memSink) Close() error                { return nil }
func (s *memSink) ID() string                  { return "mem" }
func (s *memSink) Cancel() error               { return nil }

// FuzzApply feeds arbitrary bytes as a log entry to a populated image: it
// must never panic, a failed entry must leave the image as it was, and
// every resulting image keeps the invariants.
func FuzzApply(f *testing.F) {
	seeds := []Command{
		RegisterBroker{ID: 4, IncarnationID: "x", Host: "h", Port: 4},
		FenceBroker{ID: 1}, UnfenceBroker{ID: 2}, UnregisterBroker{ID: 3},
		CreateTopic{Name: "n", ID: TopicID{7}, Assignment: [][]int32{{1, 2}}},
		DeleteTopic{Name: "t"}, CreatePartitions{Topic: "t", Assignment: [][]int32{{3, 2, 1}}},
		SetTopicConfigs{Topic: "t", Configs: map[string]string{"a": "b"}},
		SetBrokerConfigs{BrokerID: 1, Configs: map[string]string{"a": "b"}},
		AlterPartition{BrokerID: 1, Topic: "t", ISR: []int32{1, 2}},
		Reassign{Topic: "t", Replicas: []int32{3, 2}}, Reassign{Topic: "t"},
		CompleteReassignment{Topic: "t"},
		ElectLeaders{Type: ElectUnclean, Partitions: []TopicPartition{{"t", 0}}},
		AllocateProducerIDs{BrokerID: 1}, InitCluster{ClusterID: "z"},
		AlterScramCredentials{Upsertions: []ScramUpsertion{NewScramUpsertion("u", sasl.ScramSHA256, 4096, []byte("s"), []byte("p"))},
			Deletions: []ScramDeletion{{User: "v", Mechanism: sasl.ScramSHA512}}},
		CreateACLs{Bindings: []acl.Binding{{Resource: acl.Resource{Type: acl.ResourceTopic, Name: "t", Pattern: acl.PatternLiteral},
			Entry: acl.Entry{Principal: "User:u", Host: "*", Operation: acl.OpRead, Permission: acl.Allow}}}},
		DeleteACLs{Filters: []acl.BindingFilter{acl.AnyFilter}},
	}
	for _, c := range seeds {
		data, _ := Encode(c)
		f.Add(data)
	}
	f.Add([]byte{1, '{', '}'})
	f.Add([]byte{1})
	f.Add([]byte(`{"op":"reassign"}`))
	b := newBuilder(f)
	b.must(InitCluster{ClusterID: "c"})
	b.brokers(2, 1, 2, 3)
	b.topic("t", []int32{1, 2, 3})
	base := b.img
	want := snapshotBytes(f, base)
	f.Fuzz(func(t *testing.T, data []byte) {
		img, r := applyEntry(base, data, 100)
		if r.Err != nil && img != base {
			t.Fatalf("failed entry changed the image: %v", r.Err)
		}
		if err := checkInvariants(img); err != nil {
			t.Fatalf("invariant: %v", err)
		}
		if got := snapshotBytes(t, base); !bytes.Equal(got, want) {
			t.Fatal("the base image was modified")
		}
	})
}
