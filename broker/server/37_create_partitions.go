package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CreatePartitions, versions 0–3.
//
// Grows a topic to Count partitions; shrinking or keeping the count is
// INVALID_PARTITIONS. Explicit assignments for the new partitions must name
// only this broker. ValidateOnly checks and changes nothing.

func (b *Broker) handleCreatePartitions(r *kmsg.CreatePartitionsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.CreatePartitionsResponse)
	for _, rt := range r.Topics {
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = rt.Topic
		code, msg := b.createPartitions(rt, r.ValidateOnly)
		if code != 0 {
			st.ErrorCode, st.ErrorMessage = code, strPtr(msg)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

func (b *Broker) createPartitions(rt kmsg.CreatePartitionsRequestTopic, validateOnly bool) (int16, string) {
	t := b.topic(rt.Topic)
	if t == nil {
		return kerr.UnknownTopicOrPartition.Code, "The topic '" + rt.Topic + "' does not exist."
	}
	have := int32(len(t.partitions))
	if rt.Count <= have {
		return kerr.InvalidPartitions.Code, "Topic currently has " + itoa(int(have)) + " partitions, " + itoa(int(rt.Count)) + " would not be an increase."
	}
	if rt.Assignment != nil {
		if int32(len(rt.Assignment)) != rt.Count-have {
			return kerr.InvalidReplicaAssignment.Code, "Increasing the number of partitions by " + itoa(int(rt.Count-have)) + " but " + itoa(len(rt.Assignment)) + " assignments provided."
		}
		for _, a := range rt.Assignment {
			if len(a.Replicas) != 1 || a.Replicas[0] != b.cfg.NodeID {
				return kerr.InvalidReplicaAssignment.Code, "Replica assignments must name only the live broker " + itoa(int(b.cfg.NodeID)) + "."
			}
		}
	}
	if validateOnly {
		return 0, ""
	}
	if err := b.addPartitions(rt.Topic, rt.Count); err != nil {
		b.logger.Error("adding partitions failed", "topic", rt.Topic, "err", err)
		return logErrorCode(err), err.Error()
	}
	b.logger.Info("added partitions", "topic", rt.Topic, "from", have, "to", rt.Count)
	return 0, ""
}
