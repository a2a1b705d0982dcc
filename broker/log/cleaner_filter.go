package log

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/weirhq/weir/broker/log/codec"
)

// attrDeleteHorizon marks a batch whose baseTimestamp is its delete
// horizon (KIP-534): the time after which the cleaner drops its
// tombstones. Its records' timestamp deltas are relative to it.
const attrDeleteHorizon = 1 << 6

// offsetMap maps a key to the offset of its last record in the dirty
// section. Keys are held whole (Kafka hashes them): no collision can drop
// a live record.
type offsetMap struct {
	m       map[string]int64
	bytes   int64      // estimated memory
	aborted abortedSet // batches not mapped
}

// mapEntryOverhead estimates a Go map entry beyond its key bytes.
const mapEntryOverhead = 48

func (m *offsetMap) put(key []byte, offset int64) {
	if _, ok := m.m[string(key)]; !ok {
		m.bytes += int64(len(key)) + mapEntryOverhead
	}
	m.m[string(key)] = offset
}

// buildOffsetMap maps the keys of segs from offset from on, segment by
// segment, stopping after the segment that takes the map past maxBytes. It
// returns how many segments it mapped.
//
// Records of aborted transactions are not mapped: they never shadow a
// committed value (and the filter drops them).
func buildOffsetMap(segs []*segment, from, maxBytes int64, aborted abortedSet) (*offsetMap, int, error) {
	m := &offsetMap{m: make(map[string]int64), aborted: aborted}
	for i, s := range segs {
		if err := m.addSegment(s, from); err != nil {
			return nil, 0, err
		}
		if m.bytes > maxBytes {
			return m, i + 1, nil
		}
	}
	return m, len(segs), nil
}

func (m *offsetMap) addSegment(s *segment, from int64) error {
	sc := newBatchScanner(s.reader(), s.lookup(from), s.size.Load(), true)
	for sc.next() {
		h := sc.hdr
		if h.Control() || h.LastOffset() < from || h.NumRecords == 0 || m.aborted.has(h) {
			continue
		}
		_, err := withRecords(sc.batch, h, func(recs []byte) (struct{}, error) {
			it := cleanerRecords{p: recs, h: h, left: h.NumRecords}
			for r, ok := it.next(); ok; r, ok = it.next() {
				if r.hasKey && r.offset >= from {
					m.put(r.key, r.offset)
				}
			}
			return struct{}{}, it.err
		})
		if err != nil {
			return fmt.Errorf("map segment %020d: %w", s.base, err)
		}
	}
	if sc.err != nil {
		return fmt.Errorf("map segment %020d: %w", s.base, sc.err)
	}
	return nil
}

// cleanerRecord is a record as the cleaner sees it.
type cleanerRecord struct {
	offset    int64
	timestamp int64 // absolute (batch base + delta)
	hasKey    bool
	key       []byte
	tombstone bool   // null value
	raw       []byte // the whole record, length varint included
	afterTs   []byte // the record from its offset delta on
}

// cleanerRecords walks a records section like recordIter, decoding the key
// and whether the value is null.
type cleanerRecords struct {
	p    []byte
	h    BatchHeader
	left int32
	err  error
}

func (it *cleanerRecords) next() (cleanerRecord, bool) {
	if it.left <= 0 || it.err != nil {
		return cleanerRecord{}, false
	}
	length, n := binary.Varint(it.p)
	if n <= 0 || length < 3 || int64(len(it.p)-n) < length {
		return it.fail("record length")
	}
	r := cleanerRecord{raw: it.p[:n+int(length)]}
	rec := it.p[n : n+int(length)]
	it.p = it.p[n+int(length):]
	p := rec[1:] // attributes
	tsDelta, n := binary.Varint(p)
	if n <= 0 {
		return it.fail("timestamp delta")
	}
	p = p[n:]
	r.afterTs = p
	offDelta, n := binary.Varint(p)
	if n <= 0 || offDelta < 0 || offDelta > int64(it.h.LastOffsetDelta) {
		return it.fail("offset delta")
	}
	p = p[n:]
	keyLen, n := binary.Varint(p)
	if n <= 0 || keyLen < -1 || keyLen > int64(len(p)-n) {
		return it.fail("key length")
	}
	p = p[n:]
	if keyLen >= 0 {
		r.hasKey, r.key, p = true, p[:keyLen], p[keyLen:]
	}
	valLen, n := binary.Varint(p)
	if n <= 0 || valLen < -1 || valLen > int64(len(p)-n) {
		return it.fail("value length")
	}
	it.left--
	r.offset, r.timestamp, r.tombstone = it.h.BaseOffset+offDelta, it.h.BaseTimestamp+tsDelta, valLen < 0
	return r, true
}

