package log

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestReopenAfterClose(t *testing.T) {
	h := newHarness(t, smallConfig())
	for range 25 {
		h.append(batch(spec{n: 2, valueSize: 150, tsStep: 1}))
	}
	leo, segs, size := h.log.LogEndOffset(), h.log.NumSegments(), h.log.Size()
	h.reopen()
	if h.log.LogEndOffset() != leo || h.log.NumSegments() != segs || h.log.Size() != size {
		t.Fatalf("after reopen: leo %d segs %d size %d; want %d %d %d",
			h.log.LogEndOffset(), h.log.NumSegments(), h.log.Size(), leo, segs, size)
	}
	if info := h.append(batch(spec{})); info.FirstOffset != leo {
		t.Fatalf("append after reopen at %d, want %d", info.FirstOffset, leo)
	}
	if len(h.readAll(0)) != 26 {
		t.Fatal("lost batches")
	}
}

func TestRecoverTornTail(t *testing.T) {
	for _, interval := range []int{4096, 100} {
		t.Run(fmt.Sprint("index interval ", interval), func(t *testing.T) {
			testRecoverTornTail(t, Config{IndexIntervalBytes: interval})
		})
	}
}

func testRecoverTornTail(t *testing.T, cfg Config) {
	h := newHarness(t, cfg)
	for range 10 {
		h.append(batch(spec{n: 3, valueSize: 40}))
	}
	h.log.Flush() // the recovery point is now 30; the torn batch lies after it
	h.append(batch(spec{n: 3, valueSize: 40}))
	l := h.crash()
	_ = l
	seg := filepath.Join(h.dir, "00000000000000000000.log")
	full := fileSize(t, seg)
	h.log.Close()
	if err := os.Truncate(seg, full-20); err != nil {
		t.Fatal(err)
	}
	h.open()
	if h.log.LogEndOffset() != 30 {
		t.Fatalf("LEO after torn tail = %d, want 30", h.log.LogEndOffset())
	}
	if info := h.append(batch(spec{})); info.FirstOffset != 30 {
		t.Fatalf("append continues at %d", info.FirstOffset)
	}
	if got := h.readAll(0); len(got) != 11 || got[10].BaseOffset != 30 {
		t.Fatalf("read %d batches after recovery", len(got))
	}
}

// crashed returns a harness whose log was abandoned without Close after n
// appends of 2-record batches.
func crashed(t *testing.T, cfg Config, n int) *harness {
	h := newHarness(t, cfg)
	for range n {
		h.append(batch(spec{n: 2, valueSize: 100}))
	}
	dst := filepath.Join(t.TempDir(), "crashed-0")
	copyDir(t, h.dir, dst)
	h.log.Close()
	h.log, h.dir = nil, dst
	return h
}

func TestRecoverWithoutCloseKeepsEverything(t *testing.T) {
	h := crashed(t, smallConfig(), 30)
	h.open()
	if h.log.LogEndOffset() != 60 || len(h.readAll(0)) != 30 {
		t.Fatalf("LEO %d after crash", h.log.LogEndOffset())
	}
}

func TestRecoverCorruptCRCMidSegment(t *testing.T) {
	h := crashed(t, Config{}, 10)
	seg := filepath.Join(h.dir, "00000000000000000000.log")
	b, _ := os.ReadFile(seg)
	size := len(b) / 10
	b[4*size+BatchHeaderSize+3] ^= 0xff // a record byte of the fifth batch
	os.WriteFile(seg, b, 0o644)
	os.Remove(filepath.Join(h.dir, checkpointFile)) // no recovery point: scan the active segment
	h.open()
	if h.log.LogEndOffset() != 8 || fileSize(t, seg) != int64(4*size) {
		t.Fatalf("LEO %d, size %d after corrupt CRC", h.log.LogEndOffset(), fileSize(t, seg))
	}
	if info := h.append(batch(spec{})); info.FirstOffset != 8 {
		t.Fatalf("append continues at %d", info.FirstOffset)
	}
}

