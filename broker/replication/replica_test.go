package replication

import (
	"encoding/binary"
	"hash/crc32"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/replica"
)

// A replica reads time from the broker's clock: a follower that stops
// fetching leaves the ISR once replica.lag.time.max.ms has passed on that
// clock, whatever the wall clock says, and the controller's answer is
// applied at the clock's time.
func TestReplicaISRLagIsOnTheBrokersClock(t *testing.T) {
	now := time.Unix(1000, 0)
	p := testReplica(t)
	p.r.now = func() time.Time { return now }
	m := testManager(t)
	m.Apply(p, replica.Assignment{Leader: 1, LeaderEpoch: 1, Replicas: []int32{1, 2}, ISR: []int32{1, 2}}, now)
	p.r.FollowerFetched(2, 0, now)
	live := func(int32) bool { return true }

	now = now.Add(10 * time.Second)
	if ch, ok := p.r.NextISRChange(now, 10*time.Second, live, true); ok {
		t.Fatalf("ISR change %+v at the lag limit", ch)
	}
	now = now.Add(time.Millisecond)
	if ch, ok := p.r.NextISRChange(now, 10*time.Second, live, false); ok {
		t.Fatalf("ISR change %+v from a tick that does not look for lagging followers", ch)
	}
	ch, ok := p.r.NextISRChange(now, 10*time.Second, live, true)
	if !ok || !slices.Equal(ch.ISR, []int32{1}) {
		t.Fatalf("past the lag limit: change %+v (%v), want ISR [1]", ch, ok)
	}
	p.r.ISRChangeDone(ch.ISR, ch.LeaderEpoch, ch.PartitionEpoch+1)
	if p.r.InISR(2) {
		t.Fatal("follower 2 still in the ISR after the controller's answer")
	}
}

// A follower's parked fetch (WatchAppends) wakes on an append, not on a
// high watermark move, which it learns from its next answer as Kafka's
// followers do; any other parked request (Watch: consumers, acks=all
// produces) wakes on both.
func TestFollowerFetchIsNotWokenByHighWatermark(t *testing.T) {
	now := time.Unix(1000, 0)
	p := testReplica(t)
	p.r.now = func() time.Time { return now }
	m := testManager(t)
	m.Apply(p, replica.Assignment{Leader: 1, LeaderEpoch: 1, Replicas: []int32{1, 2}, ISR: []int32{1, 2}}, now)
	follower, other := make(chan struct{}, 1), make(chan struct{}, 1)
	p.r.WatchAppends(follower)
	p.r.Watch(other)
	signalled := func(w chan struct{}) bool {
		select {
		case <-w:
			return true
		default:
			return false
		}
	}

	b := oneRecordBatch()
	hdrs, err := wlog.ValidateBatches(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.r.log.Append(b, hdrs, wlog.AppendOptions{LeaderEpoch: 1}); err != nil {
		t.Fatal(err)
	}
	p.r.Appended()
	if !signalled(follower) || !signalled(other) {
		t.Fatal("an append did not wake every parked request")
	}

	p.r.FollowerFetched(2, 1, now) // the follower has the record: the high watermark moves
	var hw int64
	p.r.State(func(rp *replica.Partition) { hw = rp.HighWatermark() })
	if hw != 1 {
		t.Fatalf("high watermark %d after the follower fetched offset 1, want 1", hw)
	}
	if !signalled(other) {
		t.Error("a high watermark move did not wake a consumer's parked fetch")
	}
	if signalled(follower) {
		t.Error("a high watermark move woke a follower's parked fetch")
	}

	p.r.WakeAll() // a role change or a delete wakes everyone
	if !signalled(follower) || !signalled(other) {
		t.Fatal("WakeAll did not wake every parked request")
	}
}

// oneRecordBatch is a v2 batch of one record at base offset 0.
func oneRecordBatch() []byte {
	rec := kmsg.Record{Value: []byte("v")}
	body := rec.AppendTo(nil)[1:]
	records := binary.AppendVarint(nil, int64(len(body)))
	records = append(records, body...)
	rb := kmsg.RecordBatch{PartitionLeaderEpoch: -1, Magic: 2, ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1,
		NumRecords: 1, Records: records, FirstTimestamp: 1000, MaxTimestamp: 1000}
	raw := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}
