package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/quorum"
)

// AlterPartitionReassignments, version 0 (KIP-455).
//
// Moves a partition to a new replica set the way Kafka does: the target
// replicas are added to the current ones, the new replicas catch up as
// followers (subject to the replication throttles), and once every target
// replica is in the ISR the controller makes the target the replica set,
// moving leadership if the leader is being removed; the removed replicas
// then delete their logs. Null replicas cancel a running reassignment.
// A target naming an unknown or fenced broker, a broker twice, or a
// replica count different from the partition's gets
// INVALID_REPLICA_ASSIGNMENT and changes nothing. Runs on the controller;
// other brokers forward it.

func (b *Broker) handleAlterPartitionAssignments(r *kmsg.AlterPartitionAssignmentsRequest) kmsg.Response {
	return b.viaController(r, func() kmsg.Response { return b.alterPartitionAssignments(r) })
}

func (b *Broker) alterPartitionAssignments(r *kmsg.AlterPartitionAssignmentsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.AlterPartitionAssignmentsResponse)
	if res, no := b.notController(); no {
		resp.ErrorCode, resp.ErrorMessage = res.code, strPtr(res.msg)
		return resp
	}
	for _, rt := range r.Topics {
		st := kmsg.NewAlterPartitionAssignmentsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewAlterPartitionAssignmentsResponseTopicPartition()
			sp.Partition = rp.Partition
			if res := b.reassign(rt.Topic, rp.Partition, rp.Replicas); res.code != 0 {
				sp.ErrorCode, sp.ErrorMessage = res.code, strPtr(res.msg)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

func (b *Broker) reassign(topic string, partition int32, target []int32) adminResult {
	img := b.node.Image()
	p, found := img.Partition(topic, partition)
	if !found {
		return fail(kerr.UnknownTopicOrPartition, "partition "+topic+"-"+itoa(int(partition))+" does not exist")
	}
	if target == nil {
		if !p.Reassigning() {
			return fail(kerr.NoReassignmentInProgress, "no reassignment of "+topic+"-"+itoa(int(partition))+" is in progress")
		}
	} else if err := quorum.ValidateReplicas(img, target, len(p.TargetReplicas()), true); err != nil {
		return fromErr(err)
	}
	if _, err := b.ctrl.Propose(quorum.Reassign{Topic: topic, Partition: partition, Replicas: target}); err != nil {
		return fromErr(err)
	}
	if target == nil {
		b.logger.Info("cancelled reassignment", "topic", topic, "partition", partition)
	} else {
		b.logger.Info("started reassignment", "topic", topic, "partition", partition, "from", p.Replicas, "to", target)
	}
	return ok()
}
