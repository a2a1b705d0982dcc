package server

import (
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/replica"
)

// TestListOffsetsLatestOnlyFromALeaderThatKnowsItsHighWatermark: as in
// Kafka, only the leader answers ListOffsets (the debugging replica id may
// read a follower), and a leader whose high watermark has not reached the
// start of its leader epoch answers a client's request for the latest
// offset with OFFSET_NOT_AVAILABLE (KIP-207) instead of a high watermark
// that may be below acknowledged records.
func TestListOffsetsLatestOnlyFromALeaderThatKnowsItsHighWatermark(t *testing.T) {
	b := &Broker{logger: slog.New(slog.DiscardHandler)}
	tp := &topic{name: "t"}
	p := newPartition(tp, 0, nil, 1, nil)
	tp.partitions = []*partition{p}
	b.mu.topics = map[string]*topic{"t": tp}
	now := time.Unix(1000, 0)
	latest := func(replicaID int32, version int16) kmsg.ListOffsetsResponseTopicPartition {
		t.Helper()
		req := kmsg.NewPtrListOffsetsRequest()
		req.SetVersion(version)
		req.ReplicaID = replicaID
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "t"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = 0, listLatest, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return b.handleListOffsets(req).(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]
	}
	want := func(what string, got kmsg.ListOffsetsResponseTopicPartition, code int16, offset int64) {
		t.Helper()
		if got.ErrorCode != code || code == 0 && got.Offset != offset {
			t.Errorf("%s: error %v offset %d, want %v offset %d", what, kerr.ErrorForCode(got.ErrorCode), got.Offset, kerr.ErrorForCode(code), offset)
		}
	}

	a := replica.Assignment{Leader: 2, LeaderEpoch: 3, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}}
	p.rep.State(func(r *replica.Partition) {
		r.BecomeFollower(a, 100)
		r.FollowerHighWatermark(90, 100)
	})
	want("follower", latest(-1, 4), kerr.NotLeaderForPartition.Code, 0)
	want("follower, debugging replica id", latest(-2, 4), 0, 90)

	a.Leader, a.LeaderEpoch = 1, 4
	p.rep.State(func(r *replica.Partition) { r.BecomeLeader(a, 100, r.HighWatermark(), now) })
	want("new leader, high watermark below its epoch start", latest(-1, 4), kerr.OffsetNotAvailable.Code, 0)
	want("new leader, v1 (no isolation level)", latest(-1, 1), 0, 90)

	p.rep.State(func(r *replica.Partition) {
		r.FollowerFetch(2, 100, 100, now)
		r.FollowerFetch(3, 100, 100, now)
	})
	want("leader after its followers caught up", latest(-1, 4), 0, 100)

	want("partition not hosted here", func() kmsg.ListOffsetsResponseTopicPartition {
		tp.partitions = append(tp.partitions, nil)
		defer func() { tp.partitions = tp.partitions[:1] }()
		req := kmsg.NewPtrListOffsetsRequest()
		req.SetVersion(4)
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "t"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp = 1, listLatest
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return b.handleListOffsets(req).(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]
	}(), kerr.NotLeaderForPartition.Code, 0)
}
