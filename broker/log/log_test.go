package log

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/weirhq/weir/internal/vfs"
)

func TestAppendReadAcrossRolls(t *testing.T) {
	h := newHarness(t, smallConfig())
	var want [][]byte
	for i := range 40 {
		b := batch(spec{n: 1 + i%4, valueSize: 100})
		info := h.append(b)
		if info.FirstOffset != int64(sumRecords(want)) || info.LogAppendTime != -1 {
			t.Fatalf("batch %d: info %+v", i, info)
		}
		want = append(want, b)
	}
	if h.log.NumSegments() < 3 {
		t.Fatalf("%d segments, want several rolls", h.log.NumSegments())
	}
	if h.log.LogEndOffset() != int64(sumRecords(want)) {
		t.Fatalf("LEO %d", h.log.LogEndOffset())
	}
	got := h.readAll(0)
	if len(got) != len(want) {
		t.Fatalf("read %d batches, want %d", len(got), len(want))
	}
	var size int64
	for i, g := range got {
		if g.PartitionLeaderEpoch != 7 || g.NumRecords != int32(1+i%4) {
			t.Fatalf("batch %d: %+v", i, g)
		}
		size += int64(g.TotalSize())
	}
	if h.log.Size() != size {
		t.Fatalf("Size %d, want %d", h.log.Size(), size)
	}
	// Every offset reads from the batch that contains it.
	for off := int64(0); off < h.log.LogEndOffset(); off++ {
		b, err := h.log.Read(off, 1, 1<<62, true)
		if err != nil {
			t.Fatal(err)
		}
		hd, _ := ParseBatchHeader(b)
		if off < hd.BaseOffset || off > hd.LastOffset() || len(b) != hd.TotalSize() {
			t.Fatalf("read %d gave batch %d-%d", off, hd.BaseOffset, hd.LastOffset())
		}
	}
	// The bytes survive a reopen.
	h.reopen()
	if got2 := h.readAll(0); len(got2) != len(got) {
		t.Fatalf("after reopen read %d batches", len(got2))
	}
}

func sumRecords(bs [][]byte) int {
	n := 0
	for _, b := range bs {
		hd, _ := ParseBatchHeader(b)
		n += int(hd.NumRecords)
	}
	return n
}

func TestReadBounds(t *testing.T) {
	h := newHarness(t, Config{})
	b := batch(spec{n: 2, valueSize: 100}) // offsets 0-1
	size := len(b)
	for range 5 {
		h.append(batch(spec{n: 2, valueSize: 100}))
	}
	tests := []struct {
		name        string
		offset      int64
		maxBytes    int
		maxOffset   int64
		minOne      bool
		wantBatches int
		err         error
	}{
		{"all", 0, 1 << 20, 1 << 62, false, 5, nil},
		{"max bytes cuts at whole batches", 0, 2*size + 10, 1 << 62, false, 2, nil},
		{"mid batch offset", 3, 1 << 20, 1 << 62, false, 4, nil},
		{"first batch larger than maxBytes", 0, 10, 1 << 62, false, 0, nil},
		{"min one batch", 0, 10, 1 << 62, true, 1, nil},
		{"max offset", 0, 1 << 20, 6, false, 3, nil},
		{"max offset mid batch", 0, 1 << 20, 5, false, 3, nil},
		{"at max offset", 6, 1 << 20, 6, true, 0, nil},
		{"at log end", 10, 1 << 20, 1 << 62, true, 0, nil},
		{"past log end", 11, 1 << 20, 1 << 62, true, 0, ErrOffsetOutOfRange},
		{"negative", -1, 1 << 20, 1 << 62, true, 0, ErrOffsetOutOfRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := h.log.Read(tc.offset, tc.maxBytes, tc.maxOffset, tc.minOne)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if tc.wantBatches == 0 {
				if got != nil {
					t.Fatalf("got %d bytes, want nil", len(got))
				}
				return
			}
			hdrs, err := ValidateBatches(got, 0)
			if err != nil || len(hdrs) != tc.wantBatches {
				t.Fatalf("got %d batches (%v), want %d", len(hdrs), err, tc.wantBatches)
			}
		})
	}
}

