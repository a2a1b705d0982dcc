package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/quorum"
)

// AlterPartition, versions 0–3 (KIP-497), inter-broker only.
//
// A partition leader asks the controller to change the ISR: a follower
// that stopped catching up leaves, one that caught up rejoins. The
// controller checks the leader epoch and partition epoch (a stale request
// gets FENCED_LEADER_EPOCH or INVALID_UPDATE_VERSION) and commits the
// change through the metadata log; the answer carries the partition's new
// state. v2+ names topics by id.

func (b *Broker) handleAlterPartition(r *kmsg.AlterPartitionRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.AlterPartitionResponse)
	if !b.node.IsLeader() {
		resp.ErrorCode = kerr.NotController.Code
		return resp
	}
	for _, rt := range r.Topics {
		st := kmsg.NewAlterPartitionResponseTopic()
		st.Topic, st.TopidID = rt.Topic, rt.TopicID
		name := rt.Topic
		if r.Version >= 2 {
			if t, ok := b.node.Image().TopicByID(rt.TopicID); ok {
				name = t.Name
			}
		}
		for _, rp := range rt.Partitions {
			st.Partitions = append(st.Partitions, b.alterPartition(r, name, rp))
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

func (b *Broker) alterPartition(r *kmsg.AlterPartitionRequest, topic string, rp kmsg.AlterPartitionRequestTopicPartition) kmsg.AlterPartitionResponseTopicPartition {
	sp := kmsg.NewAlterPartitionResponseTopicPartition()
	sp.Partition = rp.Partition
	isr := rp.NewISR
	if r.Version >= 3 {
		isr = isr[:0:0]
		for _, e := range rp.NewEpochISR {
			isr = append(isr, e.BrokerID)
		}
	}
	res, err := b.ctrl.Propose(quorum.AlterPartition{
		BrokerID: r.BrokerID, BrokerEpoch: r.BrokerEpoch, Topic: topic, Partition: rp.Partition,
		LeaderEpoch: rp.LeaderEpoch, PartitionEpoch: rp.PartitionEpoch, ISR: isr,
	})
	if err != nil {
		sp.ErrorCode = errCode(err)
		return sp
	}
	p := res.(quorum.Partition)
	sp.LeaderID, sp.LeaderEpoch, sp.ISR, sp.PartitionEpoch = p.Leader, p.LeaderEpoch, p.ISR, p.PartitionEpoch
	return sp
}
