package server

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/config"
	"github.com/weirhq/weir/broker/metadata"
)

// CreateTopics, versions 2–7.
//
// -1 partitions or replication factor means the broker default (v4+,
// KIP-464). Explicit replica assignments must name only this broker. v5+
// returns the topic's partition count, replication factor, id (v7) and
// resolved configs. ValidateOnly checks everything and creates nothing.
// A name listed twice gets INVALID_REQUEST for each listing.

func (b *Broker) handleCreateTopics(r *kmsg.CreateTopicsRequest) kmsg.Response {
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
	fail := func(e *kerr.Error, msg string) {
		st.ErrorCode, st.ErrorMessage = e.Code, strPtr(msg)
	}
	if err := validTopicName(rt.Topic); err != nil {
		fail(kerr.InvalidTopicException, err.Error())
		return
	}
	if b.topic(rt.Topic) != nil {
		fail(kerr.TopicAlreadyExists, "Topic '"+rt.Topic+"' already exists.")
		return
	}
	partitions, rf := rt.NumPartitions, rt.ReplicationFactor
	if len(rt.ReplicaAssignment) > 0 {
		if partitions != -1 || rf != -1 {
			fail(kerr.InvalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.")
			return
		}
		if msg := b.checkAssignment(rt.ReplicaAssignment); msg != "" {
			fail(kerr.InvalidReplicaAssignment, msg)
			return
		}
		partitions, rf = int32(len(rt.ReplicaAssignment)), int16(len(rt.ReplicaAssignment[0].Replicas))
	}
	if partitions == -1 {
		partitions = b.cfg.NumPartitions
	}
	if rf == -1 {
		rf = b.cfg.DefaultReplicationFactor
	}
	if partitions <= 0 {
		fail(kerr.InvalidPartitions, "Number of partitions must be larger than 0.")
		return
	}
	if rf <= 0 {
		fail(kerr.InvalidReplicationFactor, "Replication factor must be larger than 0.")
		return
	}
	if rf > 1 {
		fail(kerr.InvalidReplicationFactor, "Unable to replicate the partition "+itoa(int(rf))+" time(s): The target replication factor of "+itoa(int(rf))+" cannot be reached because only 1 broker(s) are registered.")
		return
	}
	configs := map[string]string{}
	for _, c := range rt.Configs {
		if c.Value == nil {
			fail(kerr.InvalidConfig, "Null value not supported for topic configs: "+c.Name)
			return
		}
		if err := config.ValidateTopicConfig(c.Name, *c.Value); err != nil {
			fail(kerr.InvalidConfig, err.Error())
			return
		}
		configs[c.Name] = *c.Value
	}
	if _, err := b.cfg.TopicSettings(configs, b.meta.BrokerConfigs()); err != nil {
		fail(kerr.InvalidConfig, err.Error())
		return
	}
	st.NumPartitions, st.ReplicationFactor = partitions, rf
	b.fillCreatedConfigs(configs, st)
	if validateOnly {
		return
	}
	t, err := b.createTopic(rt.Topic, partitions, configs)
	if err != nil {
		st.NumPartitions, st.ReplicationFactor, st.Configs = -1, -1, nil
		if errors.Is(err, metadata.ErrTopicExists) {
			fail(kerr.TopicAlreadyExists, "Topic '"+rt.Topic+"' already exists.")
			return
		}
		b.logger.Error("creating topic failed", "topic", rt.Topic, "err", err)
		fail(kerr.KafkaStorageError, err.Error())
		return
	}
	st.TopicID = t.id
}

// checkAssignment validates explicit replica assignments against the one
// live broker; it returns Kafka's message for the first problem.
func (b *Broker) checkAssignment(as []kmsg.CreateTopicsRequestTopicReplicaAssignment) string {
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
			if r != b.cfg.NodeID {
				return "Unknown broker " + itoa(int(r)) + " in replica assignment"
			}
		}
	}
	return ""
}

func (b *Broker) fillCreatedConfigs(overrides map[string]string, st *kmsg.CreateTopicsResponseTopic) {
	for _, v := range b.cfg.EffectiveTopicConfig(overrides, b.meta.BrokerConfigs()) {
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		c.Name, c.Value, c.ReadOnly, c.Source, c.IsSensitive = v.Name, strPtr(v.Value), v.ReadOnly, int8(v.Source), v.Sensitive
		st.Configs = append(st.Configs, c)
	}
}
