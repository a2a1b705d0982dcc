package txn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"unicode/utf16"
)

// The __transaction_state record formats, Kafka's own
// (TransactionLogKey.json and TransactionLogValue.json):
//
//	key   int16 0, TransactionalId string (int16 length)
//	value int16 version 0: ProducerId int64, ProducerEpoch int16,
//	      TransactionTimeoutMs int32, TransactionStatus int8,
//	      TransactionPartitions nullable [{Topic string, PartitionIds []int32}],
//	      TransactionLastUpdateTimestampMs int64, TransactionStartTimestampMs int64
//	value int16 version 1: the same fields, flexible (compact arrays and
//	      strings, a tag section after each partition entry and after the
//	      value), with the tagged fields PreviousProducerId (tag 0, default
//	      -1), NextProducerId (1, -1), ClientTransactionVersion (2, 0) and
//	      NextProducerEpoch (3, -1), written only when not their default.
//
// A null value is a tombstone: the transactional id is gone. Kafka writes
// a null partition list for Empty; on reading, Empty has no partitions
// whatever the list says. Unknown tags are kept, so a record read and
// written again is the same bytes.

// keyVersion is the key's prefix: Kafka 4's coordinator record type of
// the transaction log, and the only key version Kafka ever wrote.
const keyVersion = 0

// LogValue is one __transaction_state value.
type LogValue struct {
	Version       int16 // 0 or 1
	ProducerID    int64
	ProducerEpoch int16
	TimeoutMs     int32
	State         State
	// Partitions is the transaction's partitions by topic, in the order
	// written; nil is the null list.
	Partitions   []TopicPartitions
	LastUpdateMs int64
	StartMs      int64

	// Tagged fields (version 1).
	PreviousProducerID       int64 // tag 0, default -1
	NextProducerID           int64 // tag 1, default -1
	ClientTransactionVersion int16 // tag 2, default 0
	NextProducerEpoch        int16 // tag 3, default -1
	UnknownTags              []Tag // other tags, in tag order
}

// TopicPartitions is one entry of a value's partition list.
type TopicPartitions struct {
	Topic      string
	Partitions []int32
	Tags       []Tag // version 1: the entry's tags (none are defined)
}

// Tag is a tagged field this package does not know, kept as read.
type Tag struct {
	Tag  uint32
	Data []byte
}

// NewLogValue returns a value with the tagged fields at their defaults.
func NewLogValue() LogValue {
	return LogValue{PreviousProducerID: -1, NextProducerID: -1, NextProducerEpoch: -1}
}

// EncodeKey is the key of transactional id id.
func EncodeKey(id string) []byte {
	b := binary.BigEndian.AppendUint16(nil, keyVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(len(id)))
	return append(b, id...)
}

// DecodeKey reads a key; ok is false for a key of another version (not a
// transaction log record).
func DecodeKey(b []byte) (id string, ok bool, err error) {
	r := reader{b: b}
	if v := r.int16(); r.err == nil && v != keyVersion {
		return "", false, nil
	}
	id = r.string(false)
	if err := r.done(); err != nil {
		return "", true, fmt.Errorf("transaction log key: %w", err)
	}
	return id, true, nil
}

// Encode appends the value in its Version's format.
func (v *LogValue) Encode() []byte {
	flex := v.Version >= 1
	b := binary.BigEndian.AppendUint16(nil, uint16(v.Version))
	b = binary.BigEndian.AppendUint64(b, uint64(v.ProducerID))
	b = binary.BigEndian.AppendUint16(b, uint16(v.ProducerEpoch))
	b = binary.BigEndian.AppendUint32(b, uint32(v.TimeoutMs))
	b = append(b, byte(v.State))
	b = appendArrayLen(b, len(v.Partitions), v.Partitions == nil, flex)
	for _, tp := range v.Partitions {
		b = appendString(b, tp.Topic, flex)
		b = appendArrayLen(b, len(tp.Partitions), false, flex)
		for _, p := range tp.Partitions {
			b = binary.BigEndian.AppendUint32(b, uint32(p))
		}
		if flex {
			b = appendTags(b, tp.Tags)
		}
	}
	b = binary.BigEndian.AppendUint64(b, uint64(v.LastUpdateMs))
	b = binary.BigEndian.AppendUint64(b, uint64(v.StartMs))
	if flex {
		b = appendTags(b, v.tags())
	}
	return b
}

// tags is the value's tag section: the known tags that differ from their
// defaults and the unknown ones, in tag order.
func (v *LogValue) tags() []Tag {
	var ts []Tag
	if v.PreviousProducerID != -1 {
		ts = append(ts, Tag{0, binary.BigEndian.AppendUint64(nil, uint64(v.PreviousProducerID))})
	}
	if v.NextProducerID != -1 {
		ts = append(ts, Tag{1, binary.BigEndian.AppendUint64(nil, uint64(v.NextProducerID))})
	}
	if v.ClientTransactionVersion != 0 {
		ts = append(ts, Tag{2, binary.BigEndian.AppendUint16(nil, uint16(v.ClientTransactionVersion))})
	}
	if v.NextProducerEpoch != -1 {
		ts = append(ts, Tag{3, binary.BigEndian.AppendUint16(nil, uint16(v.NextProducerEpoch))})
	}
	ts = append(ts, v.UnknownTags...)
	slices.SortStableFunc(ts, func(a, b Tag) int { return int(a.Tag) - int(b.Tag) })
	return ts
}

