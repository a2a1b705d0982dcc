package group

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
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
	if err := g.c.store.Append(g.partition, encodeBatch(recs, g.now())); err != nil {
		return fmt.Errorf("append to __consumer_offsets-%d: %w", g.partition, err)
	}
	return nil
}

// storeErrorCode maps a failed append to what the client is told: a Kafka
// error the storage chose, else COORDINATOR_NOT_AVAILABLE (retriable).
func storeErrorCode(err error) *kerr.Error {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke
	}
	return kerr.CoordinatorNotAvailable
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeBatch builds one uncompressed magic-2 record batch (base offset 0,
// no producer) holding recs.
func encodeBatch(recs []record, now time.Time) []byte {
	ms := now.UnixMilli()
	var body []byte
	for i, r := range recs {
		rec := kmsg.Record{OffsetDelta: int32(i), Key: r.key, Value: r.value}
		enc := rec.AppendTo(nil)
		rec.Length = int32(len(enc) - 1) // AppendTo wrote a one-byte length of 0
		body = rec.AppendTo(body)
	}
	b := kmsg.RecordBatch{
		PartitionLeaderEpoch: -1, Magic: 2, LastOffsetDelta: int32(len(recs) - 1),
		FirstTimestamp: ms, MaxTimestamp: ms, ProducerID: -1, ProducerEpoch: -1,
		FirstSequence: -1, NumRecords: int32(len(recs)), Records: body,
	}
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], castagnoli))
	return out
}

var decompressor = kgo.DefaultDecompressor()

// decodeBatches calls fn for every record of the whole batches in b and
// returns the offset after the last batch. A batch or record that cannot
// be read is reported through bad and skipped.
func decodeBatches(b []byte, fn func(offset int64, key, value []byte), bad func(offset int64, err error)) int64 {
	return decodeBatchesTxn(b, nil, fn, bad)
}

// decodeBatchesTxn is decodeBatches that first shows each batch to
// onBatch (when set), which says whether its records are wanted; control
// batches go to onBatch too.
func decodeBatchesTxn(b []byte, onBatch func(*kmsg.RecordBatch) bool, fn func(offset int64, key, value []byte), bad func(offset int64, err error)) int64 {
	next := int64(-1)
	for len(b) >= 12 {
		size := 12 + int(int32(binary.BigEndian.Uint32(b[8:])))
		if size < 61 || size > len(b) {
			bad(int64(binary.BigEndian.Uint64(b)), errors.New("truncated batch"))
			break
		}
		var batch kmsg.RecordBatch
		if err := batch.ReadFrom(b[:size]); err != nil {
			bad(int64(binary.BigEndian.Uint64(b)), err)
		} else {
			next = batch.FirstOffset + int64(batch.LastOffsetDelta) + 1
			if onBatch != nil && !onBatch(&batch) {
				// the caller took the batch whole
			} else if batch.Attributes&0x20 == 0 { // control batches carry no group records
				decodeRecords(&batch, fn, bad)
			}
		}
		b = b[size:]
	}
	return next
}

func decodeRecords(batch *kmsg.RecordBatch, fn func(offset int64, key, value []byte), bad func(int64, error)) {
	recs, err := decompressor.Decompress(batch.Records, kgo.CompressionCodecType(batch.Attributes&7))
	if err != nil {
		bad(batch.FirstOffset, fmt.Errorf("decompress: %w", err))
		return
	}
	for i := int32(0); i < batch.NumRecords && len(recs) > 0; i++ {
		l, n := binary.Varint(recs)
		if n <= 0 || l < 0 || int(l) > len(recs)-n {
			bad(batch.FirstOffset, errors.New("truncated record"))
			return
		}
		var rec kmsg.Record
		if err := rec.ReadFrom(recs[:n+int(l)]); err != nil {
			bad(batch.FirstOffset, err)
		} else {
			fn(batch.FirstOffset+int64(rec.OffsetDelta), rec.Key, rec.Value)
		}
		recs = recs[n+int(l):]
	}
}
