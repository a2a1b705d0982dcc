package internaltopic

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// KeyValue is one record to write: a key and its value (nil: a
// tombstone). Record is the plain one; a coordinator's own record type
// may carry more and implement KeyValue.
type KeyValue interface {
	KV() (key, value []byte)
}

// Record is a key and its value (nil: a tombstone).
type Record struct{ Key, Value []byte }

// KV implements KeyValue.
func (r Record) KV() (key, value []byte) { return r.Key, r.Value }

// Castagnoli is the CRC-32C table of the batch checksum.
var Castagnoli = crc32.MakeTable(crc32.Castagnoli)

// EncodeBatch builds one uncompressed magic-2 record batch (base offset
// 0, no producer) holding recs, stamped now.
func EncodeBatch[R KeyValue](recs []R, now time.Time) []byte {
	ms := now.UnixMilli()
	var body []byte
	for i, r := range recs {
		k, v := r.KV()
		rec := kmsg.Record{OffsetDelta: int32(i), Key: k, Value: v}
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
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], Castagnoli))
	return out
}

var decompressor = kgo.DefaultDecompressor()

// DecodeBatches calls fn for every record of the whole batches in b and
// returns the offset after the last batch (-1: none). When onBatch is
// set it sees each batch first, control batches too, and says whether
// its records are wanted; control batches' records never go to fn (they
// carry no coordinator state). A batch or record that cannot be read is
// reported through bad and skipped.
func DecodeBatches(b []byte, onBatch func(*kmsg.RecordBatch) bool, fn func(offset int64, key, value []byte), bad func(offset int64, err error)) int64 {
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
			} else if batch.Attributes&0x20 == 0 { // control batches carry no state
				DecodeRecords(&batch, fn, bad)
			}
		}
		b = b[size:]
	}
	return next
}

// DecodeRecords calls fn for every record of batch; a record that cannot
// be read is reported through bad (the rest of the batch with it when
// its length is wrong).
func DecodeRecords(batch *kmsg.RecordBatch, fn func(offset int64, key, value []byte), bad func(int64, error)) {
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
