package server

import "github.com/twmb/franz-go/pkg/kmsg"

// OffsetCommit, versions 0–9.
//
// v0 carries neither generation nor member id (kmsg decodes them as -1 and
// ""), so it is a simple consumer's commit, checked as one. v1 adds them
// and a per-partition commit timestamp which, unless -1, is stored as the
// commit time (retention of a simple consumer's offsets counts from it),
// as Kafka 3.9 does; later versions always get the broker's time. Kafka 3.9
// stores v0 commits in __consumer_offsets like every other (ZooKeeper
// storage went with ZooKeeper), and so does this broker.
// v2–v4 carry a retention time, which is ignored (offsets.retention.minutes
// applies, as since KIP-211); v6 adds the leader epoch, v7
// group.instance.id, v8 is flexible, v9 (the same body) is the first a
// consumer-protocol (KIP-848) member may use: its generation field is the
// member epoch, STALE_MEMBER_EPOCH when it is not the member's current
// one (UNSUPPORTED_VERSION for such a member below v9). A commit with
// generation -1 from a simple consumer to an empty or unknown group is
// allowed and creates the group. The answer is sent after the offsets are
// appended to __consumer_offsets.

func (b *Broker) handleOffsetCommit(r *kmsg.OffsetCommitRequest) kmsg.Response {
	return b.groups.OffsetCommit(r)
}