// DecodeValue reads a value of version 0 or 1.
func DecodeValue(b []byte) (LogValue, error) {
	v := NewLogValue()
	r := reader{b: b}
	v.Version = r.int16()
	if r.err == nil && (v.Version < 0 || v.Version > 1) {
		return v, fmt.Errorf("transaction log value: unknown version %d", v.Version)
	}
	flex := v.Version >= 1
	v.ProducerID, v.ProducerEpoch, v.TimeoutMs = r.int64(), r.int16(), r.int32()
	v.State = State(r.int8())
	if n, null := r.arrayLen(flex); !null {
		v.Partitions = make([]TopicPartitions, 0, min(n, len(b)))
		for i := 0; i < n && r.err == nil; i++ {
			v.Partitions = append(v.Partitions, r.topicPartitions(flex))
		}
	}
	v.LastUpdateMs, v.StartMs = r.int64(), r.int64()
	if flex {
		for _, t := range r.tags() {
			v.setTag(&r, t)
		}
	}
	if err := r.done(); err != nil {
		return v, fmt.Errorf("transaction log value: %w", err)
	}
	if !v.State.valid() {
		return v, fmt.Errorf("transaction log value: unknown state %d", v.State)
	}
	return v, nil
}

func (v *LogValue) setTag(r *reader, t Tag) {
	tr := reader{b: t.Data}
	switch t.Tag {
	case 0:
		v.PreviousProducerID = tr.int64()
	case 1:
		v.NextProducerID = tr.int64()
	case 2:
		v.ClientTransactionVersion = tr.int16()
	case 3:
		v.NextProducerEpoch = tr.int16()
	default:
		v.UnknownTags = append(v.UnknownTags, t)
		return
	}
	if err := tr.done(); err != nil && r.err == nil {
		r.err = fmt.Errorf("tag %d: %w", t.Tag, err)
	}
}

func (r *reader) topicPartitions(flex bool) TopicPartitions {
	tp := TopicPartitions{Topic: r.string(flex)}
	n, _ := r.arrayLen(flex)
	tp.Partitions = make([]int32, 0, min(n, len(r.b)/4))
	for range n {
		if r.err != nil {
			break
		}
		tp.Partitions = append(tp.Partitions, r.int32())
	}
	if flex {
		tp.Tags = r.tags()
	}
	return tp
}

func appendArrayLen(b []byte, n int, null, flex bool) []byte {
	switch {
	case flex && null:
		return binary.AppendUvarint(b, 0)
	case flex:
		return binary.AppendUvarint(b, uint64(n)+1)
	case null:
		return binary.BigEndian.AppendUint32(b, 0xffffffff)
	}
	return binary.BigEndian.AppendUint32(b, uint32(n))
}

func appendString(b []byte, s string, flex bool) []byte {
	if flex {
		b = binary.AppendUvarint(b, uint64(len(s))+1)
	} else {
		b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	}
	return append(b, s...)
}

func appendTags(b []byte, ts []Tag) []byte {
	b = binary.AppendUvarint(b, uint64(len(ts)))
	for _, t := range ts {
		b = binary.AppendUvarint(b, uint64(t.Tag))
		b = binary.AppendUvarint(b, uint64(len(t.Data)))
		b = append(b, t.Data...)
	}
	return b
}

var errShort = errors.New("not enough data")

// reader reads Kafka's primitive types; the first error sticks and later
// reads return zeros.
type reader struct {
	b   []byte
	err error
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errShort
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) int8() int8 {
	if b := r.take(1); b != nil {
		return int8(b[0])
	}
	return 0
}

func (r *reader) int16() int16 {
	if b := r.take(2); b != nil {
		return int16(binary.BigEndian.Uint16(b))
	}
	return 0
}

func (r *reader) int32() int32 {
	if b := r.take(4); b != nil {
		return int32(binary.BigEndian.Uint32(b))
	}
	return 0
}

func (r *reader) int64() int64 {
	if b := r.take(8); b != nil {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) string(flex bool) string {
	n := 0
	if flex {
		u := r.uvarint()
		if u == 0 || u > uint64(len(r.b))+1 {
			r.fail(errors.New("null or overlong string"))
			return ""
		}
		n = int(u - 1)
	} else if n = int(r.int16()); n < 0 {
		r.fail(errors.New("null string"))
		return ""
	}
	return string(r.take(n))
}

// arrayLen reads an array length; null reports the null array.
func (r *reader) arrayLen(flex bool) (n int, null bool) {
	if flex {
		u := r.uvarint()
		if r.err != nil || u > uint64(len(r.b))+1 {
			r.fail(errShort)
			return 0, true
		}
		return max(int(u)-1, 0), u == 0
	}
	l := r.int32()
	if r.err != nil || l < -1 || int(l) > len(r.b) {
		r.fail(errShort)
		return 0, true
	}
	return max(int(l), 0), l == -1
}

func (r *reader) tags() []Tag {
	n := r.uvarint()
	var ts []Tag
	for i := uint64(0); i < n && r.err == nil; i++ {
		tag := r.uvarint()
		size := r.uvarint()
		if size > uint64(len(r.b)) {
			r.fail(errShort)
			break
		}
		ts = append(ts, Tag{Tag: uint32(tag), Data: slices.Clone(r.take(int(size)))})
	}
	return ts
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) done() error {
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d trailing bytes", len(r.b))
	}
	return r.err
}

// PartitionFor is the __transaction_state partition of transactional id
// among n, as Kafka computes it: Utils.abs(id.hashCode) % n, where
// hashCode is Java's String.hashCode over UTF-16 code units and
// Utils.abs maps Integer.MIN_VALUE to 0 (it is not a mask of the sign
// bit: an id hashing to -5 is partition 5 % n).
func PartitionFor(id string, n int32) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(id)) {
		h = 31*h + int32(u)
	}
	switch {
	case h == -1<<31:
		h = 0
	case h < 0:
		h = -h
	}
	return h % n
}
