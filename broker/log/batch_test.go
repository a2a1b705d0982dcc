package log

import (
	"encoding/binary"
	"errors"
	"testing"
)

func TestValidateBatches(t *testing.T) {
	good := batch(spec{n: 3, valueSize: 10})
	badCRC := batch(spec{n: 3, valueSize: 10})
	badCRC[len(badCRC)-1] ^= 0xff
	magic1 := batch(spec{})
	magic1[16] = 1
	magic3 := batch(spec{})
	magic3[16] = 3
	badCount := batch(spec{n: 2})
	binary.BigEndian.PutUint32(badCount[57:], 5)
	fixCRC(badCount)
	shortLen := batch(spec{})
	binary.BigEndian.PutUint32(shortLen[8:], 10)

	tests := []struct {
		name    string
		records []byte
		max     int
		want    int // batches
		err     error
	}{
		{"good batch", good, 0, 1, nil},
		{"multiple batches", concat(good, batch(spec{n: 5}), batch(spec{pid: 3, seq: 9})), 0, 3, nil},
		{"bad crc", badCRC, 0, 0, ErrCorruptBatch},
		{"magic 1", magic1, 0, 0, ErrUnsupportedMagic},
		{"magic 3", magic3, 0, 0, ErrCorruptBatch},
		{"truncated body", good[:len(good)-1], 0, 0, ErrCorruptBatch},
		{"truncated header", good[:40], 0, 0, ErrCorruptBatch},
		{"trailing partial batch", concat(good, good[:30]), 0, 0, ErrCorruptBatch},
		{"too large", good, len(good) - 1, 0, ErrMessageTooLarge},
		{"exactly max", good, len(good), 1, nil},
		{"record count mismatch", badCount, 0, 0, ErrCorruptBatch},
		{"length below header", shortLen, 0, 0, ErrCorruptBatch},
		{"empty", nil, 0, 0, ErrCorruptBatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdrs, err := ValidateBatches(tc.records, tc.max)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if len(hdrs) != tc.want {
				t.Fatalf("got %d batches, want %d", len(hdrs), tc.want)
			}
		})
	}
}

func TestUnsupportedMagicIsNotCorrupt(t *testing.T) {
	b := batch(spec{})
	b[16] = 0
	_, err := ValidateBatches(b, 0)
	if !errors.Is(err, ErrUnsupportedMagic) || errors.Is(err, ErrCorruptBatch) {
		t.Fatalf("err = %v: want ErrUnsupportedMagic only", err)
	}
}

func TestBatchHeaderFields(t *testing.T) {
	b := batch(spec{n: 4, baseTs: 5000, tsStep: 10, pid: 42, epoch: 3, seq: 100, compression: 0})
	binary.BigEndian.PutUint16(b[21:], 2|attrTimestampType|attrTransactional|attrControl)
	fixCRC(b)
	hdrs, err := ValidateBatches(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := hdrs[0]
	if h.Compression() != 2 || !h.LogAppendTime() || !h.Transactional() || !h.Control() {
		t.Errorf("attributes %x decoded wrong", h.Attributes)
	}
	if h.LastOffset() != 3 || h.NumRecords != 4 || h.BaseTimestamp != 5000 || h.MaxTimestamp != 5030 ||
		h.ProducerID != 42 || h.ProducerEpoch != 3 || h.BaseSequence != 100 || h.LastSequence() != 103 ||
		h.TotalSize() != len(b) || h.Magic != 2 || h.PartitionLeaderEpoch != -1 {
		t.Errorf("header decoded wrong: %+v", h)
	}
}

func TestLastSequenceWraps(t *testing.T) {
	h := BatchHeader{BaseSequence: 1<<31 - 2, LastOffsetDelta: 3}
	if got := h.LastSequence(); got != 1 {
		t.Fatalf("LastSequence = %d, want 1", got)
	}
}

// fixCRC recomputes a batch's CRC after a test edited it.
func fixCRC(b []byte) {
	binary.BigEndian.PutUint32(b[17:], crc32c(b[21:]))
}

func FuzzValidateBatches(f *testing.F) {
	f.Add(batch(spec{n: 3, valueSize: 10}))
	f.Add(concat(batch(spec{}), batch(spec{n: 2, pid: 1})))
	f.Add(batch(spec{})[:40])
	f.Fuzz(func(t *testing.T, b []byte) {
		hdrs, err := ValidateBatches(b, 1<<20)
		if err != nil {
			return
		}
		total := 0
		for _, h := range hdrs {
			if h.Magic != 2 || h.TotalSize() < BatchHeaderSize {
				t.Fatalf("accepted bad header %+v", h)
			}
			total += h.TotalSize()
		}
		if total != len(b) {
			t.Fatalf("batches cover %d of %d bytes", total, len(b))
		}
	})
}
