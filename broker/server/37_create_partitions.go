package server

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CreatePartitions, versions 0–3.
//
// Grows a topic to Count partitions; shrinking or keeping the count is
// INVALID_PARTITIONS. The controller places the new partitions (or checks
// the given assignments: registered brokers, the topic's replication
// factor, no duplicates). ValidateOnly checks and changes nothing.

func (b *Broker) handleCreatePartitions(r *kmsg.CreatePartitionsRequest) kmsg.Response {
	return b.viaController(r, func() kmsg.Response { return b.createPartitions(r) })
}

func (b *Broker) createPartitions(r *kmsg.CreatePartitionsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.CreatePartitionsResponse)
	for _, rt := range r.Topics {
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = rt.Topic
		var assignment [][]int32
		for _, a := range rt.Assignment {
			assignment = append(assignment, a.Replicas)
		}
		if res := b.addPartitions(rt.Topic, rt.Count, assignment, r.ValidateOnly); res.code != 0 {
			st.ErrorCode, st.ErrorMessage = res.code, strPtr(res.msg)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