func TestReadBelowLogStart(t *testing.T) {
	h := newHarness(t, smallConfig())
	for range 30 {
		h.append(batch(spec{valueSize: 200}))
	}
	if _, err := h.log.DeleteRecordsBefore(10); err != nil {
		t.Fatal(err)
	}
	if _, err := h.log.Read(9, 1<<20, 1<<62, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below start: %v", err)
	}
	got := h.readAll(10)
	if got[0].BaseOffset != 10 || len(got) != 20 {
		t.Fatalf("read from start: first %d, %d batches", got[0].BaseOffset, len(got))
	}
}

func TestAppendPatchesOnlyOffsetAndEpoch(t *testing.T) {
	h := newHarness(t, Config{})
	h.append(batch(spec{n: 3}))
	orig := batch(spec{n: 2, valueSize: 5})
	recs := bytes.Clone(orig)
	hdrs, _ := ValidateBatches(recs, 0)
	info, err := h.log.Append(recs, hdrs, AppendOptions{LeaderEpoch: 9, Now: h.clock.Now()})
	if err != nil || info.FirstOffset != 3 || info.LastOffset != 4 {
		t.Fatalf("info %+v, err %v", info, err)
	}
	got, _ := h.log.Read(3, 1<<20, 1<<62, true)
	if !bytes.Equal(got[21:], orig[21:]) || !bytes.Equal(got[8:12], orig[8:12]) || got[16] != 2 {
		t.Fatal("bytes other than baseOffset and partitionLeaderEpoch changed")
	}
	hd, _ := ParseBatchHeader(got)
	if hd.BaseOffset != 3 || hd.PartitionLeaderEpoch != 9 {
		t.Fatalf("header %+v", hd)
	}
}

func TestLogAppendTime(t *testing.T) {
	h := newHarness(t, Config{})
	recs := batch(spec{n: 2, baseTs: 10})
	hdrs, _ := ValidateBatches(recs, 0)
	now := time.UnixMilli(1_234_567)
	info, err := h.log.Append(recs, hdrs, AppendOptions{LogAppendTime: true, Now: now})
	if err != nil || info.LogAppendTime != 1_234_567 {
		t.Fatalf("info %+v, err %v", info, err)
	}
	got, _ := h.log.Read(0, 1<<20, 1<<62, true)
	hd, err := ValidateBatches(got, 0) // the CRC was recomputed
	if err != nil || !hd[0].LogAppendTime() || hd[0].MaxTimestamp != 1_234_567 {
		t.Fatalf("%+v %v", hd, err)
	}
	// Every record has the append time: the first one answers (Kafka 3.8+).
	if off, ts, ok := h.log.MaxTimestamp(); !ok || off != 0 || ts != 1_234_567 {
		t.Fatalf("MaxTimestamp = %d %d %v", off, ts, ok)
	}
}

func TestAppendRejectsMismatchedHeaders(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := batch(spec{}), batch(spec{n: 2})
	hdrs, _ := ValidateBatches(a, 0)
	if _, err := h.log.Append(b, hdrs, AppendOptions{}); !errors.Is(err, ErrCorruptBatch) {
		t.Fatalf("err = %v", err)
	}
	if _, err := h.log.Append(concat(a, a), hdrs, AppendOptions{}); !errors.Is(err, ErrCorruptBatch) {
		t.Fatalf("err = %v", err)
	}
}

