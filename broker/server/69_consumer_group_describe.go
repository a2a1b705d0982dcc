package server

import "github.com/twmb/franz-go/pkg/kmsg"

// ConsumerGroupDescribe, versions 0–1: consumer-protocol groups with their
// state, group and assignment epochs, assignor, and members with their
// subscriptions (topic names, and the SubscribedTopicRegex if any), current
// and target assignments. v1 adds each member's
// type (always 1, a consumer-protocol member). A classic or unknown group
// is GROUP_ID_NOT_FOUND.

func (b *Broker) handleConsumerGroupDescribe(r *kmsg.ConsumerGroupDescribeRequest) kmsg.Response {
	return b.groups.ConsumerGroupDescribe(r)
}