func TestRecoverDropsSegmentsAfterCorruption(t *testing.T) {
	cfg := smallConfig()
	cfg.SegmentBytes = 2048
	h := crashed(t, cfg, 40)
	segs, _ := filepath.Glob(filepath.Join(h.dir, "*.log"))
	if len(segs) < 4 {
		t.Fatalf("only %d segments", len(segs))
	}
	// Checkpoint says nothing was flushed: recover everything. Corrupt the second segment.
	os.WriteFile(filepath.Join(h.dir, checkpointFile), encodeCheckpoint(checkpoint{0, 0}), 0o644)
	b, _ := os.ReadFile(segs[1])
	b[len(b)/2] ^= 0xff
	os.WriteFile(segs[1], b, 0o644)
	h.open()
	if h.log.NumSegments() != 2 {
		t.Fatalf("%d segments after recovery, want 2", h.log.NumSegments())
	}
	got := h.readAll(0)
	if last := got[len(got)-1].LastOffset(); last+1 != h.log.LogEndOffset() {
		t.Fatalf("last batch ends at %d, LEO %d", last, h.log.LogEndOffset())
	}
	if info := h.append(batch(spec{})); info.FirstOffset != h.log.LogEndOffset()-1 {
		t.Fatal("append does not continue at the end")
	}
}

func TestRebuildMissingAndCorruptIndexes(t *testing.T) {
	cfg := smallConfig()
	cfg.SegmentBytes = 2048
	h := newHarness(t, cfg)
	for range 40 {
		h.append(batch(spec{n: 2, valueSize: 60, tsStep: 5}))
	}
	want := h.readAll(0)
	h.log.Close()
	idx := h.segmentFiles(".index")
	os.Remove(idx[0])
	os.WriteFile(idx[1], []byte{1, 2, 3}, 0o644)
	tidx := h.segmentFiles(".timeindex")
	os.Remove(tidx[2])
	h.open()
	if got := h.readAll(0); len(got) != len(want) {
		t.Fatalf("read %d batches, want %d", len(got), len(want))
	}
	for _, p := range idx[:2] {
		if fileSize(t, p) == 0 {
			t.Errorf("%s not rebuilt", filepath.Base(p))
		}
	}
	if fileSize(t, tidx[2]) == 0 {
		t.Error("time index not rebuilt")
	}
	// A segment's index lookup must work: read the middle of segment 1.
	seg1 := h.log.segments()[1]
	if b, err := h.log.Read(seg1.base+3, 1, 1<<62, true); err != nil || len(b) == 0 {
		t.Fatalf("read in rebuilt segment: %v", err)
	}
	if _, ts, ok, _ := h.log.OffsetForTimestamp(1003); !ok || ts != 1005 {
		t.Fatalf("time lookup after rebuild: %d %v", ts, ok)
	}
}

func TestOpenRemovesStrayFiles(t *testing.T) {
	h := newHarness(t, Config{})
	h.append(batch(spec{}))
	h.log.Close()
	for _, name := range []string{"00000000000000000000.log.deleted", "00000000000000000005.log.cleaned",
		"00000000000000000000.log.swap", "00000000000000000099.index", "log.checkpoint.tmp"} {
		os.WriteFile(filepath.Join(h.dir, name), []byte("x"), 0o644)
	}
	h.open()
	entries, _ := os.ReadDir(h.dir)
	for _, e := range entries {
		if e.Name() == EpochCacheFile {
			continue
		}
		switch filepath.Ext(e.Name()) {
		case ".log", ".index", ".timeindex", ".snapshot", ".checkpoint":
			if e.Name() == "00000000000000000099.index" {
				t.Errorf("orphan index %s left", e.Name())
			}
		default:
			t.Errorf("stray %s left", e.Name())
		}
	}
}

func TestRecoverGarbageSegment(t *testing.T) {
	h := newHarness(t, Config{})
	h.log.Close()
	os.WriteFile(filepath.Join(h.dir, "00000000000000000000.log"), []byte("this is not a batch at all, not one bit of it, no sir"), 0o644)
	h.open()
	if h.log.LogEndOffset() != 0 || h.log.Size() != 0 {
		t.Fatalf("LEO %d size %d", h.log.LogEndOffset(), h.log.Size())
	}
	h.append(batch(spec{}))
}

