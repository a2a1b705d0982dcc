package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteTopics, versions 1–6.
//
// v6 names topics by name or id (KIP-516). Deleting removes the topic from
// the metadata store first, so a crash mid-delete leaves at worst a stray
// directory (logged at start), never a topic without its data. Parked
// fetches on the topic are woken and get UNKNOWN_TOPIC_OR_PARTITION.
// delete.topic.enable=false answers TOPIC_DELETION_DISABLED.

func (b *Broker) handleDeleteTopics(r *kmsg.DeleteTopicsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.DeleteTopicsResponse)
	names := r.TopicNames
	type target struct {
		name *string
		id   [16]byte
	}
	var targets []target
	if r.Version >= 6 {
		for _, t := range r.Topics {
			targets = append(targets, target{t.Topic, t.TopicID})
		}
	} else {
		for i := range names {
			targets = append(targets, target{name: &names[i]})
		}
	}
	for _, tg := range targets {
		st := kmsg.NewDeleteTopicsResponseTopic()
		st.Topic, st.TopicID = tg.name, tg.id
		var t *topic
		if tg.name != nil {
			t = b.topic(*tg.name)
		} else {
			t = b.topicByID(tg.id)
		}
		switch {
		case !b.cfg.DeleteTopicEnable:
			st.ErrorCode = kerr.TopicDeletionDisabled.Code
		case t == nil && tg.name == nil:
			st.ErrorCode = kerr.UnknownTopicID.Code
		case t == nil:
			st.ErrorCode = kerr.UnknownTopicOrPartition.Code
		default:
			st.Topic, st.TopicID = strPtr(t.name), t.id
			if err := b.deleteTopic(t.name); err != nil {
				b.logger.Error("deleting topic failed", "topic", t.name, "err", err)
				st.ErrorCode = logErrorCode(err)
				st.ErrorMessage = strPtr(err.Error())
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
