package server

import "github.com/twmb/franz-go/pkg/kmsg"

// DeleteGroups, versions 0–2 (v2 flexible). Only an empty group can be
// deleted (else NON_EMPTY_GROUP); its offsets and metadata are tombstoned
// in __consumer_offsets.

func (b *Broker) handleDeleteGroups(r *kmsg.DeleteGroupsRequest) kmsg.Response {
	return b.groups.DeleteGroups(r)
}
