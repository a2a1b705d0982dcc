package log

import (
	"slices"
	"testing"
	"time"
)

// TestLegacyOffsetsBefore: ListOffsets v0 at segment granularity, as
// Kafka 3.9's legacyFetchOffsetsBefore answers it: segment base offsets
// (at least the log start) at their files' modification times, then the
// log end offset now.
func TestLegacyOffsetsBefore(t *testing.T) {
	h, mem := newMemHarness(t, Config{SegmentBytes: 1 << 20, IndexIntervalBytes: 256, RetentionMs: -1, RetentionBytes: -1, SegmentMs: time.Millisecond})
	l := h.log
	if got, err := l.LegacyOffsetsBefore(legacyLatest, 5); err != nil || !slices.Equal(got, []int64{0}) {
		t.Fatalf("an empty log: %v %v, want [0] (its one empty segment's base)", got, err)
	}
	// Three segments: [0,4) [4,7) [7,9), their files last written at 100, 200, 300 s.
	for _, n := range []int{4, 3, 2} {
		h.append(batch(spec{n: n, valueSize: 4}))
		h.clock.Add(time.Second)
		if err := l.MaybeRoll(h.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	segs := l.segments()
	if len(segs) != 4 || segs[3].size.Load() != 0 {
		t.Fatalf("%d segments", len(segs))
	}
	// The active segment is empty: no log end offset entry but its base (9).
	for i, s := range segs {
		mtime := time.UnixMilli(int64(i+1) * 100_000)
		if err := mem.Chtimes(s.path(".log"), mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		ts     int64
		maxNum int
		want   []int64
	}{
		{legacyLatest, 10, []int64{9, 7, 4, 0}},
		{legacyLatest, 2, []int64{9, 7}},
		{legacyEarliest, 10, []int64{0}},
		{legacyEarliestLocal, 3, []int64{0}},
		{99_999, 10, []int64{}},            // before every segment
		{100_000, 10, []int64{0}},          // the first segment's time
		{250_000, 10, []int64{4, 0}},       // between the second and third
		{250_000, 1, []int64{4}},           // as many as asked for
		{1 << 50, 10, []int64{9, 7, 4, 0}}, // after every segment
		{-7, 10, []int64{}},                // an unknown negative timestamp: no segment is that old
		{legacyLatest, 0, []int64{}},
	} {
		if got, err := l.LegacyOffsetsBefore(c.ts, c.maxNum); err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ts %d max %d: %v %v, want %v", c.ts, c.maxNum, got, err, c.want)
		}
	}
	// Data in the last segment adds the log end offset at the present; the
	// log start offset replaces the bases below it.
	h.append(batch(spec{n: 1, valueSize: 4}))
	if _, err := l.DeleteRecordsBefore(5); err != nil {
		t.Fatal(err)
	}
	if got, err := l.LegacyOffsetsBefore(legacyLatest, 10); err != nil || !slices.Equal(got, []int64{10, 9, 7, 5}) {
		t.Errorf("latest: %v %v, want [10 9 7 5]", got, err)
	}
	if got, err := l.LegacyOffsetsBefore(h.clock.Now().UnixMilli(), 2); err != nil || !slices.Equal(got, []int64{10, 9}) {
		t.Errorf("now: %v %v, want [10 9]", got, err)
	}
}