func (it *cleanerRecords) fail(what string) (cleanerRecord, bool) {
	i := it.h.NumRecords - it.left
	it.err = fmt.Errorf("%w: batch at offset %d: record %d: bad %s", ErrCorruptBatch, it.h.BaseOffset, i, what)
	return cleanerRecord{}, false
}

// batchFilter decides, record by record, what a cleaning keeps, and
// rebuilds batches that lose records or gain a delete horizon.
type batchFilter struct {
	keys      *offsetMap
	now       int64           // unix ms
	horizon   int64           // delete horizon given to batches whose tombstones are seen for the first time
	lastBatch map[int64]int64 // producer id → last offset of its newest batch
	aborted   abortedSet      // batches of aborted transactions are dropped

	nextHorizon                   int64 // earliest horizon of a batch still holding tombstones
	read, kept, tombstonesDropped int64
	emptyKept                     int
	retained                      []cleanerRecord
	recBuf, zipBuf                []byte
}

// retain reports whether record r of batch h survives.
func (f *batchFilter) retain(h BatchHeader, r cleanerRecord) bool {
	if !r.hasKey {
		return true // Kafka rejects keyless records on compacted topics at produce time; kept if present
	}
	if latest, ok := f.keys.m[string(r.key)]; ok && r.offset < latest {
		return false
	}
	if r.tombstone && h.Attributes&attrDeleteHorizon != 0 && f.now >= h.BaseTimestamp {
		f.tombstonesDropped++
		return false
	}
	return true
}

// filter returns what replaces batch (header h) in the cleaned segment:
// the batch itself when nothing changes, a rebuilt batch, or nil when
// nothing of it is kept. changed reports a difference from the original.
func (f *batchFilter) filter(batch []byte, h BatchHeader) (out []byte, changed bool, err error) {
	if h.Control() || h.NumRecords == 0 {
		return batch, false, nil
	}
	if f.aborted.has(h) {
		// An aborted transaction's records go (its marker stays).
		f.read += int64(h.NumRecords)
		if f.isProducersLast(h) {
			f.emptyKept++
			return emptyBatch(h), true, nil
		}
		return nil, true, nil
	}
	type kept struct {
		n          int32
		tombstones bool
	}
	f.recBuf = f.recBuf[:0]
	res, err := withRecords(batch, h, func(recs []byte) (kept, error) {
		var k kept
		f.retained = f.retained[:0]
		it := cleanerRecords{p: recs, h: h, left: h.NumRecords}
		for r, ok := it.next(); ok; r, ok = it.next() {
			f.read++
			if f.retain(h, r) {
				f.retained = append(f.retained, r)
				k.tombstones = k.tombstones || r.tombstone
			}
		}
		k.n = int32(len(f.retained))
		setHorizon := k.tombstones && h.Attributes&attrDeleteHorizon == 0
		if it.err != nil || (k.n == h.NumRecords && !setHorizon) {
			return k, it.err // kept whole: no need to re-encode
		}
		for _, r := range f.retained {
			f.recBuf = appendRecord(f.recBuf, r, setHorizon, f.horizon)
		}
		return k, nil
	})
	if err != nil {
		return nil, false, err
	}
	f.kept += int64(res.n)
	newHorizon := res.tombstones && h.Attributes&attrDeleteHorizon == 0
	switch {
	case newHorizon:
		f.nextHorizon = min(f.nextHorizon, f.horizon)
	case res.tombstones:
		f.nextHorizon = min(f.nextHorizon, h.BaseTimestamp)
	}
	switch {
	case res.n == h.NumRecords && !newHorizon:
		return batch, false, nil
	case res.n == 0 && !f.isProducersLast(h):
		return nil, true, nil
	case res.n == 0:
		f.emptyKept++
		return emptyBatch(h), true, nil
	}
	out, err = f.rebuild(batch, h, res.n, newHorizon)
	return out, true, err
}

