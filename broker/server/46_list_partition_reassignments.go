package server

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListPartitionReassignments, version 0 (KIP-455).
//
// Lists the reassignments in flight (null topics: all of them), each with
// the current replica set and the replicas being added and removed,
// answered from the controller's metadata image: other brokers forward it,
// as Kafka's brokers do (KIP-590). A broker's own image learns of a commit
// at its next raft round, so one that had just forwarded an
// AlterPartitionReassignments answered from it listed nothing in progress
// (a move that had not started looked finished) or a cancelled move as
// still running, in 10 to 19 of 20 answers (e2e
// TestReassignmentListedWhereRequested). With no controller to reach, the
// broker answers from its own image.

func (b *Broker) handleListPartitionReassignments(r *kmsg.ListPartitionReassignmentsRequest) kmsg.Response {
	return b.viaController(r, func() kmsg.Response { return b.listPartitionReassignments(r) })
}

func (b *Broker) listPartitionReassignments(r *kmsg.ListPartitionReassignmentsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.ListPartitionReassignmentsResponse)
	img := b.node.Image()
	want := func(string, int32) bool { return true }
	if r.Topics != nil {
		set := map[string][]int32{}
		for _, t := range r.Topics {
			set[t.Topic] = t.Partitions
		}
		want = func(topic string, p int32) bool { return slices.Contains(set[topic], p) }
	}
	for _, name := range img.TopicNames() {
		t, _ := img.Topic(name)
		st := kmsg.NewListPartitionReassignmentsResponseTopic()
		st.Topic = name
		for i, p := range t.Partitions {
			if !p.Reassigning() || !want(name, int32(i)) {
				continue
			}
			sp := kmsg.NewListPartitionReassignmentsResponseTopicPartition()
			sp.Partition = int32(i)
			sp.Replicas = slices.Clone(p.Replicas)
			sp.AddingReplicas, sp.RemovingReplicas = slices.Clone(p.AddingReplicas), slices.Clone(p.RemovingReplicas)
			st.Partitions = append(st.Partitions, sp)
		}
		if len(st.Partitions) > 0 {
			resp.Topics = append(resp.Topics, st)
		}
	}
	return resp
}
