package log

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/weirhq/weir/broker/log/codec"
)

// MaxDecompressedBatch bounds what one compressed batch may decompress to
// when the log looks inside it (timestamp lookups); a batch that would grow
// larger is treated as corrupt.
const MaxDecompressedBatch = 64 << 20

var decompressor = codec.NewDecompressor(MaxDecompressedBatch)

// recordBufs recycles buffers for decompressed records sections.
var recordBufs sync.Pool // *[]byte

const maxPooledRecordBuf = 4 << 20

// withRecords calls f with the records section of batch (its header h),
// decompressed if needed. The slice is only valid during the call.
func withRecords[T any](batch []byte, h BatchHeader, f func(recs []byte) (T, error)) (T, error) {
	body := batch[BatchHeaderSize:]
	if h.Compression() == codec.None {
		return f(body)
	}
	bp, _ := recordBufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	recs, err := decompressor.Decompress((*bp)[:0], h.Compression(), body)
	var out T
	if err != nil {
		err = fmt.Errorf("%w: batch at offset %d: %w", ErrCorruptBatch, h.BaseOffset, err)
	} else {
		out, err = f(recs)
	}
	if cap(recs) <= maxPooledRecordBuf {
		*bp = recs[:0]
		recordBufs.Put(bp)
	}
	return out, err
}

// record is the part of a record that timestamp lookups need.
type record struct {
	offset, timestamp int64
}

// recordIter walks a records section (Kafka's record format v2): each record
// is length varint, attributes int8, timestampDelta varlong, offsetDelta
// varint, then key, value and headers, which it skips using the length.
type recordIter struct {
	p    []byte
	h    BatchHeader
	left int32 // records not yet returned
	err  error
}

func newRecordIter(recs []byte, h BatchHeader) recordIter {
	return recordIter{p: recs, h: h, left: h.NumRecords}
}

// next returns the next record; false at the end or, with it.err set, at a
// malformed record.
func (it *recordIter) next() (record, bool) {
	if it.left <= 0 || it.err != nil {
		return record{}, false
	}
	length, n := binary.Varint(it.p)
	if n <= 0 || length < 3 || int64(len(it.p)-n) < length {
		return it.fail("record length")
	}
	rec := it.p[n : n+int(length)]
	it.p = it.p[n+int(length):]
	tsDelta, n1 := binary.Varint(rec[1:])
	if n1 <= 0 {
		return it.fail("timestamp delta")
	}
	offDelta, n2 := binary.Varint(rec[1+n1:])
	if n2 <= 0 || offDelta < 0 || offDelta > int64(it.h.LastOffsetDelta) {
		return it.fail("offset delta")
	}
	it.left--
	ts := it.h.BaseTimestamp + tsDelta
	if it.h.LogAppendTime() {
		ts = it.h.MaxTimestamp
	}
	return record{it.h.BaseOffset + offDelta, ts}, true
}

func (it *recordIter) fail(what string) (record, bool) {
	i := it.h.NumRecords - it.left
	it.err = fmt.Errorf("%w: batch at offset %d: record %d: bad %s", ErrCorruptBatch, it.h.BaseOffset, i, what)
	return record{}, false
}

// recordAtTimestamp returns the first record of the batch at or after
// startOffset with a timestamp >= ts (Kafka's FileRecords.searchForTimestamp
// for one batch), decompressing the batch if needed. In a LogAppendTime batch
// every record has the batch's maxTimestamp, so the answer is its first
// record at or after startOffset without looking inside. ok=false when no
// record qualifies; err when the records cannot be read.
func recordAtTimestamp(batch []byte, h BatchHeader, ts, startOffset int64) (record, bool, error) {
	if h.LogAppendTime() {
		if h.MaxTimestamp >= ts && h.LastOffset() >= startOffset {
			return record{max(h.BaseOffset, startOffset), h.MaxTimestamp}, true, nil
		}
		return record{}, false, nil
	}
	type found struct {
		r  record
		ok bool
	}
	res, err := withRecords(batch, h, func(recs []byte) (found, error) {
		it := newRecordIter(recs, h)
		for r, ok := it.next(); ok; r, ok = it.next() {
			if r.offset >= startOffset && r.timestamp >= ts {
				return found{r, true}, nil
			}
		}
		return found{}, it.err
	})
	return res.r, res.ok, err
}

// offsetOfMaxTimestamp returns the offset of the batch's first record whose
// timestamp is the batch's maxTimestamp (Kafka's
// RecordBatch.offsetOfMaxTimestamp): the base offset in a LogAppendTime
// batch. ok=false when no record carries it.
func offsetOfMaxTimestamp(batch []byte, h BatchHeader) (int64, bool, error) {
	if h.LogAppendTime() {
		return h.BaseOffset, true, nil
	}
	off, err := withRecords(batch, h, func(recs []byte) (int64, error) {
		it := newRecordIter(recs, h)
		for r, ok := it.next(); ok; r, ok = it.next() {
			if r.timestamp == h.MaxTimestamp {
				return r.offset, nil
			}
		}
		return -1, it.err
	})
	if err != nil || off < 0 {
		return 0, false, err
	}
	return off, true, nil
}
