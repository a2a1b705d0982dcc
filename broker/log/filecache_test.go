package log

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/weirhq/weir/internal/vfs"
)

// openFDs counts the process's open descriptors (Linux only; -1 elsewhere).
func openFDs(t testing.TB) int {
	if runtime.GOOS != "linux" {
		return -1
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// cachedHarnesses opens n logs sharing fc under one temporary directory.
func cachedHarnesses(t *testing.T, n int, cfg Config, fc *FileCache) []*harness {
	root := t.TempDir()
	hs := make([]*harness, n)
	for i := range hs {
		h := &harness{t: t, dir: filepath.Join(root, fmt.Sprintf("topic-%d", i)), cfg: cfg, clock: newClock(), files: fc}
		h.open()
		hs[i] = h
	}
	t.Cleanup(func() {
		for _, h := range hs {
			if h.log != nil {
				h.log.Close()
			}
		}
	})
	return hs
}

// fdChecker fails the test when the cache, or the process, holds more
// files than the cap allows.
type fdChecker struct {
	t        *testing.T
	fc       *FileCache
	baseline int
	slack    int // descriptors beyond the cap a step may hold: the index file being written, a directory being synced
	peak     int64
}

func newFDChecker(t *testing.T, fc *FileCache) *fdChecker {
	return &fdChecker{t: t, fc: fc, baseline: openFDs(t) - int(fc.Stats().Open), slack: 3}
}

func (c *fdChecker) check(step string) {
	c.t.Helper()
	st := c.fc.Stats()
	c.peak = max(c.peak, st.Open)
	if st.Open > int64(st.Max) {
		c.t.Fatalf("%s: %d files open in the cache, cap %d", step, st.Open, st.Max)
	}
	if n := openFDs(c.t); n >= 0 && n > c.baseline+st.Max+c.slack {
		c.t.Fatalf("%s: %d descriptors open, baseline %d + cap %d + %d", step, n, c.baseline, st.Max, c.slack)
	}
}

// TestFileCacheBoundsOpenFiles runs 200 partitions through appends, rolls,
// reads, truncation, compaction, retention and a reopen with 8 files open
// at most, and checks every record reads back.
func TestFileCacheBoundsOpenFiles(t *testing.T) {
	const parts, cap = 200, 8
	fc := NewFileCache(cap)
	cfg := cleanConfig()
	hs := cachedHarnesses(t, parts, cfg, fc)
	fdc := newFDChecker(t, fc)
	ws := make([]*writer, parts)
	for i, h := range hs {
		ws[i] = newWriter(h, spec{}, 4)
	}
	for round := range 8 {
		for i, w := range ws {
			for k := range 4 {
				w.put(kv{key: fmt.Sprintf("k%d", k), value: fmt.Sprintf("p%d-r%d-%d", i, round, k)})
			}
			if round%2 == 1 {
				w.roll()
			}
		}
		fdc.check(fmt.Sprintf("append round %d", round))
	}
	for i, h := range hs {
		if h.log.NumSegments() < 3 {
			t.Fatalf("partition %d: %d segments, want rolls", i, h.log.NumSegments())
		}
		checkRecords(t, h.records(), ws[i].written)
	}
	fdc.check("read")

	// Truncation, then compaction and retention on some partitions.
	for i, h := range hs {
		w := ws[i]
		if i%5 == 0 {
			to := w.written[len(w.written)-8].offset // two whole batches
			if err := h.log.Truncate(to); err != nil {
				t.Fatal(err)
			}
			w.written = w.written[:len(w.written)-8]
		}
	}
	fdc.check("truncate")
	compacted := map[int]bool{}
	for i, h := range hs {
		w := ws[i]
		if i%3 == 0 {
			w.roll()
			h.clean(cleanOpts(h))
			compacted[i] = true
		}
	}
	fdc.check("clean")
	for i, h := range hs {
		want := ws[i].written
		if compacted[i] {
			want = latest(want, false)
		}
		checkRecords(t, h.records(), want)
	}
	for i, h := range hs {
		if i%7 == 0 {
			start := h.log.LogEndOffset() - 4
			if _, err := h.log.DeleteRecordsBefore(start); err != nil {
				t.Fatal(err)
			}
			if _, err := h.log.EnforceRetention(h.clock.Now()); err != nil {
				t.Fatal(err)
			}
			ws[i].written = recsFrom(ws[i].written, start)
		}
	}
	fdc.check("retention")

	// Everything reads back, also after a reopen through the same cache.
	check := func(step string) {
		for i, h := range hs {
			want := ws[i].written
			if compacted[i] {
				want = latest(want, false)
			}
			checkRecords(t, h.records(), recsFrom(want, h.log.LogStartOffset()))
		}
		fdc.check(step)
	}
	check("read after retention")
	for _, h := range hs {
		h.reopen()
	}
	check("read after reopen")
	st := fc.Stats()
	if st.Evictions == 0 || st.Misses == 0 {
		t.Fatalf("stats %+v: the cache never evicted", st)
	}
	t.Logf("peak open %d (cap %d), stats %+v", fdc.peak, cap, st)
	for _, h := range hs {
		if err := h.log.Close(); err != nil {
			t.Fatal(err)
		}
		h.log = nil
	}
	if n := fc.Stats().Open; n != 0 {
		t.Fatalf("%d files open after every log closed", n)
	}
}

func recsFrom(rs []rec, from int64) []rec {
	var out []rec
	for _, r := range rs {
		if r.offset >= from {
			out = append(out, r)
		}
	}
	return out
}

// TestFileCacheConcurrent appends, reads and flushes from several
// goroutines across logs sharing a tiny cache (run it with -race).
func TestFileCacheConcurrent(t *testing.T) {
	const parts, workers, appends = 40, 4, 30
	fc := NewFileCache(4)
	cfg := smallConfig()
	cfg.SegmentBytes = 1024
	hs := cachedHarnesses(t, parts, cfg, fc)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range appends {
				for i := w; i < parts; i += workers {
					l := hs[i].log
					b := batch(spec{n: 2, valueSize: 50})
					hdrs, _ := ValidateBatches(b, 0)
					if _, err := l.Append(b, hdrs, AppendOptions{Now: time.Now()}); err != nil {
						errs <- err
						return
					}
					if _, err := l.Read(l.LogStartOffset(), 1<<16, l.LogEndOffset(), true); err != nil {
						errs <- err
						return
					}
					if n%10 == 0 {
						if err := l.Flush(); err != nil {
							errs <- err
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, h := range hs {
		if got := len(h.readAll(0)); got != appends {
			t.Fatalf("partition %d: %d batches, want %d", i, got, appends)
		}
	}
	// Workers may each hold a file or two in use at once: the cap is soft
	// only then. Idle, the cache is back within it.
	if st := fc.Stats(); st.Open > int64(st.Max)+workers*2 {
		t.Fatalf("stats %+v", st)
	}
}

// A file evicted with unsynced writes is fsynced before it is closed; when
// that fsync fails, the log's next flush reports it and the log goes
// offline, as after any failed fsync (failure.go), and stays so.
func TestFileCacheEvictionSyncFailureFailsLog(t *testing.T) {
	mem := vfs.NewMem()
	ffs := vfs.NewFault(mem)
	fc := NewFileCache(1)
	open := func(dir string) *Log {
		l, err := Open(dir, smallConfig(), Options{Logger: testLogger(t), FS: ffs, Files: fc})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
	a, b := open("/data/a-0"), open("/data/b-0")
	appendTo := func(l *Log) error {
		recs := batch(spec{n: 1, valueSize: 10})
		hdrs, _ := ValidateBatches(recs, 0)
		_, err := l.Append(recs, hdrs, AppendOptions{Now: time.Now()})
		return err
	}
	if err := appendTo(a); err != nil {
		t.Fatal(err)
	}
	ffs.Inject(vfs.Fault{Ops: vfs.OpSync, Err: syscall.EIO, Path: func(p string) bool {
		return strings.HasPrefix(p, "/data/a-0/") && strings.HasSuffix(p, ".log")
	}})
	before := fc.Stats().Evictions
	if err := appendTo(b); err != nil { // takes a's slot
		t.Fatal(err)
	}
	if fc.Stats().Evictions == before {
		t.Fatal("b's append evicted nothing")
	}
	ffs.Clear()
	if err := a.Flush(); !errors.Is(err, ErrStorage) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("flush after a failed eviction fsync: %v, want EIO as a storage error", err)
	}
	if a.Failed() == nil {
		t.Fatal("log still online")
	}
	if err := appendTo(a); !errors.Is(err, ErrStorage) {
		t.Fatalf("append to the failed log: %v", err)
	}
	if err := b.Flush(); err != nil {
		t.Fatalf("the other log: %v", err)
	}
}

// TestFileCacheMissCostWhenAllDirty cycles appends over more logs than the
// cache holds, so every file in the ring has unsynced writes and every
// append misses. An eviction passes over a bounded number of dirty files
// before taking one: it used to walk the whole ring on each miss.
func TestFileCacheMissCostWhenAllDirty(t *testing.T) {
	const parts, cap = 300, 200
	fc := NewFileCache(cap)
	hs := cachedHarnesses(t, parts, cleanConfig(), fc)
	ws := make([]*writer, parts)
	for i, h := range hs {
		ws[i] = newWriter(h, spec{}, 1)
	}
	put := func(round int) {
		for i, w := range ws {
			w.put(kv{key: "k", value: fmt.Sprintf("p%d-r%d", i, round)})
		}
	}
	put(0)
	steps0, misses0 := fc.steps.Load(), fc.Stats().Misses
	for round := 1; round <= 3; round++ {
		put(round)
	}
	steps, misses := fc.steps.Load()-steps0, fc.Stats().Misses-misses0
	if misses < parts {
		t.Fatalf("%d misses in three rounds over %d logs with %d files cached: the test needs every append to miss", misses, parts, cap)
	}
	if per := float64(steps) / float64(misses); per > 2*maxDirtySkips {
		t.Fatalf("%.0f CLOCK steps per miss (%d misses) with every file dirty, want at most %d", per, misses, 2*maxDirtySkips)
	}
	for i, h := range hs {
		checkRecords(t, h.records(), ws[i].written)
	}
}
