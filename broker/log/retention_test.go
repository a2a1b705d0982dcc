package log

import (
	"errors"
	"testing"
	"time"
)

func TestRetentionByTime(t *testing.T) {
	cfg := smallConfig()
	cfg.RetentionMs = time.Hour
	h := newHarness(t, cfg)
	now := h.clock.Now().UnixMilli()
	// Old records: timestamps two hours ago; then fresh ones.
	for range 20 {
		h.append(batch(spec{valueSize: 300, baseTs: now - 2*time.Hour.Milliseconds()}))
	}
	oldSegs := h.log.NumSegments() - 1 // the active one holds old records too
	h.log.MaybeRoll(h.clock.Now())     // not expired by segment.ms: no roll
	for range 20 {
		h.append(batch(spec{valueSize: 300, baseTs: now}))
	}
	n, err := h.log.EnforceRetention(h.clock.Now())
	if err != nil || n != oldSegs+1 && n != oldSegs {
		t.Fatalf("deleted %d segments (%v), want about %d", n, err, oldSegs)
	}
	first := h.log.segments()[0]
	if h.log.LogStartOffset() != first.base {
		t.Fatalf("log start %d, first segment %d", h.log.LogStartOffset(), first.base)
	}
	if _, err := h.log.Read(0, 100, 1<<62, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read deleted offset: %v", err)
	}
	// Deleted files are gone; the remaining records are old only in the future.
	if len(h.segmentFiles(".deleted")) != 0 {
		t.Fatal(".deleted files left")
	}
	if n, _ := h.log.EnforceRetention(h.clock.Now()); n != 0 {
		t.Fatalf("second pass deleted %d", n)
	}
	h.clock.Add(2 * time.Hour)
	n, _ = h.log.EnforceRetention(h.clock.Now())
	if h.log.NumSegments() != 1 || n == 0 {
		t.Fatalf("%d segments left after everything expired; the active one stays", h.log.NumSegments())
	}
	h.reopen()
	if h.log.LogStartOffset() != h.log.segments()[0].base {
		t.Fatal("log start offset lost")
	}
}

func TestRetentionByBytes(t *testing.T) {
	cfg := smallConfig()
	cfg.RetentionBytes = 10000
	h := newHarness(t, cfg)
	for range 100 {
		h.append(batch(spec{valueSize: 200}))
	}
	if _, err := h.log.EnforceRetention(h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// Kafka's rule: delete a segment only if what is left is still >= retention.bytes.
	if h.log.Size() < 10000 || h.log.Size() >= 10000+4096 {
		t.Fatalf("size %d after retention.bytes=10000", h.log.Size())
	}
	var sum int64
	for _, s := range h.log.segments() {
		sum += s.size.Load()
	}
	if sum != h.log.Size() {
		t.Fatalf("Size %d, segments hold %d", h.log.Size(), sum)
	}
	if got := h.readAll(h.log.LogStartOffset()); got[len(got)-1].LastOffset() != 99 {
		t.Fatal("newest records lost")
	}
}

func TestDeleteRecordsBefore(t *testing.T) {
	h := newHarness(t, smallConfig())
	for range 50 {
		h.append(batch(spec{valueSize: 200}))
	}
	segs := h.log.NumSegments()
	start, err := h.log.DeleteRecordsBefore(23)
	if err != nil || start != 23 {
		t.Fatalf("start %d, %v", start, err)
	}
	if h.log.NumSegments() >= segs {
		t.Fatal("no segment deleted")
	}
	if h.log.segments()[0].base > 23 {
		t.Fatal("deleted the segment holding offset 23")
	}
	if _, err := h.log.DeleteRecordsBefore(51); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("past LEO: %v", err)
	}
	if start, _ := h.log.DeleteRecordsBefore(5); start != 23 {
		t.Fatalf("moving backwards gave %d", start)
	}
	h.reopen()
	if h.log.LogStartOffset() != 23 {
		t.Fatalf("log start %d after reopen", h.log.LogStartOffset())
	}
	h.crash()
	if h.log.LogStartOffset() != 23 {
		t.Fatalf("log start %d after crash", h.log.LogStartOffset())
	}
	// Up to the log end: everything but the (empty-of-readable) active segment goes.
	if start, err := h.log.DeleteRecordsBefore(50); err != nil || start != 50 {
		t.Fatal(err)
	}
	if b, err := h.log.Read(50, 100, 1<<62, true); b != nil || err != nil {
		t.Fatalf("read at end: %v", err)
	}
	if info := h.append(batch(spec{})); info.FirstOffset != 50 || info.LogStartOffset != 50 {
		t.Fatalf("append after delete: %+v", info)
	}
}

