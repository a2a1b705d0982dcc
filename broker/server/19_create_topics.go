package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// CreateTopics, versions 0–7.
//
// v0 has no ValidateOnly, v1 adds it and error messages, v2 the throttle
// time; the rest is the same.
// -1 partitions or replication factor means the broker default (v4+,
// KIP-464). Without explicit assignments the controller places replicas
// rack-aware over the live brokers; a replication factor above the live
// broker count is INVALID_REPLICATION_FACTOR. A broker that is not the
// controller forwards the request to it (KIP-590). v5+
// returns the topic's partition count, replication factor, id (v7) and
// resolved configs. ValidateOnly checks everything and creates nothing.
// A name listed twice gets INVALID_REQUEST for each listing.

func (b *Broker) handleCreateTopics(r *kmsg.CreateTopicsRequest) kmsg.Response {
	return b.viaController(r, func() kmsg.Response { return b.createTopics(r) })
}

func (b *Broker) createTopics(r *kmsg.CreateTopicsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.CreateTopicsResponse)
	seen := map[string]int{}
	for _, rt := range r.Topics {
		seen[rt.Topic]++
	}
	for _, rt := range r.Topics {
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic = rt.Topic
		st.NumPartitions, st.ReplicationFactor = -1, -1
		if seen[rt.Topic] > 1 {
			st.ErrorCode = kerr.InvalidRequest.Code
			st.ErrorMessage = strPtr("topic " + rt.Topic + " appears more than once in the request")
		} else {
			b.createTopicFrom(rt, r.ValidateOnly, &st)
		}
		if st.ErrorCode != 0 {
			b.metrics.Errors.WithLabelValues("CreateTopics", errName(st.ErrorCode)).Inc()
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

func (b *Broker) createTopicFrom(rt kmsg.CreateTopicsRequestTopic, validateOnly bool, st *kmsg.CreateTopicsResponseTopic) {
	spec := createTopicSpec{name: rt.Topic, partitions: rt.NumPartitions, rf: rt.ReplicationFactor, configs: map[string]string{}}
	if len(rt.ReplicaAssignment) > 0 {
		if spec.partitions != -1 || spec.rf != -1 {
			st.ErrorCode, st.ErrorMessage = kerr.InvalidRequest.Code, strPtr("Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.")
			return
		}
		if msg := checkAssignment(rt.ReplicaAssignment); msg != "" {
			st.ErrorCode, st.ErrorMessage = kerr.InvalidReplicaAssignment.Code, strPtr(msg)
			return
		}
		for _, a := range rt.ReplicaAssignment {
			spec.assignment = append(spec.assignment, a.Replicas)
		}
		spec.partitions, spec.rf = int32(len(spec.assignment)), int16(len(spec.assignment[0]))
	}
	if spec.partitions == -1 {
		spec.partitions = b.cfg.NumPartitions
	}
	if spec.rf == -1 {
		spec.rf = b.cfg.DefaultReplicationFactor
	}
	switch {
	case spec.partitions <= 0:
		st.ErrorCode, st.ErrorMessage = kerr.InvalidPartitions.Code, strPtr("Number of partitions must be larger than 0.")
		return
	case spec.rf <= 0:
		st.ErrorCode, st.ErrorMessage = kerr.InvalidReplicationFactor.Code, strPtr("Replication factor must be larger than 0.")
		return
	}
	for _, c := range rt.Configs {
		if c.Value == nil {
			st.ErrorCode, st.ErrorMessage = kerr.InvalidConfig.Code, strPtr("Null value not supported for topic configs: "+c.Name)
			return
		}
		spec.configs[c.Name] = *c.Value
	}
	id, res := b.createTopic(spec, validateOnly)
	if res.code != 0 {
		st.ErrorCode, st.ErrorMessage = res.code, strPtr(res.msg)
		return
	}
	st.TopicID, st.NumPartitions, st.ReplicationFactor = id, spec.partitions, spec.rf
	b.fillCreatedConfigs(spec.configs, st)
}

// checkAssignment checks the shape of explicit replica assignments (the
// controller checks the brokers); it returns Kafka's message for the
// first problem.
func checkAssignment(as []kmsg.CreateTopicsRequestTopicReplicaAssignment) string {
	for i, a := range as {
		if a.Partition != int32(i) {
			return "Partitions should be consecutive and start from 0."
		}
		if len(a.Replicas) != len(as[0].Replicas) {
			return "All partitions should have the same number of replicas."
		}
		seen := map[int32]bool{}
		for _, r := range a.Replicas {
			if seen[r] {
				return "Duplicate replica assignment found: " + itoa(int(r))
			}
			seen[r] = true
		}
	}
	return ""
}

func (b *Broker) fillCreatedConfigs(overrides map[string]string, st *kmsg.CreateTopicsResponseTopic) {
	for _, v := range b.cfg.EffectiveTopicConfig(overrides, b.brokerDynamicConfigs(b.node.Image())) {
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		c.Name, c.Value, c.ReadOnly, c.Source, c.IsSensitive = v.Name, strPtr(v.Value), v.ReadOnly, int8(v.Source), v.Sensitive
		st.Configs = append(st.Configs, c)
	}
}
