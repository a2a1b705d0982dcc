package quorum

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// builder applies commands at increasing raft indexes, as a log would.
type builder struct {
	t     testing.TB
	img   *Image
	index uint64
}

func newBuilder(t testing.TB) *builder { return &builder{t: t, img: EmptyImage()} }

// do applies c through the encoded form and returns its result.
func (b *builder) do(c Command) (any, error) {
	b.t.Helper()
	data, err := Encode(c)
	if err != nil {
		b.t.Fatalf("encode %T: %v", c, err)
	}
	b.index++
	var r Result
	before := b.img
	b.img, r = applyEntry(b.img, data, b.index)
	if r.Err != nil && b.img != before {
		b.t.Fatalf("%T failed (%v) but changed the image", c, r.Err)
	}
	if err := checkInvariants(b.img); err != nil {
		b.t.Fatalf("after %T %+v: %v", c, c, err)
	}
	return r.Value, r.Err
}

// must applies c and fails the test on an error.
func (b *builder) must(c Command) any {
	b.t.Helper()
	v, err := b.do(c)
	if err != nil {
		b.t.Fatalf("%T %+v: %v", c, c, err)
	}
	return v
}

// brokers registers and unfences ids, rack "r<id%racks>" when racks > 0.
func (b *builder) brokers(racks int, ids ...int32) {
	b.t.Helper()
	for _, id := range ids {
		rack := ""
		if racks > 0 {
			rack = fmt.Sprintf("r%d", int(id)%racks)
		}
		b.must(RegisterBroker{ID: id, IncarnationID: fmt.Sprintf("inc-%d", id), Rack: rack,
			Host: "127.0.0.1", Port: 9092 + id, RaftAddr: fmt.Sprintf("127.0.0.1:%d", 9092+id)})
		b.must(UnfenceBroker{ID: id})
	}
}

var nextTopicID byte

func testTopicID() TopicID {
	nextTopicID++
	return TopicID{1, nextTopicID}
}

// topic creates a topic with the given assignment.
func (b *builder) topic(name string, assignment ...[]int32) {
	b.t.Helper()
	b.must(CreateTopic{Name: name, ID: testTopicID(), Assignment: assignment})
}

func (b *builder) part(topic string, p int32) Partition {
	b.t.Helper()
	part, ok := b.img.Partition(topic, p)
	if !ok {
		b.t.Fatalf("no partition %s-%d", topic, p)
	}
	return part
}

// checkInvariants is what every image promises.
func checkInvariants(img *Image) error {
	if len(img.byID) != len(img.Topics) {
		return fmt.Errorf("%d topics by id, %d by name", len(img.byID), len(img.Topics))
	}
	for name, t := range img.Topics {
		if img.byID[t.ID] != t || t.Name != name {
			return fmt.Errorf("topic %s: index mismatch", name)
		}
		for i, p := range t.Partitions {
			if err := checkPartition(img, p); err != nil {
				return fmt.Errorf("%s-%d %+v: %w", name, i, p, err)
			}
		}
	}
	return nil
}

func checkPartition(img *Image, p Partition) error {
	if len(p.ISR) == 0 {
		return errors.New("empty ISR")
	}
	for _, r := range p.ISR {
		if !slices.Contains(p.Replicas, r) {
			return fmt.Errorf("ISR member %d not a replica", r)
		}
	}
	if p.Leader == NoLeader {
		return nil
	}
	if !slices.Contains(p.ISR, p.Leader) {
		return fmt.Errorf("leader %d not in ISR", p.Leader)
	}
	if !img.IsLive(p.Leader) {
		return fmt.Errorf("leader %d is fenced or unregistered", p.Leader)
	}
	return nil
}

// wantCode checks that err wraps code (nil code: no error).
func wantCode(t testing.TB, err error, code *kerr.Error) {
	t.Helper()
	if code == nil {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	if !errors.Is(err, code) {
		t.Fatalf("error %v, want %s", err, code.Message)
	}
}
