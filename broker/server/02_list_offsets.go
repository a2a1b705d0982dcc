package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListOffsets, versions 1–8.
//
// Timestamp -1 is the latest offset (the high watermark; the last stable
// offset under read_committed, equal without transactions), -2 the log
// start offset, -3 the record with the largest timestamp (v7, KIP-734);
// any other value is the first offset whose timestamp is at or after it,
// or -1 when there is none. v4 adds CurrentLeaderEpoch fencing (KIP-320)
// and returns the leader epoch.

const (
	listLatest       = -1
	listEarliest     = -2
	listMaxTimestamp = -3
)

func (b *Broker) handleListOffsets(r *kmsg.ListOffsetsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range r.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			st.Partitions = append(st.Partitions, b.listOffset(rt.Topic, rp))
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

func (b *Broker) listOffset(topic string, rp kmsg.ListOffsetsRequestTopicPartition) kmsg.ListOffsetsResponseTopicPartition {
	sp := kmsg.NewListOffsetsResponseTopicPartition()
	sp.Partition = rp.Partition
	sp.Timestamp, sp.Offset, sp.LeaderEpoch = -1, -1, -1
	p := b.lookup(topic, rp.Partition)
	if p == nil {
		sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return sp
	}
	if code := epochCode(rp.CurrentLeaderEpoch, p.leaderEpoch()); code != 0 {
		sp.ErrorCode = code
		return sp
	}
	sp.LeaderEpoch = p.leaderEpoch()
	switch rp.Timestamp {
	case listLatest:
		sp.Offset = p.highWatermark()
	case listEarliest:
		sp.Offset = p.log.LogStartOffset()
	case listMaxTimestamp:
		if off, ts, ok := p.log.MaxTimestamp(); ok {
			sp.Offset, sp.Timestamp = off, ts
		}
	default:
		if rp.Timestamp < 0 {
			sp.ErrorCode = kerr.InvalidRequest.Code
			return sp
		}
		off, ts, ok, err := p.log.OffsetForTimestamp(rp.Timestamp)
		if err != nil {
			sp.ErrorCode = logErrorCode(err)
			return sp
		}
		if ok && off < p.highWatermark() {
			sp.Offset, sp.Timestamp = off, ts
		}
	}
	return sp
}
