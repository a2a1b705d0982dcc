package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/quorum"
)

// DeleteTopics, versions 0–6.
//
// v0 lacks only the throttle time.
// v6 names topics by name or id (KIP-516). The controller removes the
// topic from the metadata log; every broker hosting a replica then deletes
// its log (reconcile.go), waking parked fetches, which get
// UNKNOWN_TOPIC_OR_PARTITION. Other brokers forward to the controller.
// delete.topic.enable=false answers TOPIC_DELETION_DISABLED.

func (b *Broker) handleDeleteTopics(r *kmsg.DeleteTopicsRequest) kmsg.Response {
	return b.viaController(r, func() kmsg.Response { return b.deleteTopics(r) })
}

func (b *Broker) deleteTopics(r *kmsg.DeleteTopicsRequest) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.DeleteTopicsResponse)
	img := b.node.Image()
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
		var t *quorum.Topic
		if tg.name != nil {
			t, _ = img.Topic(*tg.name)
		} else {
			t, _ = img.TopicByID(tg.id)
		}
		switch {
		case !b.cfg.DeleteTopicEnable:
			st.ErrorCode = kerr.TopicDeletionDisabled.Code
		case t == nil && tg.name == nil:
			st.ErrorCode = kerr.UnknownTopicID.Code
		case t == nil:
			st.ErrorCode = kerr.UnknownTopicOrPartition.Code
		default:
			st.Topic, st.TopicID = strPtr(t.Name), t.ID
			if res := b.deleteTopic(t.Name); res.code != 0 {
				st.ErrorCode, st.ErrorMessage = res.code, strPtr(res.msg)
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}
