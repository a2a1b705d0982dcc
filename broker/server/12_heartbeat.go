package server

import "github.com/twmb/franz-go/pkg/kmsg"

// Heartbeat, versions 0–4. v3 adds group.instance.id, v4 is flexible.
// REBALANCE_IN_PROGRESS tells a member to rejoin.

func (b *Broker) handleHeartbeat(r *kmsg.HeartbeatRequest) kmsg.Response {
	return b.groups.Heartbeat(r)
}
