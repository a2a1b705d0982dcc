package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/weirhq/weir/broker/log/codec"
)

// codecs are the compressed forms a producer may send.
var codecs = []struct {
	name   string
	codec  int8
	xerial bool
}{
	{"none", codec.None, false},
	{"gzip", codec.Gzip, false},
	{"snappy", codec.Snappy, false},
	{"snappy-xerial", codec.Snappy, true},
	{"lz4", codec.LZ4, false},
	{"zstd", codec.Zstd, false},
}

// TestOffsetForTimestampCompressed looks up timestamps inside compressed
// batches of every codec and expects the exact record, as Kafka answers.
func TestOffsetForTimestampCompressed(t *testing.T) {
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, smallConfig())
			// Offsets 0-4: uncompressed, ts 1000-1040.
			h.append(batch(spec{n: 5, baseTs: 1000, tsStep: 10}))
			// Offsets 5-104: one compressed batch, ts 2000+10i, except that
			// record 50 (offset 55) jumps ahead to 5000 and record 80
			// (offset 85) ties it: timestamps need not be monotonic in a batch.
			// 100 values of 200 bytes: several xerial chunks.
			deltas := make([]int64, 100)
			for i := range deltas {
				deltas[i] = int64(10 * i)
			}
			deltas[50], deltas[80] = 3000, 3000
			h.append(batch(spec{n: 100, baseTs: 2000, tsDeltas: deltas, valueSize: 200, compression: c.codec, xerial: c.xerial}))
			// Offsets 105-109: compressed, ts 6000-6040.
			h.append(batch(spec{n: 5, baseTs: 6000, tsStep: 10, compression: c.codec, xerial: c.xerial}))
			tests := []struct {
				ts, off, wantTs int64
				found           bool
			}{
				{0, 0, 1000, true},
				{1041, 5, 2000, true},
				{2000, 5, 2000, true},
				{2001, 6, 2010, true},
				{2400, 45, 2400, true},
				{2491, 55, 5000, true}, // first record >= ts, not the first with a larger offset
				{2500, 55, 5000, true},
				{2510, 55, 5000, true},
				{5000, 55, 5000, true},
				{5001, 105, 6000, true},
				{6015, 107, 6020, true},
				{6040, 109, 6040, true},
				{6041, 0, 0, false},
			}
			check := func(when string) {
				t.Helper()
				for _, tc := range tests {
					off, ts, found, err := h.log.OffsetForTimestamp(tc.ts)
					if err != nil || found != tc.found || (found && (off != tc.off || ts != tc.wantTs)) {
						t.Errorf("%s: OffsetForTimestamp(%d) = %d, %d, %v, %v; want %d, %d, %v",
							when, tc.ts, off, ts, found, err, tc.off, tc.wantTs, tc.found)
					}
				}
				if off, ts, ok := h.log.MaxTimestamp(); !ok || off != 109 || ts != 6040 {
					t.Errorf("%s: MaxTimestamp = %d, %d, %v; want 109, 6040", when, off, ts, ok)
				}
			}
			check("active segment")
			h.reopen() // indexes from the files
			check("after reopen")

			// The log start offset inside a compressed batch.
			if _, err := h.log.DeleteRecordsBefore(60); err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct{ ts, off, wantTs int64 }{
				{0, 60, 2550}, {2491, 60, 2550}, {2900, 85, 5000}, {5001, 105, 6000},
			} {
				if off, ts, ok, err := h.log.OffsetForTimestamp(tc.ts); err != nil || !ok || off != tc.off || ts != tc.wantTs {
					t.Errorf("after DeleteRecords: OffsetForTimestamp(%d) = %d, %d, %v, %v; want %d, %d",
						tc.ts, off, ts, ok, err, tc.off, tc.wantTs)
				}
			}
		})
	}
}