func TestOffsetForTimestamp(t *testing.T) {
	h := newHarness(t, smallConfig())
	// 20 batches of 5 records; record i of batch j has timestamp 1000+100j+10i.
	for j := range 20 {
		h.append(batch(spec{n: 5, baseTs: int64(1000 + 100*j), tsStep: 10, valueSize: 50}))
	}
	tests := []struct {
		ts     int64
		off    int64
		wantTs int64
		found  bool
	}{
		{0, 0, 1000, true},
		{1000, 0, 1000, true},
		{1001, 1, 1010, true},
		{1040, 4, 1040, true},
		{1041, 5, 1100, true},
		{1555, 30, 1600, true},
		{1525, 28, 1530, true},
		{2940, 99, 2940, true},
		{2941, 0, 0, false},
	}
	for _, tc := range tests {
		off, ts, found, err := h.log.OffsetForTimestamp(tc.ts)
		if err != nil || found != tc.found || (found && (off != tc.off || ts != tc.wantTs)) {
			t.Errorf("OffsetForTimestamp(%d) = %d, %d, %v, %v; want %d, %d, %v", tc.ts, off, ts, found, err, tc.off, tc.wantTs, tc.found)
		}
	}
	if off, ts, ok := h.log.MaxTimestamp(); !ok || ts != 2940 || off != 99 {
		t.Errorf("MaxTimestamp = %d, %d, %v", off, ts, ok)
	}
	// Compressed batches answer with the exact record too.
	b := batch(spec{n: 5, baseTs: 5000, tsStep: 10, compression: 4})
	h.append(b)
	if off, ts, ok, _ := h.log.OffsetForTimestamp(5015); !ok || off != 102 || ts != 5020 {
		t.Errorf("compressed: %d %d %v", off, ts, ok)
	}
	// The answer respects the log start offset, and survives a reopen.
	h.log.DeleteRecordsBefore(52)
	h.reopen()
	if off, ts, ok, _ := h.log.OffsetForTimestamp(0); !ok || off != 52 || ts != 2020 {
		t.Errorf("after delete records: %d %d %v", off, ts, ok)
	}
}

func TestEmptyLog(t *testing.T) {
	h := newHarness(t, Config{})
	if b, err := h.log.Read(0, 100, 1<<62, true); b != nil || err != nil {
		t.Fatalf("read empty: %v %v", b, err)
	}
	if _, _, ok := h.log.MaxTimestamp(); ok {
		t.Fatal("MaxTimestamp found on empty log")
	}
	if _, _, ok, err := h.log.OffsetForTimestamp(0); ok || err != nil {
		t.Fatal("OffsetForTimestamp found on empty log")
	}
	h.reopen()
	if h.log.LogEndOffset() != 0 || h.log.NumSegments() != 1 {
		t.Fatal("empty log changed on reopen")
	}
}

func TestClosedLog(t *testing.T) {
	h := newHarness(t, Config{})
	h.append(batch(spec{}))
	h.log.Close()
	if _, err := h.log.Read(0, 100, 1<<62, true); !errors.Is(err, ErrClosed) {
		t.Fatalf("read: %v", err)
	}
	if _, err := h.tryAppend(batch(spec{})); !errors.Is(err, ErrClosed) {
		t.Fatalf("append: %v", err)
	}
	if err := h.log.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func TestDelete(t *testing.T) {
	h := newHarness(t, Config{})
	h.append(batch(spec{}))
	if err := h.log.Delete(); err != nil {
		t.Fatal(err)
	}
	if len(h.segmentFiles("")) != 0 {
		t.Fatal("files left")
	}
	h.log = nil
}

func recoveryPoint(l *Log) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.recoveryPoint
}

func TestFlushPolicy(t *testing.T) {
	h := newHarness(t, Config{FlushMessages: 5})
	h.append(batch(spec{n: 3}))
	if rp := recoveryPoint(h.log); rp != 0 {
		t.Fatalf("flushed after 3 of flush.messages=5: recovery point %d", rp)
	}
	h.append(batch(spec{n: 3}))
	if rp := recoveryPoint(h.log); rp != 6 {
		t.Fatalf("recovery point %d after 6 messages, want 6", rp)
	}
	cp, err := readCheckpoint(vfs.Default, h.dir)
	if err != nil || cp.recoveryPoint != 6 {
		t.Fatalf("checkpoint %+v %v", cp, err)
	}

	h2 := newHarness(t, Config{FlushMs: time.Second})
	h2.append(batch(spec{}))
	if rp := recoveryPoint(h2.log); rp != 0 {
		t.Fatalf("flushed before flush.ms: %d", rp)
	}
	h2.clock.Add(2 * time.Second)
	h2.append(batch(spec{}))
	if rp := recoveryPoint(h2.log); rp != 2 {
		t.Fatalf("recovery point %d after flush.ms, want 2", rp)
	}
}
