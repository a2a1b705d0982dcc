package server

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/quorum"
)

// ElectLeaders, versions 0–2 (KIP-183, KIP-460).
//
// Preferred (0) moves leadership to each partition's first replica when it
// is live and in sync; unclean (1) elects any live replica for partitions
// with no live ISR member (accepting data loss, as the operator asked).
// Null partitions means every partition. Each partition has its own
// result: ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE,
// ELIGIBLE_LEADERS_NOT_AVAILABLE or UNKNOWN_TOPIC_OR_PARTITION. Runs on the
// controller; other brokers forward it.

func (b *Broker) handleElectLeaders(r *kmsg.ElectLeadersRequest) kmsg.Response {
	return b.viaController(r, func() kmsg.Response { return b.electLeaders(r) })
}

func (b *Broker) electLeaders(r *kmsg.ElectLeadersRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.ElectLeadersResponse)
	if res, no := b.notController(); no {
		resp.ErrorCode = res.code
		return resp
	}
	img := b.node.Image()
	var tps []quorum.TopicPartition
	if r.Topics == nil {
		for _, name := range img.TopicNames() {
			t, _ := img.Topic(name)
			for i := range t.Partitions {
				tps = append(tps, quorum.TopicPartition{Topic: name, Partition: int32(i)})
			}
		}
	} else {
		for _, rt := range r.Topics {
			for _, p := range rt.Partitions {
				tps = append(tps, quorum.TopicPartition{Topic: rt.Topic, Partition: p})
			}
		}
	}
	typ := quorum.ElectPreferred
	if r.Version >= 1 && r.ElectionType == 1 {
		typ = quorum.ElectUnclean
	}
	raw, err := b.ctrl.Propose(quorum.ElectLeaders{Type: typ, Partitions: tps})
	if err != nil {
		resp.ErrorCode = errCode(err)
		return resp
	}
	byTopic := map[string]int{}
	for _, er := range raw.([]quorum.ElectionResult) {
		if r.Topics == nil && errors.Is(er.Err, kerr.ElectionNotNeeded) {
			continue // "all partitions" reports only those it changed or could not
		}
		i, seen := byTopic[er.Topic]
		if !seen {
			i = len(resp.Topics)
			byTopic[er.Topic] = i
			rt := kmsg.NewElectLeadersResponseTopic()
			rt.Topic = er.Topic
			resp.Topics = append(resp.Topics, rt)
		}
		sp := kmsg.NewElectLeadersResponseTopicPartition()
		sp.Partition = er.Partition
		if er.Err != nil {
			sp.ErrorCode, sp.ErrorMessage = errCode(er.Err), strPtr(er.Err.Error())
		}
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, sp)
	}
	if n := len(tps); n > 0 {
		b.logger.Info("ran leader elections", "type", typ, "partitions", n)
	}
	return resp
}
