package server

import "github.com/twmb/franz-go/pkg/kmsg"

// OffsetFetch, versions 0–9.
//
// v0 and v1 are the same body and read the same offsets (v0 read
// ZooKeeper's in Kafka before 3.x; KRaft Kafka answers both from
// __consumer_offsets). They have no group-level error: a group error (not
// the coordinator, loading) goes on every partition instead, and null
// topics ("all") is not allowed before v2.
// v2 adds the group-level error and null topics for "every committed
// offset", v5 leader epochs, v6 is flexible, v7 RequireStable (always
// satisfied: no transactional offsets are ever pending), v8 several groups
// in one request, v9 the member id and epoch of a consumer-protocol member
// (UNKNOWN_MEMBER_ID or STALE_MEMBER_EPOCH when they do not match).
// Unknown groups and partitions answer offset -1.

func (b *Broker) handleOffsetFetch(r *kmsg.OffsetFetchRequest) kmsg.Response {
	return b.groups.OffsetFetch(r)
}
