package server

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/quorum"
)

// Metadata, versions 0–12.
//
// Every broker answers from its copy of the metadata image: the live
// (unfenced) brokers, the active controller, and per partition the
// leader, leader epoch, replicas, ISR and offline replicas. A fenced
// broker is never named leader: the controller moves leadership when it
// fences one. A partition with no live leader has LEADER_NOT_AVAILABLE.
//
// v0: an empty topic list means every topic; v1+: null means every topic
// and empty means none. v4 adds AllowAutoTopicCreation (earlier versions
// always allow it, subject to auto.create.topics.enable); an unknown topic
// is then created through the controller and answered with
// LEADER_NOT_AVAILABLE until it reaches this broker, as Kafka does;
// __consumer_offsets is created as the group coordinator creates it. v7 adds
// leader epochs, v9 is flexible, v10 topic ids, v12 lookup by id only when
// the name is null. Authorized operations are reported as "not requested"
// (INT32_MIN) until ACLs exist.

const authorizedOpsOmitted = -2147483648

func (b *Broker) handleMetadata(r *kmsg.MetadataRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.MetadataResponse)
	img := b.node.Image()
	resp.Brokers = metadataBrokers(img)
	resp.ClusterID = strPtr(b.clusterID())
	resp.ControllerID = -1
	if id, ok := b.node.LeaderID(); ok {
		resp.ControllerID = id
	}
	resp.AuthorizedOperations = authorizedOpsOmitted

	all := r.Topics == nil || (r.Version == 0 && len(r.Topics) == 0)
	if all {
		for _, name := range img.TopicNames() {
			t, _ := img.Topic(name)
			resp.Topics = append(resp.Topics, metadataTopic(img, t))
		}
		return resp
	}
	autoCreate := b.cfg.AutoCreateTopics && (r.Version < 4 || r.AllowAutoTopicCreation)
	for _, rt := range r.Topics {
		resp.Topics = append(resp.Topics, b.metadataFor(img, rt, autoCreate))
	}
	return resp
}

func (b *Broker) metadataFor(img *quorum.Image, rt kmsg.MetadataRequestTopic, autoCreate bool) kmsg.MetadataResponseTopic {
	var t *quorum.Topic
	var found bool
	if rt.Topic == nil {
		t, found = img.TopicByID(rt.TopicID)
	} else {
		t, found = img.Topic(*rt.Topic)
	}
	if found {
		return metadataTopic(img, t)
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
	if err := b.autoCreate(*rt.Topic); err != nil {
		b.logger.Warn("auto-creating topic failed", "topic", *rt.Topic, "err", err)
	}
	if t, found = b.node.Image().Topic(*rt.Topic); found {
		return metadataTopic(b.node.Image(), t)
	}
	st.ErrorCode = kerr.LeaderNotAvailable.Code
	return st
}

// autoCreate asks the controller for a topic a Metadata request named.
// __consumer_offsets gets its own partition count, replication factor and
// configs, as in Kafka (AutoTopicCreationManager): old clients that read
// it (Burrow) name it in Metadata before any group exists, and the group
// coordinator maps groups over offsets.topic.num.partitions.
func (b *Broker) autoCreate(name string) error {
	if name == offsetsTopic {
		return b.ensureOffsetsTopic()
	}
	return b.requestTopic(name, b.cfg.NumPartitions, b.cfg.DefaultReplicationFactor, nil)
}

// metadataBrokers lists the live brokers.
func metadataBrokers(img *quorum.Image) []kmsg.MetadataResponseBroker {
	var out []kmsg.MetadataResponseBroker
	for _, ib := range img.LiveBrokers() {
		br := kmsg.NewMetadataResponseBroker()
		br.NodeID, br.Host, br.Port = ib.ID, ib.Host, ib.Port
		if ib.Rack != "" {
			br.Rack = strPtr(ib.Rack)
		}
		out = append(out, br)
	}
	return out
}

func metadataTopic(img *quorum.Image, t *quorum.Topic) kmsg.MetadataResponseTopic {
	st := kmsg.NewMetadataResponseTopic()
	st.Topic, st.TopicID, st.IsInternal = strPtr(t.Name), t.ID, isInternal(t.Name)
	st.AuthorizedOperations = authorizedOpsOmitted
	for i, ip := range t.Partitions {
		sp := kmsg.NewMetadataResponseTopicPartition()
		sp.Partition, sp.Leader, sp.LeaderEpoch = int32(i), ip.Leader, ip.LeaderEpoch
		sp.Replicas, sp.ISR = slices.Clone(ip.Replicas), slices.Clone(ip.ISR)
		for _, r := range ip.Replicas {
			if !img.IsLive(r) {
				sp.OfflineReplicas = append(sp.OfflineReplicas, r)
			}
		}
		if ip.Leader < 0 || !img.IsLive(ip.Leader) {
			sp.Leader, sp.ErrorCode = -1, kerr.LeaderNotAvailable.Code
		}
		st.Partitions = append(st.Partitions, sp)
	}
	return st
}