// TestMaxTimestampCompressed: the first record carrying the largest timestamp,
// inside a compressed batch.
func TestMaxTimestampCompressed(t *testing.T) {
	for _, c := range codecs {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, smallConfig())
			h.append(batch(spec{n: 3, baseTs: 1000, tsStep: 10}))
			// Offsets 3-12: record 4 (offset 7) and record 8 (offset 11) have the max.
			h.append(batch(spec{n: 10, baseTs: 2000, tsDeltas: []int64{0, 1, 2, 3, 900, 5, 6, 7, 900, 9}, compression: c.codec, xerial: c.xerial}))
			h.append(batch(spec{n: 3, baseTs: 1500, tsStep: 1, compression: c.codec, xerial: c.xerial}))
			for _, when := range []string{"active", "reopened"} {
				if off, ts, ok := h.log.MaxTimestamp(); !ok || off != 7 || ts != 2900 {
					t.Errorf("%s: MaxTimestamp = %d, %d, %v; want 7, 2900", when, off, ts, ok)
				}
				h.reopen()
			}
		})
	}
}

// TestLogAppendTimeCompressed: every record of a LogAppendTime batch has the
// batch's timestamp, so lookups answer with its first record.
func TestLogAppendTimeCompressed(t *testing.T) {
	h := newHarness(t, Config{})
	h.append(batch(spec{n: 2, baseTs: 10}))
	recs := batch(spec{n: 4, baseTs: 10, tsStep: 1, compression: codec.Zstd})
	hdrs, _ := ValidateBatches(recs, 0)
	if _, err := h.log.Append(recs, hdrs, AppendOptions{LogAppendTime: true, Now: time.UnixMilli(5000)}); err != nil {
		t.Fatal(err)
	}
	if off, ts, ok, err := h.log.OffsetForTimestamp(11); err != nil || !ok || off != 2 || ts != 5000 {
		t.Errorf("OffsetForTimestamp = %d %d %v %v; want 2, 5000", off, ts, ok, err)
	}
	if off, ts, ok := h.log.MaxTimestamp(); !ok || off != 2 || ts != 5000 {
		t.Errorf("MaxTimestamp = %d %d %v; want 2, 5000", off, ts, ok)
	}
}

// corruptRecords returns a batch (valid CRC) with codec in its attributes and
// body as its records section.
func corruptRecords(n int, codec int8, body []byte) []byte {
	b := batch(spec{n: n, baseTs: 1000, tsStep: 10})
	b = append(b[:BatchHeaderSize], body...)
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-batchLengthOverhead))
	binary.BigEndian.PutUint16(b[attrOffset:], uint16(codec))
	fixCRC(b)
	return b
}

// TestCorruptCompressedBatch: a batch whose records cannot be decompressed
// (the CRC is good: the producer sent garbage) fails the lookup with
// ErrCorruptBatch; MaxTimestamp falls back to the batch's last offset.
func TestCorruptCompressedBatch(t *testing.T) {
	for _, c := range codecs[1:] {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.append(batch(spec{n: 2, baseTs: 100}))
			h.append(corruptRecords(3, c.codec, []byte("definitely not compressed data, not at all")))
			if off, _, ok, err := h.log.OffsetForTimestamp(100); err != nil || !ok || off != 0 {
				t.Errorf("before the bad batch: %d %v %v", off, ok, err)
			}
			if _, _, _, err := h.log.OffsetForTimestamp(1005); !errors.Is(err, ErrCorruptBatch) {
				t.Errorf("in the bad batch: err = %v, want ErrCorruptBatch", err)
			}
			if off, ts, ok := h.log.MaxTimestamp(); !ok || off != 4 || ts != 1020 {
				t.Errorf("MaxTimestamp = %d %d %v; want 4, 1020", off, ts, ok)
			}
		})
	}
	// Records that end early, or an offset delta outside the batch.
	good := batch(spec{n: 3, baseTs: 1000, tsStep: 10})
	short := corruptRecords(3, codec.None, good[BatchHeaderSize:len(good)-5])
	r := batch(spec{n: 3, baseTs: 1000, tsStep: 10})
	// First record: length, attributes, timestampDelta 0, offsetDelta 0 at byte 3.
	r[BatchHeaderSize+3] = 0x10 // offsetDelta 8
	fixCRC(r)
	for name, b := range map[string][]byte{"short": short, "offset delta": r} {
		h, _ := ParseBatchHeader(b)
		if _, _, err := recordAtTimestamp(b, h, 1015, 0); !errors.Is(err, ErrCorruptBatch) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// TestDecompressionBomb: a batch that claims to decompress to more than
// MaxDecompressedBatch fails without allocating it.
func TestDecompressionBomb(t *testing.T) {
	// A snappy block whose length header claims 1 GiB.
	bomb := binary.AppendUvarint(nil, 1<<30)
	bomb = append(bomb, 0)
	b := corruptRecords(1, codec.Snappy, bomb)
	h, _ := ParseBatchHeader(b)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := recordAtTimestamp(b, h, 0, 0)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrCorruptBatch) || !errors.Is(err, codec.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrCorruptBatch and ErrTooLarge", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Fatalf("allocated %d bytes", got)
	}
}

