package msgset

import (
	"github.com/weirhq/weir/broker/log/codec"
)

// Up converts a produced message set (magic 0 or 1) to one v2 batch of
// all its messages, offsets 0 to n-1 (the log assigns the real ones), and
// returns it with the number of records. A compressed wrapper's messages
// are unpacked; the batch is compressed with the first wrapper's codec.
// A v1 wrapper marked LogAppendTime gives its inner messages its
// timestamp; v0 messages have none (-1), which CreateTime checks skip, as
// Kafka's LogValidator skips them.
func Up(set []byte, dec *codec.Decompressor) ([]byte, int, error) {
	msgs, err := readMessages(set)
	if err != nil {
		return nil, 0, err
	}
	if len(msgs) == 0 {
		return nil, 0, corrupt("empty message set")
	}
	var recs []record
	batchCodec := codec.None
	for _, m := range msgs {
		if m.codec() == codec.None {
			recs = append(recs, record{Offset: int64(len(recs)), Timestamp: m.timestamp, Key: m.key, Value: m.value})
			continue
		}
		if batchCodec == codec.None {
			batchCodec = m.codec()
		}
		if recs, err = unwrap(recs, m, dec); err != nil {
			return nil, 0, err
		}
	}
	if batchCodec == codec.Zstd {
		return nil, 0, ErrUnsupportedCodec
	}
	out, err := appendBatch(nil, recs, batchCodec)
	return out, len(recs), err
}

// unwrap appends a compressed wrapper's inner messages to recs.
func unwrap(recs []record, w message, dec *codec.Decompressor) ([]record, error) {
	if w.codec() == codec.Zstd {
		return nil, ErrUnsupportedCodec
	}
	if w.value == nil {
		return nil, corrupt("compressed message at offset %d has no value", w.offset)
	}
	value := w.value
	if w.codec() == codec.LZ4 && w.magic == MagicV0 {
		value = fixLZ4Checksum(value) // v0's framing, whose checksum Kafka ignores
	}
	raw, err := dec.Decompress(nil, w.codec(), value)
	if err != nil {
		return nil, corrupt("message at offset %d: %v", w.offset, err)
	}
	inner, err := readMessages(raw)
	if err != nil {
		return nil, err
	}
	for _, m := range inner {
		if m.codec() != codec.None || m.magic != w.magic {
			return nil, corrupt("message at offset %d: inner message of magic %d, codec %d", w.offset, m.magic, m.codec())
		}
		ts := m.timestamp
		if w.magic == MagicV1 && w.attrs&attrTimestampType != 0 {
			ts = w.timestamp
		}
		recs = append(recs, record{Offset: int64(len(recs)), Timestamp: ts, Key: m.key, Value: m.value})
	}
	return recs, nil
}

// Down converts stored v2 batches, as a log read returns them, to a
// message set of magic 0 or 1 for an old fetch, leaving out control
// batches and records before from. It returns the set and the number of
// records converted. A partial batch at the end is left out (the client
// asks again from where the set ends). Batches compressed with zstd,
// which v0/v1 cannot carry, give ErrUnsupportedCodec, as in Kafka.
func Down(batches []byte, magic int8, from int64, dec *codec.Decompressor) ([]byte, int, error) {
	var out []byte
	n := 0
	for len(batches) > 0 {
		bt, rest, ok, err := readBatch(batches, dec)
		if err != nil {
			return nil, 0, err
		}
		if !ok {
			break
		}
		batches = rest
		if bt.control() {
			continue
		}
		recs := bt.records
		for len(recs) > 0 && recs[0].Offset < from {
			recs = recs[1:]
		}
		if len(recs) == 0 {
			continue
		}
		bt.records = recs
		if out, err = appendDown(out, bt, magic); err != nil {
			return nil, 0, err
		}
		n += len(recs)
	}
	return out, n, nil
}

// appendDown appends one batch's records as messages of magic: one each
// when uncompressed, else one wrapper compressed with the batch's codec
// (LZ4 in v0 with v0's framing, as Kafka writes it: lz4v0.go).
func appendDown(dst []byte, bt batch, magic int8) ([]byte, error) {
	var tsAttr int8
	if magic == MagicV1 && bt.logAppendTime() {
		tsAttr = attrTimestampType
	}
	c := bt.codec()
	if c == codec.None {
		for _, r := range bt.records {
			dst = appendMessage(dst, r.Offset, magic, tsAttr, r.Timestamp, r.Key, r.Value)
		}
		return dst, nil
	}
	var inner []byte
	maxTs := NoTimestamp
	first := bt.firstOffset()
	for _, r := range bt.records {
		off := r.Offset
		if magic == MagicV1 {
			off -= first // relative in v1 wrappers
		}
		inner = appendMessage(inner, off, magic, 0, r.Timestamp, r.Key, r.Value)
		maxTs = max(maxTs, r.Timestamp)
	}
	if bt.logAppendTime() {
		maxTs = bt.maxTimestamp
	}
	value, err := compressFor(c, inner)
	if err != nil {
		return dst, err
	}
	if c == codec.LZ4 && magic == MagicV0 {
		breakLZ4Checksum(value)
	}
	return appendMessage(dst, bt.lastOffset(), magic, c|tsAttr, maxTs, nil, value), nil
}
