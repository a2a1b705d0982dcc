package log

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrNoKey is CheckKeys' error for a record without a key.
var ErrNoKey = errors.New("record without a key")

// CheckKeys reports a record of the batch (whole, with header h) that has
// no key: a compacted topic keeps the latest value per key, so Kafka
// refuses keyless records there (INVALID_RECORD). Compressed batches are
// decompressed (bounded by MaxDecompressedBatch). Control batches pass.
func CheckKeys(batch []byte, h BatchHeader) error {
	if h.Control() {
		return nil
	}
	_, err := withRecords(batch, h, func(recs []byte) (struct{}, error) {
		return struct{}{}, checkKeys(recs, h)
	})
	return err
}

func checkKeys(recs []byte, h BatchHeader) error {
	p := recs
	for i := int32(0); i < h.NumRecords; i++ {
		length, n := binary.Varint(p)
		if n <= 0 || length < 3 || int64(len(p)-n) < length {
			return fmt.Errorf("%w: batch at offset %d: record %d: bad length", ErrCorruptBatch, h.BaseOffset, i)
		}
		rec := p[n : n+int(length)]
		p = p[n+int(length):]
		pos := 1                             // attributes
		for field := 0; field < 2; field++ { // timestamp delta, offset delta
			_, m := binary.Varint(rec[pos:])
			if m <= 0 {
				return fmt.Errorf("%w: batch at offset %d: record %d: bad header", ErrCorruptBatch, h.BaseOffset, i)
			}
			pos += m
		}
		keyLen, m := binary.Varint(rec[pos:])
		if m <= 0 {
			return fmt.Errorf("%w: batch at offset %d: record %d: bad key length", ErrCorruptBatch, h.BaseOffset, i)
		}
		if keyLen < 0 {
			return fmt.Errorf("%w: batch at offset %d, record %d", ErrNoKey, h.BaseOffset, i)
		}
	}
	return nil
}
