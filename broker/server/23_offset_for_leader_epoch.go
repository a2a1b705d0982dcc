package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetForLeaderEpoch, versions 2–4 (KIP-101, KIP-279, KIP-320).
//
// Consumers use it after a leader change to detect truncation. A single
// broker has led every partition since epoch 0, so the end offset of any
// epoch up to the current one is the log end offset; a newer epoch is
// answered with UNKNOWN_LEADER_EPOCH via CurrentLeaderEpoch, or the
// undefined (-1, -1) answer. The replicated broker answers from its
// leader-epoch checkpoint.

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
			case rp.LeaderEpoch <= p.leaderEpoch():
				sp.LeaderEpoch, sp.EndOffset = p.leaderEpoch(), p.log.LogEndOffset()
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
