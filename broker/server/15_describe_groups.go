package server

import "github.com/twmb/franz-go/pkg/kmsg"

// DescribeGroups, versions 0–5. v3 adds authorized operations, v4 member
// instance ids, v5 is flexible. An unknown group is described as Dead with
// no error, as Kafka does before v6.

func (b *Broker) handleDescribeGroups(r *kmsg.DescribeGroupsRequest) kmsg.Response {
	return b.groups.DescribeGroups(r)
}
