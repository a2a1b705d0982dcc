package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListOffsets, versions 0–9.
//
// v0 is the pre-KIP-79 form (Kafka 3.9's Partition.legacyFetchOffsetsForTimestamp
// and UnifiedLog.legacyFetchOffsetsBefore, log.LegacyOffsetsBefore here):
// each partition asks for up to MaxNumOffsets offsets "before" a timestamp
// and is answered an OldStyleOffsets array, newest first, at segment
// granularity: the base offset of each segment whose .log file was last
// modified at or before the timestamp, and the log end offset (at the
// present) when the last segment holds data. Latest (-1) starts from the
// log end, earliest (-2) answers the log start offset, a timestamp older
// than every segment no offsets. For a consumer (replica id -1) offsets
// past the high watermark are replaced by the high watermark, as Kafka
// does. MaxNumOffsets 0 or less asks for nothing and gets an empty array
// (Kafka fails on a negative one). v0 carries no isolation level, so, as
// in Kafka, it never gets OFFSET_NOT_AVAILABLE.
//
// Timestamp -1 is the latest offset (the high watermark; the last stable
// offset under read_committed, equal without transactions), -2 the log
// start offset, -3 the record with the largest timestamp (v7, KIP-734);
// any other value is the first offset whose timestamp is at or after it,
// or -1 when there is none. v4 adds CurrentLeaderEpoch fencing (KIP-320)
// and returns the leader epoch. Without tiered storage, as Kafka 3.9
// answers with remote storage off, -4 (earliest local, v8) is the log
// start offset and -5 (latest tiered, v9) is offset -1, epoch -1.
//
// As in Kafka (ReplicaManager.fetchOffset, Partition.fetchOffsetForTimestamp):
// only the leader answers (NOT_LEADER_OR_FOLLOWER otherwise; replica id -2,
// the debugging id, may read a follower), and a leader elected so recently
// that its high watermark has not reached the start of its leader epoch
// answers a client's request (v2+, which carries an isolation level) for
// the latest offset, or for a timestamp found at or past the high
// watermark, with the retriable OFFSET_NOT_AVAILABLE (KIP-207): its high
// watermark then still lags the previous leader's and may be below
// acknowledged records, and a consumer reading "to the end" would stop
// short of them.

const (
	listLatest        = -1
	listEarliest      = -2
	listMaxTimestamp  = -3
	listEarliestLocal = -4 // v8, KIP-405
	listLatestTiered  = -5 // v9, KIP-1005

	consumerReplicaID  = -1 // ListOffsetsRequest.CONSUMER_REPLICA_ID
	debuggingReplicaID = -2 // ListOffsetsRequest.DEBUGGING_REPLICA_ID: may read a follower
)

func (b *Broker) handleListOffsets(r *kmsg.ListOffsetsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range r.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			onlyLeader := r.ReplicaID != debuggingReplicaID
			if r.Version == 0 {
				st.Partitions = append(st.Partitions, b.listOffsetV0(rt.Topic, rp, onlyLeader, r.ReplicaID == consumerReplicaID))
				continue
			}
			st.Partitions = append(st.Partitions, b.listOffset(rt.Topic, rp, onlyLeader, r.Version >= 2, r.Version >= 2 && r.IsolationLevel == 1))
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// listOffset answers one partition. onlyLeader is false for the debugging
// replica id; client is true for requests with an isolation level (v2+),
// readCommitted for isolation_level=1: its latest offset is the last
// stable offset, and a timestamp lookup finds nothing at or past it.
func (b *Broker) listOffset(topic string, rp kmsg.ListOffsetsRequestTopicPartition, onlyLeader, client, readCommitted bool) kmsg.ListOffsetsResponseTopicPartition {
	sp := kmsg.NewListOffsetsResponseTopicPartition()
	sp.Partition = rp.Partition
	sp.Timestamp, sp.Offset, sp.LeaderEpoch = -1, -1, -1
	p := b.lookup(topic, rp.Partition)
	if p == nil {
		sp.ErrorCode = b.notHostedCode(topic, rp.Partition)
		return sp
	}
	leader, epoch, hw, hwKnown := p.leaderState()
	if code := epochCode(rp.CurrentLeaderEpoch, epoch); code != 0 {
		sp.ErrorCode = code
		return sp
	}
	if onlyLeader && !leader {
		sp.ErrorCode = kerr.NotLeaderForPartition.Code
		return sp
	}
	notAvailable := client && !hwKnown
	if readCommitted {
		hw = p.log.LastStableOffset(hw)
	}
	sp.LeaderEpoch = epoch
	switch rp.Timestamp {
	case listLatest:
		if notAvailable {
			sp.ErrorCode = kerr.OffsetNotAvailable.Code
			return sp
		}
		sp.Offset = hw
	case listEarliest, listEarliestLocal: // no tiered storage: the local log is the log
		sp.Offset = p.log.LogStartOffset()
	case listLatestTiered: // nothing is tiered: Kafka answers offset and epoch -1
		sp.LeaderEpoch = -1
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
		switch {
		case ok && off < hw:
			sp.Offset, sp.Timestamp = off, ts
		case notAvailable:
			sp.ErrorCode = kerr.OffsetNotAvailable.Code
		}
	}
	return sp
}

// listOffsetV0 answers one partition of a v0 request with old-style
// offsets, newest first.
func (b *Broker) listOffsetV0(topic string, rp kmsg.ListOffsetsRequestTopicPartition, onlyLeader, consumer bool) kmsg.ListOffsetsResponseTopicPartition {
	sp := kmsg.NewListOffsetsResponseTopicPartition()
	sp.Partition, sp.Offset, sp.Timestamp, sp.LeaderEpoch = rp.Partition, -1, -1, -1
	sp.OldStyleOffsets = []int64{}
	check := rp
	check.CurrentLeaderEpoch, check.Timestamp = -1, listEarliest
	if sp.ErrorCode = b.listOffset(topic, check, onlyLeader, false, false).ErrorCode; sp.ErrorCode != 0 {
		return sp
	}
	p := b.lookup(topic, rp.Partition)
	if p == nil { // gone since listOffset looked
		sp.ErrorCode = b.notHostedCode(topic, rp.Partition)
		return sp
	}
	offsets, err := p.log.LegacyOffsetsBefore(rp.Timestamp, int(rp.MaxNumOffsets))
	if err != nil {
		sp.ErrorCode = logErrorCode(err)
		return sp
	}
	if _, _, hw, _ := p.leaderState(); consumer && len(offsets) > 0 && offsets[0] > hw {
		i := 0
		for i < len(offsets) && offsets[i] > hw {
			i++
		}
		offsets = append([]int64{hw}, offsets[i:]...)
	}
	sp.OldStyleOffsets = offsets
	return sp
}
