package log

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestEpochCacheEndOffsetFor(t *testing.T) {
	c, err := OpenEpochCache(nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []EpochEntry{{0, 0}, {2, 40}, {5, 90}} {
		if err := c.Assign(e.Epoch, e.StartOffset); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		req       int32
		wantEpoch int32
		wantEnd   int64
	}{
		{0, 0, 40},
		{1, 0, 40}, // no epoch 1: the largest below is 0, ending where 2 began
		{2, 2, 90},
		{4, 2, 90},
		{5, 5, 120}, // the latest epoch ends at the log end
		{6, -1, -1},
		{-1, -1, -1},
	} {
		e, off := c.EndOffsetFor(tc.req, 120)
		if e != tc.wantEpoch || off != tc.wantEnd {
			t.Errorf("EndOffsetFor(%d) = (%d, %d), want (%d, %d)", tc.req, e, off, tc.wantEpoch, tc.wantEnd)
		}
	}
}

func TestEpochCacheAssignTruncateAndReload(t *testing.T) {
	dir := t.TempDir()
	c, _ := OpenEpochCache(nil, dir)
	c.Assign(1, 0)
	c.Assign(1, 10) // same epoch later: no change
	c.Assign(3, 50)
	c.Assign(4, 80)
	if err := c.TruncateFromEnd(80); err != nil {
		t.Fatal(err)
	}
	want := []EpochEntry{{1, 0}, {3, 50}}
	if got := c.Entries(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after TruncateFromEnd(80): %v, want %v", got, want)
	}
	// A new epoch that starts before an existing entry replaces it.
	c.Assign(4, 45)
	want = []EpochEntry{{1, 0}, {4, 45}}
	if got := c.Entries(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after Assign(4,45): %v, want %v", got, want)
	}
	c.TruncateFromStart(20)
	want = []EpochEntry{{1, 20}, {4, 45}}
	if got := c.Entries(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after TruncateFromStart(20): %v, want %v", got, want)
	}
	re, err := OpenEpochCache(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := re.Entries(); !reflect.DeepEqual(got, want) {
		t.Fatalf("reloaded %v, want %v", got, want)
	}
}

func TestEpochCacheRejectsCorruptCheckpoint(t *testing.T) {
	for _, content := range []string{"1\n0\n", "0\nx\n", "0\n2\n0 0\n", "0\n1\n0 zz\n"} {
		if _, err := parseEpochCheckpoint([]byte(content)); err == nil {
			t.Errorf("%q parsed", content)
		}
	}
}

// The log records each batch's leader epoch as it is appended, forgets
// epochs past a truncation, and rebuilds the checkpoint when it is lost.
func TestLogTracksLeaderEpochs(t *testing.T) {
	h := newHarness(t, Config{})
	for _, e := range []int32{0, 0, 2, 2, 5} {
		recs := batch(spec{n: 3})
		hdrs, err := ValidateBatches(recs, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.log.Append(recs, hdrs, AppendOptions{LeaderEpoch: e, Now: h.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	// Offsets: epoch 0 → 0..5, epoch 2 → 6..11, epoch 5 → 12..14.
	want := []EpochEntry{{0, 0}, {2, 6}, {5, 12}}
	if got := h.log.epochs.Entries(); !reflect.DeepEqual(got, want) {
		t.Fatalf("epochs %v, want %v", got, want)
	}
	if e, off := h.log.EndOffsetForEpoch(2); e != 2 || off != 12 {
		t.Fatalf("EndOffsetForEpoch(2) = %d,%d", e, off)
	}
	if err := h.log.Truncate(9); err != nil {
		t.Fatal(err)
	}
	if e, off := h.log.EndOffsetForEpoch(5); e != -1 || off != -1 {
		t.Fatalf("epoch 5 survived truncation below its start: %d,%d", e, off)
	}
	h.log.Close()
	os.Remove(filepath.Join(h.dir, EpochCacheFile))
	h.open()
	want = []EpochEntry{{0, 0}, {2, 6}}
	if got := h.log.epochs.Entries(); !reflect.DeepEqual(got, want) {
		t.Fatalf("rebuilt epochs %v, want %v", got, want)
	}
}
