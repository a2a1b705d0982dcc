package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Metadata, versions 0–12.
//
// v0: an empty topic list means every topic; v1+: null means every topic
// and empty means none. v4 adds AllowAutoTopicCreation (earlier versions
// always allow it, subject to auto.create.topics.enable). v7 adds leader
// epochs, v9 is flexible, v10 topic ids, v12 lookup by id only when the
// name is null. An auto-created topic is returned ready, with no error.
// Authorized operations are reported as "not requested" (INT32_MIN) until
// ACLs exist.

const authorizedOpsOmitted = -2147483648

func (b *Broker) handleMetadata(r *kmsg.MetadataRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.MetadataResponse)
	resp.Brokers = b.metadataBrokers()
	resp.ClusterID = strPtr(b.meta.ClusterID())
	resp.ControllerID = b.cfg.NodeID
	resp.AuthorizedOperations = authorizedOpsOmitted

	all := r.Topics == nil || (r.Version == 0 && len(r.Topics) == 0)
	if all {
		for _, t := range b.sortedTopics() {
			resp.Topics = append(resp.Topics, b.metadataTopic(t))
		}
		return resp
	}
	autoCreate := b.cfg.AutoCreateTopics && (r.Version < 4 || r.AllowAutoTopicCreation)
	for _, rt := range r.Topics {
		resp.Topics = append(resp.Topics, b.metadataFor(rt, autoCreate))
	}
	return resp
}

func (b *Broker) metadataFor(rt kmsg.MetadataRequestTopic, autoCreate bool) kmsg.MetadataResponseTopic {
	var t *topic
	if rt.Topic == nil {
		t = b.topicByID(rt.TopicID)
	} else {
		t = b.topic(*rt.Topic)
	}
	if t != nil {
		return b.metadataTopic(t)
	}
	st := kmsg.NewMetadataResponseTopic()
	st.Topic, st.TopicID = rt.Topic, rt.TopicID
	st.AuthorizedOperations = authorizedOpsOmitted
	st.ErrorCode = kerr.UnknownTopicOrPartition.Code
	if rt.Topic == nil {
		st.ErrorCode = kerr.UnknownTopicID.Code
		return st
	}
	if err := validTopicName(*rt.Topic); err != nil {
		st.ErrorCode = kerr.InvalidTopicException.Code
		return st
	}
	if !autoCreate {
		return st
	}
	t, err := b.createTopic(*rt.Topic, b.cfg.NumPartitions, nil)
	if err != nil {
		if t = b.topic(*rt.Topic); t != nil { // created concurrently
			return b.metadataTopic(t)
		}
		b.logger.Error("auto-creating topic failed", "topic", *rt.Topic, "err", err)
		st.ErrorCode = kerr.LeaderNotAvailable.Code
		return st
	}
	return b.metadataTopic(t)
}

func (b *Broker) metadataBrokers() []kmsg.MetadataResponseBroker {
	adv := b.advertised()
	br := kmsg.NewMetadataResponseBroker()
	br.NodeID, br.Host, br.Port = b.cfg.NodeID, adv.Host, int32(adv.Port)
	if b.cfg.BrokerRack != "" {
		br.Rack = strPtr(b.cfg.BrokerRack)
	}
	return []kmsg.MetadataResponseBroker{br}
}

func (b *Broker) metadataTopic(t *topic) kmsg.MetadataResponseTopic {
	st := kmsg.NewMetadataResponseTopic()
	st.Topic, st.TopicID, st.IsInternal = strPtr(t.name), t.id, t.internal
	st.AuthorizedOperations = authorizedOpsOmitted
	node := b.cfg.NodeID
	for _, p := range t.partitions {
		sp := kmsg.NewMetadataResponseTopicPartition()
		sp.Partition, sp.Leader, sp.LeaderEpoch = p.index, node, p.leaderEpoch()
		sp.Replicas, sp.ISR = []int32{node}, []int32{node}
		st.Partitions = append(st.Partitions, sp)
	}
	return st
}
