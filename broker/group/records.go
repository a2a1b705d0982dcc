package group

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/internaltopic"
)

// The __consumer_offsets record formats, Kafka's own (kmsg carries them):
//
//	key   int16 version 0|1, OffsetCommitKey{group, topic, partition}
//	value int16 version 3,   OffsetCommitValue{offset, leaderEpoch, metadata, commitTimestamp}
//	key   int16 version 2,   GroupMetadataKey{group}
//	value int16 version 3,   GroupMetadataValue{protocolType, generation, protocol, leader,
//	                         currentStateTimestamp, members[]}
//
// A null value is a tombstone: the key is deleted. Keys of other versions
// (the KIP-848 coordinator's records) are skipped when loading.

const (
	offsetKeyVersion   = 1
	offsetValueVersion = 3
	groupKeyVersion    = 2
	groupValueVersion  = 3
)

// record is one key/value for __consumer_offsets; topic and partition are
// set for offset records.
type record struct {
	key, value []byte
	topic      string
	partition  int32
}

// KV implements internaltopic.KeyValue.
func (r record) KV() (key, value []byte) { return r.key, r.value }

func offsetRecord(group, topic string, p int32, o *offset) record {
	k := kmsg.NewOffsetCommitKey()
	k.Version, k.Group, k.Topic, k.Partition = offsetKeyVersion, group, topic, p
	rec := record{key: k.AppendTo(nil), topic: topic, partition: p}
	if o != nil {
		v := kmsg.NewOffsetCommitValue()
		v.Version, v.Offset, v.LeaderEpoch, v.Metadata = offsetValueVersion, o.offset, o.leaderEpoch, o.metadata
		v.CommitTimestamp = o.committed.UnixMilli()
		rec.value = v.AppendTo(nil)
	}
	return rec
}

func groupRecord(group string, v *kmsg.GroupMetadataValue) record {
	k := kmsg.NewGroupMetadataKey()
	k.Version, k.Group = groupKeyVersion, group
	rec := record{key: k.AppendTo(nil)}
	if v != nil {
		rec.value = v.AppendTo(nil)
	}
	return rec
}

// metadataValue is the group's GroupMetadataValue as Kafka stores it.
func (g *Group) metadataValue() *kmsg.GroupMetadataValue {
	v := kmsg.NewGroupMetadataValue()
	v.Version, v.ProtocolType, v.Generation = groupValueVersion, g.protocolType, g.generation
	if g.protocol != "" {
		v.Protocol = strPtr(g.protocol)
	}
	if g.leader != "" {
		v.Leader = strPtr(g.leader)
	}
	v.CurrentStateTimestamp = -1
	if !g.stateSince.IsZero() {
		v.CurrentStateTimestamp = g.stateSince.UnixMilli()
	}
	for _, m := range g.sortedMembers() {
		vm := kmsg.NewGroupMetadataValueMember()
		vm.MemberID, vm.InstanceID, vm.ClientID, vm.ClientHost = m.id, m.instanceID, m.clientID, m.clientHost
		vm.RebalanceTimeoutMillis = int32(m.rebalanceTimeout.Milliseconds())
		vm.SessionTimeoutMillis = int32(m.sessionTimeout.Milliseconds())
		vm.Subscription, vm.Assignment = m.metadataFor(g.protocol), m.assignment
		v.Members = append(v.Members, vm)
	}
	return &v
}

// storeGroup appends the group's metadata record.
func (g *Group) storeGroup() error {
	return g.append([]record{groupRecord(g.id, g.metadataValue())})
}

// append writes recs as one batch to the group's partition.
func (g *Group) append(recs []record) error {
	if err := g.c.store.Append(g.partition, internaltopic.EncodeBatch(recs, g.now())); err != nil {
		return fmt.Errorf("append to __consumer_offsets-%d: %w", g.partition, err)
	}
	return nil
}

// storeErrorCode maps a failed append to what the client is told: a Kafka
// error the storage chose, else COORDINATOR_NOT_AVAILABLE (retriable).
var storeErrorCode = internaltopic.ErrorCode
