package server

import "github.com/twmb/franz-go/pkg/kmsg"

// OffsetFetch, versions 1–9.
//
// v2 adds the group-level error and null topics for "every committed
// offset", v5 leader epochs, v6 is flexible, v7 RequireStable (always
// satisfied: no transactional offsets are ever pending), v8 several groups
// in one request, v9 the member id and epoch of a consumer-protocol member
// (UNKNOWN_MEMBER_ID or STALE_MEMBER_EPOCH when they do not match).
// Unknown groups and partitions answer offset -1.

func (b *Broker) handleOffsetFetch(r *kmsg.OffsetFetchRequest) kmsg.Response {
	return b.groups.OffsetFetch(r)
}
