package server

import "github.com/twmb/franz-go/pkg/kmsg"

// LeaveGroup, versions 0–5. v0–v2 name one member; v3+ a batch of members
// by member id or group.instance.id, each with its own error; v4 is
// flexible, v5 adds a reason (logged nowhere yet).

func (b *Broker) handleLeaveGroup(r *kmsg.LeaveGroupRequest) kmsg.Response {
	return b.groups.LeaveGroup(r)
}
