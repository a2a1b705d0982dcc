package server

import "github.com/twmb/franz-go/pkg/kmsg"

// ListGroups, versions 0–4. v3 is flexible, v4 adds StatesFilter and each
// group's state.

func (b *Broker) handleListGroups(r *kmsg.ListGroupsRequest) kmsg.Response {
	return b.groups.ListGroups(r)
}
