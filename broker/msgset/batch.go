package msgset

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/weirhq/weir/broker/log/codec"
)

// Record batch v2 layout (DefaultRecordBatch), as broker/log documents it.
const (
	batchHeaderSize   = 61
	batchAttrOffset   = 21
	batchCRCStart     = 21
	batchCRCOffset    = 17
	batchAttrTSType   = 1 << 3
	batchAttrControl  = 1 << 5
	batchAttrCodecMsk = 0x07
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendBatch appends one v2 batch of recs (non-empty, offsets ascending)
// compressed with codecID: base offset recs[0].Offset, no producer id,
// partition leader epoch -1 (the log sets it), CreateTime.
func appendBatch(dst []byte, recs []record, codecID int8) ([]byte, error) {
	base, baseTs, maxTs := recs[0].Offset, recs[0].Timestamp, recs[0].Timestamp
	var raw []byte
	for _, r := range recs {
		maxTs = max(maxTs, r.Timestamp)
		raw = appendRecord(raw, r, base, baseTs)
	}
	if codecID != codec.None {
		var err error
		if raw, err = compressFor(codecID, raw); err != nil {
			return dst, err
		}
	}
	be := binary.BigEndian
	start := len(dst)
	dst = be.AppendUint64(dst, uint64(base))
	dst = be.AppendUint32(dst, 0) // batchLength, below
	dst = be.AppendUint32(dst, 0xffffffff)
	dst = append(dst, byte(MagicV2))
	dst = be.AppendUint32(dst, 0) // crc, below
	dst = be.AppendUint16(dst, uint16(codecID))
	dst = be.AppendUint32(dst, uint32(recs[len(recs)-1].Offset-base))
	dst = be.AppendUint64(dst, uint64(baseTs))
	dst = be.AppendUint64(dst, uint64(maxTs))
	dst = be.AppendUint64(dst, 0xffffffffffffffff) // producer id -1
	dst = be.AppendUint16(dst, 0xffff)             // producer epoch -1
	dst = be.AppendUint32(dst, 0xffffffff)         // base sequence -1
	dst = be.AppendUint32(dst, uint32(len(recs)))
	dst = append(dst, raw...)
	b := dst[start:]
	be.PutUint32(b[8:], uint32(len(b)-12))
	be.PutUint32(b[batchCRCOffset:], crc32.Checksum(b[batchCRCStart:], castagnoli))
	return dst, nil
}

func appendRecord(dst []byte, r record, base, baseTs int64) []byte {
	var body []byte
	body = append(body, 0) // attributes
	body = binary.AppendVarint(body, r.Timestamp-baseTs)
	body = binary.AppendVarint(body, r.Offset-base)
	body = appendVarBytes(body, r.Key)
	body = appendVarBytes(body, r.Value)
	body = binary.AppendVarint(body, int64(len(r.Headers)))
	for _, h := range r.Headers {
		body = appendVarBytes(body, []byte(h.Key))
		body = appendVarBytes(body, h.Value)
	}
	dst = binary.AppendVarint(dst, int64(len(body)))
	return append(dst, body...)
}

func appendVarBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

// compressFor compresses as a Java producer would: snappy in
// snappy-java's framing, which every client reads (old ones only that).
func compressFor(codecID int8, raw []byte) ([]byte, error) {
	if codecID == codec.Snappy {
		return codec.XerialSnappy(nil, raw, 32<<10), nil
	}
	return codec.Compress(nil, codecID, raw)
}

// batch is one decoded v2 batch.
type batch struct {
	baseOffset, maxTimestamp int64
	attrs                    int16
	records                  []record
}

func (b batch) codec() int8         { return int8(b.attrs & batchAttrCodecMsk) }
func (b batch) logAppendTime() bool { return b.attrs&batchAttrTSType != 0 }
func (b batch) control() bool       { return b.attrs&batchAttrControl != 0 }
func (b batch) lastOffset() int64   { return b.records[len(b.records)-1].Offset }
func (b batch) firstOffset() int64  { return b.records[0].Offset }

// readBatch decodes the batch at the start of b and returns it and the
// bytes after it; ok is false when b does not hold a whole batch (a read
// may end with a partial one). Only the records of codecs other than
// zstd are decoded.
func readBatch(b []byte, dec *codec.Decompressor) (batch, []byte, bool, error) {
	if len(b) < batchHeaderSize {
		return batch{}, nil, false, nil
	}
	be := binary.BigEndian
	n := int(int32(be.Uint32(b[8:]))) + 12
	if n < batchHeaderSize || n > len(b) {
		return batch{}, nil, false, nil
	}
	if int8(b[16]) != MagicV2 {
		return batch{}, nil, false, corrupt("batch at offset %d: magic %d", int64(be.Uint64(b)), int8(b[16]))
	}
	bt := batch{baseOffset: int64(be.Uint64(b)), maxTimestamp: int64(be.Uint64(b[35:])), attrs: int16(be.Uint16(b[batchAttrOffset:]))}
	rest := b[n:]
	if bt.control() {
		return bt, rest, true, nil
	}
	raw := b[batchHeaderSize:n]
	if c := bt.codec(); c != codec.None {
		if c == codec.Zstd {
			return bt, rest, true, ErrUnsupportedCodec
		}
		var err error
		if raw, err = dec.Decompress(nil, c, raw); err != nil {
			return batch{}, nil, false, corrupt("batch at offset %d: %v", bt.baseOffset, err)
		}
	}
	baseTs := int64(be.Uint64(b[27:]))
	count := int(int32(be.Uint32(b[57:])))
	var err error
	if bt.records, err = readRecords(raw, count, bt.baseOffset, baseTs); err != nil {
		return batch{}, nil, false, err
	}
	if bt.logAppendTime() {
		for i := range bt.records {
			bt.records[i].Timestamp = bt.maxTimestamp
		}
	}
	return bt, rest, true, nil
}

func readRecords(raw []byte, count int, base, baseTs int64) ([]record, error) {
	if count < 0 {
		return nil, corrupt("batch at offset %d: %d records", base, count)
	}
	out := make([]record, 0, min(count, len(raw)))
	for i := 0; i < count; i++ {
		n, k := binary.Varint(raw)
		if k <= 0 || n < 0 || int64(len(raw)-k) < n {
			return nil, corrupt("record %d of the batch at offset %d: length", i, base)
		}
		r, ok := readRecord(raw[k:k+int(n)], base, baseTs)
		if !ok {
			return nil, corrupt("record %d of the batch at offset %d", i, base)
		}
		out = append(out, r)
		raw = raw[k+int(n):]
	}
	return out, nil
}

// recordReader walks one record's fields; ok turns false on the first
// short read.
type recordReader struct {
	b  []byte
	ok bool
}

func (r *recordReader) varint() int64 {
	v, k := binary.Varint(r.b)
	if k <= 0 {
		r.ok = false
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *recordReader) bytes() []byte {
	n := r.varint()
	if !r.ok || n < 0 {
		return nil
	}
	if n > int64(len(r.b)) {
		r.ok = false
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func readRecord(b []byte, base, baseTs int64) (record, bool) {
	if len(b) < 1 {
		return record{}, false
	}
	r := recordReader{b: b[1:], ok: true} // attributes: unused
	rec := record{Timestamp: baseTs + r.varint()}
	rec.Offset = base + r.varint()
	rec.Key, rec.Value = r.bytes(), r.bytes()
	for n := r.varint(); r.ok && n > 0; n-- {
		h := header{Key: string(r.bytes())}
		h.Value = r.bytes()
		rec.Headers = append(rec.Headers, h)
	}
	return rec, r.ok
}
