package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SyncGroup, versions 0–5.
//
// The leader sends the assignment, which is stored in __consumer_offsets
// before anyone is answered; followers wait for it. v3 adds
// group.instance.id, v4 is flexible, v5 checks the protocol type and name
// (INCONSISTENT_GROUP_PROTOCOL) and returns them.

func (b *Broker) handleSyncGroup(r *kmsg.SyncGroupRequest) kmsg.Response {
	return await(b, func(reply func(*kmsg.SyncGroupResponse)) {
		b.groups.SyncGroup(r, reply)
	}, func() *kmsg.SyncGroupResponse {
		resp := r.ResponseKind().(*kmsg.SyncGroupResponse)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	})
}