func TestRollBySegmentMs(t *testing.T) {
	cfg := Config{SegmentMs: time.Minute}
	h := newHarness(t, cfg)
	h.append(batch(spec{}))
	h.clock.Add(30 * time.Second)
	h.log.MaybeRoll(h.clock.Now())
	if h.log.NumSegments() != 1 {
		t.Fatal("rolled early")
	}
	h.clock.Add(31 * time.Second)
	if err := h.log.MaybeRoll(h.clock.Now()); err != nil || h.log.NumSegments() != 2 {
		t.Fatalf("no roll after segment.ms: %v", err)
	}
	h.log.MaybeRoll(h.clock.Now().Add(time.Hour))
	if h.log.NumSegments() != 2 {
		t.Fatal("rolled an empty segment")
	}
	// An append after segment.ms rolls first.
	h.append(batch(spec{}))
	h.clock.Add(2 * time.Minute)
	info := h.append(batch(spec{}))
	segs := h.log.segments()
	if len(segs) != 3 || segs[2].base != info.FirstOffset {
		t.Fatalf("%d segments, append at %d", len(segs), info.FirstOffset)
	}
	if len(h.segmentFiles(".snapshot")) > snapshotsKept {
		t.Fatalf("%d snapshots kept", len(h.segmentFiles(".snapshot")))
	}
}

func TestRollKeepsSegmentSize(t *testing.T) {
	h := newHarness(t, smallConfig())
	for range 60 {
		h.append(batch(spec{valueSize: 150}))
	}
	for _, s := range h.log.segments() {
		if s.size.Load() > 4096 {
			t.Fatalf("segment %d has %d bytes, segment.bytes is 4096", s.base, s.size.Load())
		}
	}
	if got := len(h.segmentFiles(".log")); got != h.log.NumSegments() {
		t.Fatalf("%d .log files for %d segments", got, h.log.NumSegments())
	}
}

func TestTruncate(t *testing.T) {
	h := newHarness(t, smallConfig())
	for i := range 40 {
		h.append(batch(spec{n: 2, valueSize: 100, pid: 1, seq: int32(2 * i)}))
	}
	if err := h.log.Truncate(31); err != nil { // mid batch: cut at 30
		t.Fatal(err)
	}
	if h.log.LogEndOffset() != 30 {
		t.Fatalf("LEO %d after truncate", h.log.LogEndOffset())
	}
	got := h.readAll(0)
	if len(got) != 15 || got[14].LastOffset() != 29 {
		t.Fatalf("%d batches after truncate", len(got))
	}
	// Producer state follows the truncation: the next sequence is 30.
	if _, err := h.tryAppend(batch(spec{n: 2, pid: 1, seq: 80})); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("stale sequence accepted: %v", err)
	}
	if info := h.append(batch(spec{n: 2, pid: 1, seq: 30})); info.FirstOffset != 30 {
		t.Fatalf("append after truncate at %d", info.FirstOffset)
	}
	h.reopen()
	if h.log.LogEndOffset() != 32 || len(h.readAll(0)) != 16 {
		t.Fatalf("reopen after truncate: LEO %d", h.log.LogEndOffset())
	}
	if err := h.log.Truncate(0); err != nil || h.log.LogEndOffset() != 0 || h.log.Size() != 0 {
		t.Fatalf("truncate to 0: %v, LEO %d", err, h.log.LogEndOffset())
	}
	h.append(batch(spec{}))
}
