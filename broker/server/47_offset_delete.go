package server

import "github.com/twmb/franz-go/pkg/kmsg"

// OffsetDelete, version 0 (KIP-496). An empty group's offsets are deleted;
// a live consumer group's only for topics none of its members subscribe
// to (else GROUP_SUBSCRIBED_TO_TOPIC per partition).

func (b *Broker) handleOffsetDelete(r *kmsg.OffsetDeleteRequest) kmsg.Response {
	return b.groups.OffsetDelete(r)
}
