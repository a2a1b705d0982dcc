package log

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/weirhq/weir/internal/vfs"
)

// sliceBytes reads what a FileSlice stands for, as sendfile would send it.
func sliceBytes(t *testing.T, sl *FileSlice) []byte {
	t.Helper()
	b := make([]byte, sl.Len())
	if _, err := sl.File().ReadAt(b, sl.Offset()); err != nil {
		t.Fatalf("read slice: %v", err)
	}
	return b
}

// ReadSlice finds exactly the bytes Read returns, for every offset, byte
// limit, upper offset and minOneBatch, across segment rolls.
func TestReadSliceMatchesRead(t *testing.T) {
	h := newHarness(t, smallConfig())
	rng := rand.New(rand.NewPCG(1, 2))
	for range 120 {
		h.append(batch(spec{n: 1 + rng.IntN(4), valueSize: 10 + rng.IntN(600)}))
	}
	if h.log.NumSegments() < 5 {
		t.Fatalf("%d segments, want several", h.log.NumSegments())
	}
	leo := h.log.LogEndOffset()
	for off := int64(0); off <= leo; off++ {
		for _, maxBytes := range []int{0, 1, 100, 700, 1500, 3000, 5000, 1 << 20} {
			for _, maxOffset := range []int64{leo, off + 1, off + 5, leo / 2} {
				for _, minOne := range []bool{false, true} {
					want, werr := h.log.Read(off, maxBytes, maxOffset, minOne)
					sl, err := h.log.ReadSlice(off, maxBytes, maxOffset, minOne)
					if !errors.Is(err, werr) {
						t.Fatalf("ReadSlice(%d, %d, %d, %v): err %v, Read's %v", off, maxBytes, maxOffset, minOne, err, werr)
					}
					var got []byte
					if sl != nil {
						got = sliceBytes(t, sl)
						if !sl.Intact() {
							t.Fatal("slice not intact with no truncation")
						}
						sl.Release()
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("ReadSlice(%d, %d, %d, %v): %d bytes, Read %d", off, maxBytes, maxOffset, minOne, len(got), len(want))
					}
					ReleaseRead(want)
				}
			}
		}
	}
	if _, err := h.log.ReadSlice(leo+1, 100, leo, true); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("past the end: %v", err)
	}
}

// A slice keeps its file open and on disk through retention deleting its
// segment and the file cache evicting: its bytes are still the batches.
func TestReadSliceOutlivesDeletion(t *testing.T) {
	h := newHarness(t, smallConfig())
	h.files = NewFileCache(1)
	h.reopen()
	for range 40 {
		h.append(batch(spec{n: 2, valueSize: 300}))
	}
	want, err := h.log.Read(0, 1<<20, 1<<62, true)
	if err != nil {
		t.Fatal(err)
	}
	sl, err := h.log.ReadSlice(0, 1<<20, 1<<62, true)
	if err != nil || sl == nil {
		t.Fatalf("ReadSlice: %v", err)
	}
	path := sl.File().Name()
	if _, err := h.log.DeleteRecordsBefore(h.log.LogEndOffset() - 1); err != nil {
		t.Fatal(err)
	}
	h.log.EnforceRetention(h.clock.Now())
	// Other segments' reads churn the one-file cache.
	h.readAll(h.log.LogStartOffset())
	if !bytes.Equal(sliceBytes(t, sl), want) || !sl.Intact() {
		t.Fatal("a pinned slice's bytes changed after its segment was deleted")
	}
	if _, err := os.Stat(path); !vfs.IsNotExist(err) {
		t.Fatalf("deleted segment's file still under its old name: %v", err)
	}
	sl.Release()
	sl.Release() // harmless
	if left := h.segmentFiles(deletedSuffix); len(left) != 0 {
		t.Fatalf("deleted segments' files kept after the last release: %v", left)
	}
}

// A truncation makes slices made before it not intact; one made after is.
func TestReadSliceTruncation(t *testing.T) {
	h := newHarness(t, Config{SegmentBytes: 1 << 20, IndexIntervalBytes: 256, RetentionMs: -1, RetentionBytes: -1})
	for range 20 {
		h.append(batch(spec{n: 2, valueSize: 100}))
	}
	before, err := h.log.ReadSlice(10, 1<<20, 1<<62, true)
	if err != nil || before == nil {
		t.Fatalf("ReadSlice: %v", err)
	}
	defer before.Release()
	if err := h.log.Truncate(20); err != nil {
		t.Fatal(err)
	}
	if before.Intact() {
		t.Fatal("a slice over truncated bytes says it is intact")
	}
	after, err := h.log.ReadSlice(10, 1<<20, 1<<62, true)
	if err != nil || after == nil {
		t.Fatalf("ReadSlice after truncation: %v", err)
	}
	defer after.Release()
	want, _ := h.log.Read(10, 1<<20, 1<<62, true)
	if !after.Intact() || !bytes.Equal(sliceBytes(t, after), want) {
		t.Fatal("a slice made after the truncation is wrong")
	}
	if err := h.log.TruncateFullyAndStartAt(0); err != nil {
		t.Fatal(err)
	}
	if after.Intact() {
		t.Fatal("a slice of a segment emptied in place says it is intact")
	}
}

// Logs not on the disk filesystem have no file to send from.
func TestReadSliceNotOnDisk(t *testing.T) {
	h := &harness{t: t, dir: "/mem/topic-0", cfg: smallConfig(), clock: newClock(), fs: vfs.NewMem()}
	h.open()
	defer h.log.Close()
	h.append(batch(spec{n: 2, valueSize: 100}))
	if _, err := h.log.ReadSlice(0, 1<<20, 1<<62, true); !errors.Is(err, ErrNoSlice) {
		t.Fatalf("ReadSlice on memory: %v, want ErrNoSlice", err)
	}
}