func FuzzRecover(f *testing.F) {
	good := concat(batch(spec{n: 2}), batch(spec{n: 3, pid: 5}), batch(spec{}))
	f.Add(good, []byte{})
	f.Add(good[:len(good)-7], []byte{0, 0, 0, 1, 0, 0, 0, 0})
	f.Add([]byte("garbage"), []byte{1})
	f.Fuzz(func(t *testing.T, seg, idx []byte) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "00000000000000000000.log"), seg, 0o644)
		os.WriteFile(filepath.Join(dir, "00000000000000000000.index"), idx, 0o644)
		os.WriteFile(filepath.Join(dir, "00000000000000000000.timeindex"), idx, 0o644)
		l, err := Open(dir, Config{}, Options{})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer l.Close()
		for off := l.LogStartOffset(); off < l.LogEndOffset(); {
			b, err := l.Read(off, 1<<20, 1<<62, true)
			if err != nil || len(b) == 0 {
				t.Fatalf("read %d: %v", off, err)
			}
			hdrs, err := ValidateBatches(b, 0)
			if err != nil {
				t.Fatalf("recovered log serves bad batches: %v", err)
			}
			off = hdrs[len(hdrs)-1].LastOffset() + 1
		}
		b := batch(spec{})
		hdrs, _ := ValidateBatches(b, 0)
		if _, err := l.Append(b, hdrs, AppendOptions{}); err != nil {
			t.Fatalf("append after recovery: %v", err)
		}
	})
}

// TestCleanReopenTrustsFlushedData: after a clean shutdown only what follows
// the recovery point is checked, so damage below it (which a real disk would
// have reported) goes unnoticed, and the active segment is not rescanned.
func TestCleanReopenChecksOnlyAfterRecoveryPoint(t *testing.T) {
	h := newHarness(t, Config{IndexIntervalBytes: 100})
	for range 20 {
		h.append(batch(spec{n: 2, valueSize: 50, tsStep: 1}))
	}
	h.log.Close()
	seg := filepath.Join(h.dir, "00000000000000000000.log")
	b, _ := os.ReadFile(seg)
	b[len(b)/2] ^= 0xff
	os.WriteFile(seg, b, 0o644)
	h.open()
	if h.log.LogEndOffset() != 40 {
		t.Fatalf("LEO %d: flushed data was rescanned", h.log.LogEndOffset())
	}
	if _, ts, ok := h.log.MaxTimestamp(); !ok || ts != 1001 {
		t.Fatalf("max timestamp %d after reopen", ts)
	}
	if info := h.append(batch(spec{})); info.FirstOffset != 40 {
		t.Fatal("append after clean reopen")
	}
	// The index was kept and extended consistently.
	for off := int64(0); off < 41; off += 7 {
		if b, err := h.log.Read(off, 1, 1<<62, true); err != nil || len(b) == 0 {
			t.Fatalf("read %d: %v", off, err)
		}
	}
}

// TestRecoverPointsIntoBadIndex: an index entry of the recovery-point segment
// that points at garbage makes recovery rescan the whole segment.
func TestRecoverIndexPointsAtGarbage(t *testing.T) {
	h := newHarness(t, Config{IndexIntervalBytes: 100})
	for range 20 {
		h.append(batch(spec{n: 2, valueSize: 50}))
	}
	h.log.Close()
	idx, _ := os.ReadFile(filepath.Join(h.dir, "00000000000000000000.index"))
	// Keep the entries valid-looking but move the last one's batch: overwrite
	// the batch header it points at with zeros.
	last := int64(binary.BigEndian.Uint32(idx[len(idx)-4:]))
	f, _ := os.OpenFile(filepath.Join(h.dir, "00000000000000000000.log"), os.O_RDWR, 0)
	f.WriteAt(make([]byte, 20), last)
	f.Close()
	h.open()
	if h.log.LogEndOffset() >= 40 || len(h.readAll(0)) == 0 {
		t.Fatalf("LEO %d: bad batch not cut", h.log.LogEndOffset())
	}
	h.append(batch(spec{}))
}