// FuzzCompressedRecords puts arbitrary bytes in the records section of a
// batch with each codec: lookups give an answer inside the batch or an
// error, never a panic or a huge allocation.
func FuzzCompressedRecords(f *testing.F) {
	for _, c := range codecs {
		b := batch(spec{n: 4, baseTs: 1000, tsDeltas: []int64{0, 30, 10, 20}, compression: c.codec, xerial: c.xerial})
		f.Add(uint8(c.codec), uint8(4), b[BatchHeaderSize:])
	}
	f.Add(uint8(codec.Snappy), uint8(1), []byte("\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x05\xff\xff\xff\xff\x0f"))
	f.Add(uint8(codec.Zstd), uint8(1), []byte("\x28\xb5\x2f\xfd\xe4\xff\xff\xff\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, c, n uint8, body []byte) {
		b := corruptRecords(int(n%8)+1, int8(c%8), body)
		h, _ := ParseBatchHeader(b)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r, ok, err := recordAtTimestamp(b, h, 1015, 0)
		off, okMax, errMax := offsetOfMaxTimestamp(b, h)
		runtime.ReadMemStats(&after)
		if ok && (err != nil || r.offset < h.BaseOffset || r.offset > h.LastOffset() || r.timestamp < 1015) {
			t.Fatalf("recordAtTimestamp = %+v, %v", r, err)
		}
		if !ok && err != nil && !errors.Is(err, ErrCorruptBatch) {
			t.Fatalf("error not ErrCorruptBatch: %v", err)
		}
		if okMax && (errMax != nil || off < h.BaseOffset || off > h.LastOffset()) {
			t.Fatalf("offsetOfMaxTimestamp = %d, %v", off, errMax)
		}
		// Decoders and buffers are reused, so this bounds the worst case:
		// at most MaxDecompressedBatch plus decoder state.
		if got := after.TotalAlloc - before.TotalAlloc; got > 2*MaxDecompressedBatch+(32<<20) {
			t.Fatalf("allocated %d MiB", got>>20)
		}
	})
}

// BenchmarkOffsetForTimestampCompressed looks up the last record of a log of
// one 1 MiB (uncompressed) batch: the worst case, decompressing all of it.
func BenchmarkOffsetForTimestampCompressed(b *testing.B) {
	for _, c := range codecs {
		b.Run(c.name, func(b *testing.B) {
			l, err := Open(b.TempDir(), Config{}, Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			// 1024 records of 1 KiB, half random bytes (compressible ~2:1).
			rng := rand.New(rand.NewPCG(1, 2))
			value := func(int) []byte {
				v := make([]byte, 1000)
				for i := range 500 {
					v[i] = byte(rng.Uint32())
				}
				return v
			}
			recs := batch(spec{n: 1024, baseTs: 1000, tsStep: 1, value: value, compression: c.codec, xerial: c.xerial})
			hdrs, _ := ValidateBatches(recs, 0)
			if _, err := l.Append(recs, hdrs, AppendOptions{}); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(recs)), "batch-bytes")
			b.ResetTimer()
			for range b.N {
				off, _, ok, err := l.OffsetForTimestamp(1000 + 1023)
				if err != nil || !ok || off != 1023 {
					b.Fatal(fmt.Sprint(off, ok, err))
				}
			}
		})
	}
}
