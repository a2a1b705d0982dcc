package internaltopic

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Replay reads partition p of store from its log start to its end (the
// log end, not the high watermark, as Kafka loads: a new leader's high
// watermark may trail what its predecessor acknowledged) and hands its
// batches to DecodeBatches with onBatch, fn and bad. It stops early at an
// empty read or one that does not move on. A failed Bounds or Read is
// returned; unreadable records only go to bad.
func Replay(store Storage, p int32, onBatch func(*kmsg.RecordBatch) bool, fn func(offset int64, key, value []byte), bad func(offset int64, err error)) error {
	start, end, err := store.Bounds(p)
	if err != nil {
		return err
	}
	for off := start; off < end; {
		b, err := store.Read(p, off)
		if err != nil {
			return fmt.Errorf("reading at offset %d: %w", off, err)
		}
		next := DecodeBatches(b, onBatch, fn, bad)
		if len(b) == 0 || next <= off {
			break
		}
		off = next
	}
	return nil
}
