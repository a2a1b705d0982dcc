package server

import "github.com/twmb/franz-go/pkg/kmsg"

// OffsetCommit, versions 2–8.
//
// v2–v4 carry a retention time, which is ignored (offsets.retention.minutes
// applies, as since KIP-211); v6 adds the leader epoch, v7
// group.instance.id, v8 is flexible. A commit with generation -1 from a
// simple consumer to an empty or unknown group is allowed and creates the
// group. The answer is sent after the offsets are appended to
// __consumer_offsets.

func (b *Broker) handleOffsetCommit(r *kmsg.OffsetCommitRequest) kmsg.Response {
	return b.groups.OffsetCommit(r)
}
