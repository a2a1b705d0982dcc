package server

import "github.com/twmb/franz-go/pkg/kmsg"

// ListGroups, versions 0–5. v3 is flexible, v4 adds StatesFilter and each
// group's state, v5 TypesFilter and each group's type (KIP-848: "classic"
// for JoinGroup groups, "consumer" for ConsumerGroupHeartbeat ones; the
// filters match case-insensitively, an empty one matches all).

func (b *Broker) handleListGroups(r *kmsg.ListGroupsRequest) kmsg.Response {
	return b.groups.ListGroups(r)
}
