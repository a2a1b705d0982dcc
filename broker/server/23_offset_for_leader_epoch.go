package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetForLeaderEpoch, versions 0–4 (KIP-101, KIP-279, KIP-320).
//
// v0 answers only the end offset (the epoch comes with v1), v2 adds
// CurrentLeaderEpoch fencing (-1, no check, before it), v3 the replica id.
//
// Followers of a new leader ask it where their latest epoch ended and
// truncate there; consumers use it after a leader change to detect
// truncation. The answer comes from the leader's epoch cache
// (leader-epoch-checkpoint): the largest epoch at or below the requested
// one and the offset where the next began, or the log end offset for the
// current epoch; (-1, -1) for an epoch newer than any known. Only the
// leader answers (NOT_LEADER_OR_FOLLOWER otherwise).

func (b *Broker) handleOffsetForLeaderEpoch(r *kmsg.OffsetForLeaderEpochRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	for _, rt := range r.Topics {
		st := kmsg.NewOffsetForLeaderEpochResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			sp.Partition, sp.LeaderEpoch, sp.EndOffset = rp.Partition, -1, -1
			p := b.lookup(rt.Topic, rp.Partition)
			switch {
			case p == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case epochCode(rp.CurrentLeaderEpoch, p.leaderEpoch()) != 0:
				sp.ErrorCode = epochCode(rp.CurrentLeaderEpoch, p.leaderEpoch())
			case !p.isLeader():
				sp.ErrorCode = kerr.NotLeaderForPartition.Code
			default:
				sp.LeaderEpoch, sp.EndOffset = p.log.EndOffsetForEpoch(rp.LeaderEpoch)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
