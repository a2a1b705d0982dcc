package server

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Leader hints (KIP-951): when a broker answers NOT_LEADER_OR_FOLLOWER (or
// FENCED_LEADER_EPOCH) it tells the client who leads now and, in the
// response's node endpoints, how to reach it, so the client retries there
// without a Metadata round trip. Produce carries them from v10, Fetch the
// current leader from v12 and the endpoints from v16.

// currentLeader returns a partition's leader and epoch from metadata.
func (b *Broker) currentLeader(topic string, partition int32) (int32, int32, bool) {
	ip, ok := b.node.Image().Partition(topic, partition)
	if !ok || ip.Leader < 0 {
		return -1, -1, false
	}
	return ip.Leader, ip.LeaderEpoch, true
}

// hintProduce fills the leader hints of a produce response's failed
// partitions.
func (b *Broker) hintProduce(resp *kmsg.ProduceResponse) {
	if resp.Version < 10 {
		return
	}
	var ids []int32
	for ti := range resp.Topics {
		t := &resp.Topics[ti]
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			if !needsHint(p.ErrorCode) {
				continue
			}
			if id, epoch, ok := b.currentLeader(t.Topic, p.Partition); ok {
				p.CurrentLeader.LeaderID, p.CurrentLeader.LeaderEpoch = id, epoch
				ids = append(ids, id)
			}
		}
	}
	for _, id := range uniq(ids) {
		if br, ok := b.node.Image().Broker(id); ok {
			e := kmsg.NewProduceResponseBroker()
			e.NodeID, e.Host, e.Port = br.ID, br.Host, br.Port
			if br.Rack != "" {
				e.Rack = strPtr(br.Rack)
			}
			resp.Brokers = append(resp.Brokers, e)
		}
	}
}

// hintFetch fills the leader hints of a fetch response's failed partitions.
func (b *Broker) hintFetch(resp *kmsg.FetchResponse) {
	if resp.Version < 12 {
		return
	}
	img := b.node.Image()
	var ids []int32
	for ti := range resp.Topics {
		t := &resp.Topics[ti]
		name := t.Topic
		if resp.Version >= 13 {
			if it, ok := img.TopicByID(t.TopicID); ok {
				name = it.Name
			}
		}
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			if !needsHint(p.ErrorCode) {
				continue
			}
			if id, epoch, ok := b.currentLeader(name, p.Partition); ok {
				p.CurrentLeader.LeaderID, p.CurrentLeader.LeaderEpoch = id, epoch
				ids = append(ids, id)
			}
		}
	}
	if resp.Version < 16 {
		return
	}
	for _, id := range uniq(ids) {
		if br, ok := img.Broker(id); ok {
			e := kmsg.NewFetchResponseBroker()
			e.NodeID, e.Host, e.Port = br.ID, br.Host, br.Port
			if br.Rack != "" {
				e.Rack = strPtr(br.Rack)
			}
			resp.Brokers = append(resp.Brokers, e)
		}
	}
}

func needsHint(code int16) bool {
	return code == kerr.NotLeaderForPartition.Code || code == kerr.FencedLeaderEpoch.Code
}

func uniq(ids []int32) []int32 {
	slices.Sort(ids)
	return slices.Compact(ids)
}
