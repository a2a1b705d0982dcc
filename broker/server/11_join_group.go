package server

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/group"
)

// JoinGroup, versions 0–9 (as Kafka 3.7).
//
// v1 adds the rebalance timeout (v0 uses the session timeout), v4+ gets
// MEMBER_ID_REQUIRED on a first join without a member id (KIP-394), v5
// group.instance.id (KIP-345 static membership), v6 is flexible, v7
// returns the protocol type and name, v8 a reason, v9 SkipAssignment
// (always false: the leader assigns). The state machine is broker/group;
// this connection waits for the answer, which comes when the rebalance's
// join phase completes.

func (b *Broker) handleJoinGroup(r *kmsg.JoinGroupRequest, clientID string) kmsg.Response {
	cl := group.Client{ID: clientID}
	return await(b, func(reply func(*kmsg.JoinGroupResponse)) {
		b.groups.JoinGroup(r, cl, reply)
	}, func() *kmsg.JoinGroupResponse {
		resp := r.ResponseKind().(*kmsg.JoinGroupResponse)
		resp.ErrorCode, resp.Generation, resp.MemberID = kerr.CoordinatorNotAvailable.Code, -1, r.MemberID
		return resp
	})
}
