package log

import (
	"sync"
	"testing"
	"time"
)

// BenchmarkAppend appends 16 KiB batches of 1 KiB records.
func BenchmarkAppend(b *testing.B) {
	l, err := Open(b.TempDir(), Config{SegmentBytes: 256 << 20}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	proto := batch(spec{n: 16, valueSize: 1000})
	hdrs, _ := ValidateBatches(proto, 0)
	recs := make([][]byte, 64)
	for i := range recs {
		recs[i] = append([]byte(nil), proto...)
	}
	now := time.Now()
	b.SetBytes(int64(len(proto)))
	b.ResetTimer()
	for i := range b.N {
		if _, err := l.Append(recs[i%len(recs)], hdrs, AppendOptions{Now: now}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead reads 1 MiB at a time from a 64 MiB log.
func BenchmarkRead(b *testing.B) {
	l, err := Open(b.TempDir(), Config{SegmentBytes: 16 << 20}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	proto := batch(spec{n: 16, valueSize: 1000})
	hdrs, _ := ValidateBatches(proto, 0)
	for l.Size() < 64<<20 {
		if _, err := l.Append(append([]byte(nil), proto...), hdrs, AppendOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	leo := l.LogEndOffset()
	b.SetBytes(1 << 20)
	b.ResetTimer()
	off := int64(0)
	for range b.N {
		got, err := l.Read(off, 1<<20, leo, true)
		if err != nil || len(got) == 0 {
			b.Fatalf("read %d: %v", off, err)
		}
		h, _ := ParseBatchHeader(got[len(got)-hdrs[0].TotalSize():])
		if off = h.LastOffset() + 1; off >= leo {
			off = 0
		}
	}
}

// TestReadDuringRetention reads while retention deletes the segments being
// read: every read either succeeds with whole, valid batches or reports the
// offset out of range.
func TestReadDuringRetention(t *testing.T) {
	cfg := smallConfig()
	cfg.RetentionBytes = 8000
	h := newHarness(t, cfg)
	proto := batch(spec{n: 2, valueSize: 100})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				off := h.log.LogStartOffset()
				b, err := h.log.Read(off, 2000, 1<<62, true)
				if err != nil {
					if err == ErrOffsetOutOfRange {
						continue
					}
					t.Errorf("read %d: %v", off, err)
					return
				}
				if b == nil {
					continue
				}
				if _, err := ValidateBatches(b, 0); err != nil {
					t.Errorf("read %d returned garbage: %v", off, err)
					return
				}
			}
		}()
	}
	for range 2000 {
		b := append([]byte(nil), proto...)
		hdrs, _ := ValidateBatches(b, 0)
		if _, err := h.log.Append(b, hdrs, AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.log.EnforceRetention(h.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	h.reopen()
	if len(h.segmentFiles(".deleted")) != 0 {
		t.Fatal(".deleted files left after readers finished")
	}
}

// TestConcurrentAppendReadFlush runs appends, reads, flushes and timestamp
// lookups at once under the race detector.
func TestConcurrentAppendReadFlush(t *testing.T) {
	h := newHarness(t, smallConfig())
	var wg sync.WaitGroup
	done := make(chan struct{})
	run := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
					f()
				}
			}
		}()
	}
	run(func() { h.log.Flush() })
	run(func() { h.log.OffsetForTimestamp(1000) })
	run(func() { h.log.MaxTimestamp() })
	run(func() {
		if b, err := h.log.Read(0, 5000, 1<<62, true); err != nil {
			t.Error(err)
		} else if b != nil {
			if _, err := ValidateBatches(b, 0); err != nil {
				t.Error(err)
			}
		}
	})
	for i := range 500 {
		h.append(batch(spec{valueSize: 100, pid: 1, seq: int32(i)}))
	}
	close(done)
	wg.Wait()
	h.crash()
	if h.log.LogEndOffset() != 500 {
		t.Fatalf("LEO %d", h.log.LogEndOffset())
	}
}

// BenchmarkPinHit is the cost a use of an open segment file adds to every
// append and read (filecache.go): pin and unpin on a cache hit.
func BenchmarkPinHit(b *testing.B) {
	l, err := Open(b.TempDir(), Config{}, Options{Files: NewFileCache(8)})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	s := l.active()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.pin(); err != nil {
				b.Error(err)
				return
			}
			s.unpin()
		}
	})
}
