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
	// Every partition's change goes into one AlterPartitions entry: one
	// raft commit for the request, however many partitions it names.
	var cmd quorum.AlterPartitions
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
			sp := kmsg.NewAlterPartitionResponseTopicPartition()
			sp.Partition = rp.Partition
			st.Partitions = append(st.Partitions, sp)
			cmd.Changes = append(cmd.Changes, alterPartitionChange(r, name, rp))
		}
		resp.Topics = append(resp.Topics, st)
	}
	if len(cmd.Changes) == 0 {
		return resp
	}
	res, err := b.ctrl.Propose(cmd)
	results, _ := res.([]quorum.AlterPartitionResult)
	i := 0
	for ti := range resp.Topics {
		for pi := range resp.Topics[ti].Partitions {
			sp := &resp.Topics[ti].Partitions[pi]
			switch {
			case err != nil:
				sp.ErrorCode = errCode(err)
			case results[i].Err != nil:
				sp.ErrorCode = errCode(results[i].Err)
			default:
				p := results[i].Partition
				sp.LeaderID, sp.LeaderEpoch, sp.ISR, sp.PartitionEpoch = p.Leader, p.LeaderEpoch, p.ISR, p.PartitionEpoch
			}
			i++
		}
	}
	return resp
}

// alterPartitionChange is one partition of the request as the quorum's
// AlterPartition (v3 names the ISR with broker epochs).
func alterPartitionChange(r *kmsg.AlterPartitionRequest, topic string, rp kmsg.AlterPartitionRequestTopicPartition) quorum.AlterPartition {
	isr := rp.NewISR
	if r.Version >= 3 {
		isr = isr[:0:0]
		for _, e := range rp.NewEpochISR {
			isr = append(isr, e.BrokerID)
		}
	}
	return quorum.AlterPartition{
		BrokerID: r.BrokerID, BrokerEpoch: r.BrokerEpoch, Topic: topic, Partition: rp.Partition,
		LeaderEpoch: rp.LeaderEpoch, PartitionEpoch: rp.PartitionEpoch, ISR: isr,
	}
}