func (f *batchFilter) isProducersLast(h BatchHeader) bool {
	last, ok := f.lastBatch[h.ProducerID]
	return h.ProducerID >= 0 && ok && last == h.LastOffset()
}

// appendRecord appends r; with setHorizon its timestamp delta is made
// relative to the new base timestamp horizon.
func appendRecord(dst []byte, r cleanerRecord, setHorizon bool, horizon int64) []byte {
	if !setHorizon {
		return append(dst, r.raw...)
	}
	var hdr [1 + binary.MaxVarintLen64]byte
	hdr[0] = r.raw[varintLen(r.raw)] // attributes
	n := 1 + binary.PutVarint(hdr[1:], r.timestamp-horizon)
	dst = binary.AppendVarint(dst, int64(n+len(r.afterTs)))
	dst = append(dst, hdr[:n]...)
	return append(dst, r.afterTs...)
}

func varintLen(b []byte) int {
	_, n := binary.Varint(b)
	return n
}

// rebuild writes a batch with h's header and the records in f.recBuf,
// compressed with h's codec; with newHorizon its baseTimestamp becomes the
// delete horizon and attribute bit 6 is set.
func (f *batchFilter) rebuild(batch []byte, h BatchHeader, n int32, newHorizon bool) ([]byte, error) {
	body := f.recBuf
	if c := h.Compression(); c != codec.None {
		var err error
		if c == codec.Snappy && bytes.HasPrefix(batch[BatchHeaderSize:], xerialHeader) {
			f.zipBuf = codec.XerialSnappy(f.zipBuf[:0], body, 32<<10)
		} else if f.zipBuf, err = codec.Compress(f.zipBuf[:0], c, body); err != nil {
			return nil, fmt.Errorf("recompress batch at offset %d: %w", h.BaseOffset, err)
		}
		body = f.zipBuf
	}
	out := make([]byte, BatchHeaderSize, BatchHeaderSize+len(body))
	copy(out, batch[:BatchHeaderSize])
	out = append(out, body...)
	be := binary.BigEndian
	be.PutUint32(out[8:], uint32(len(out)-batchLengthOverhead))
	if newHorizon {
		be.PutUint16(out[attrOffset:], uint16(h.Attributes|attrDeleteHorizon))
		be.PutUint64(out[baseTimestampOffset:], uint64(f.horizon))
	}
	be.PutUint32(out[recordCountOffset:], uint32(n))
	be.PutUint32(out[crcOffset:], crc32c(out[crcStart:]))
	return out, nil
}

// xerialHeader starts a snappy-java (xerial) framed batch.
var xerialHeader = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

// emptyBatch is h's header with no records and no codec, the way Kafka
// keeps a producer's last batch when compaction empties it.
func emptyBatch(h BatchHeader) []byte {
	out := make([]byte, BatchHeaderSize)
	be := binary.BigEndian
	be.PutUint64(out[0:], uint64(h.BaseOffset))
	be.PutUint32(out[8:], uint32(minBatchLength))
	be.PutUint32(out[12:], uint32(h.PartitionLeaderEpoch))
	out[magicOffset] = 2
	be.PutUint16(out[attrOffset:], uint16(h.Attributes&^7))
	be.PutUint32(out[23:], uint32(h.LastOffsetDelta))
	be.PutUint64(out[baseTimestampOffset:], uint64(h.BaseTimestamp))
	be.PutUint64(out[maxTimestampOffset:], uint64(h.MaxTimestamp))
	be.PutUint64(out[43:], uint64(h.ProducerID))
	be.PutUint16(out[51:], uint16(h.ProducerEpoch))
	be.PutUint32(out[53:], uint32(h.BaseSequence))
	be.PutUint32(out[recordCountOffset:], 0)
	be.PutUint32(out[crcOffset:], crc32c(out[crcStart:]))
	return out
}
