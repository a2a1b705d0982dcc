package log

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirhq/weir/internal/vfs"
)

// scaleReport is what runScale measured.
type scaleReport struct {
	partitions  int
	cacheOpen   int64 // files open in the cache after the reads
	cachePeak   int64 // largest count seen after each partition's append and read
	fds         int   // the process's descriptors then (-1 off Linux)
	heapInuse   uint64
	rss         int64 // bytes, from /proc/self/status (-1 off Linux)
	open, write time.Duration
	read        time.Duration
	// The first half of the logs closed one by one (Close on 8
	// goroutines), the second half together (CloseAll, 8 workers).
	closeEach, closeAll time.Duration
}

// runScale opens parts partition logs on the disk, all in one process and
// sharing a cache of maxOpen files, appends a batch to each, reads every
// one back, and measures descriptors and memory with every log still open.
func runScale(tb testing.TB, fs vfs.FS, parts, maxOpen int) scaleReport {
	fc := NewFileCache(maxOpen)
	root := tb.TempDir()
	cfg := Config{SegmentBytes: 1 << 20, RetentionMs: -1, RetentionBytes: -1}
	logs := make([]*Log, parts)
	rep := scaleReport{partitions: parts}
	check := func(step string) {
		n := fc.Stats().Open
		rep.cachePeak = max(rep.cachePeak, n)
		if n > int64(maxOpen) {
			tb.Fatalf("%s: %d files open, cap %d", step, n, maxOpen)
		}
	}
	// Opens and appends run on 8 goroutines, as a broker's would: on the
	// disk they wait on fsyncs (checkpoints; evictions of unsynced files).
	const workers = 8
	parallel := func(f func(i int) error) {
		var wg sync.WaitGroup
		errs := make([]error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < parts; i += workers {
					if err := f(i); err != nil {
						errs[w] = err
						return
					}
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			tb.Fatal(err)
		}
	}
	t0 := time.Now()
	parallel(func(i int) error {
		l, err := Open(filepath.Join(root, fmt.Sprintf("t-%d", i)), cfg, Options{Files: fc, FS: fs})
		if err != nil {
			return fmt.Errorf("open partition %d: %w", i, err)
		}
		logs[i] = l
		return nil
	})
	check("open")
	rep.open = time.Since(t0)
	t0 = time.Now()
	batches := make([][]byte, parts)
	parallel(func(i int) error {
		b := batch(spec{n: 4, value: func(r int) []byte { return []byte(fmt.Sprintf("p%d-r%d", i, r)) }})
		hdrs, _ := ValidateBatches(b, 0)
		batches[i] = append([]byte(nil), b...)
		if _, err := logs[i].Append(b, hdrs, AppendOptions{}); err != nil {
			return fmt.Errorf("append to partition %d: %w", i, err)
		}
		return nil
	})
	check("append")
	rep.write = time.Since(t0)
	t0 = time.Now()
	for i, l := range logs {
		got, err := l.Read(0, 1<<20, l.LogEndOffset(), true)
		if err != nil {
			tb.Fatalf("read partition %d: %v", i, err)
		}
		// The stored batch differs from the appended one only in its
		// assigned offsets (0 here) and leader epoch.
		if len(got) != len(batches[i]) || !bytes.Equal(got[61:], batches[i][61:]) {
			tb.Fatalf("partition %d read back %d bytes, wrote %d", i, len(got), len(batches[i]))
		}
		if i%100 == 0 {
			check("read")
		}
	}
	rep.read = time.Since(t0)
	check("end")
	rep.cacheOpen = fc.Stats().Open
	rep.fds = openFDs(tb)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rep.heapInuse = ms.HeapInuse
	rep.rss = rssBytes()
	// Closing flushes each log and writes its producer snapshot: fsyncs,
	// so in parallel too. Half are closed each on its own, half with
	// CloseAll, whose figure is the broker's shutdown.
	t0 = time.Now()
	half := parts / 2
	parallel(func(i int) error {
		if i >= half {
			return nil
		}
		if err := logs[i].Close(); err != nil {
			return fmt.Errorf("close partition %d: %w", i, err)
		}
		return nil
	})
	rep.closeEach = time.Since(t0)
	t0 = time.Now()
	if _, err := CloseAll(logs[half:], workers); err != nil {
		tb.Fatal(err)
	}
	rep.closeAll = time.Since(t0)
	return rep
}

// rssBytes is the process's resident set size, -1 when unknown.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return -1
}

// 200 partitions with 20 files open at most: the unit-test size of the
// scale proof (BenchmarkScalePartitions runs 20,000). On the disk, where
// opening a log costs fsyncs (its checkpoints), so kept small for make
// test; MemFS is slower still with thousands of directories.
func TestScalePartitions(t *testing.T) {
	rep := runScale(t, vfs.Default, 200, 20)
	t.Logf("%d partitions: %d files open in the cache (peak %d), %d descriptors, heap in use %.1f MiB, RSS %.1f MiB; open %v, append %v, read %v",
		rep.partitions, rep.cacheOpen, rep.cachePeak, rep.fds, float64(rep.heapInuse)/(1<<20), float64(rep.rss)/(1<<20), rep.open, rep.write, rep.read)
	if rep.cachePeak > 20 {
		t.Fatalf("%d files open with a cap of 20", rep.cachePeak)
	}
	if rep.fds > 20+64 {
		t.Fatalf("%d descriptors open with a cap of 20", rep.fds)
	}
}

// BenchmarkScalePartitions is issue 14's scale proof in one process:
// 20,000 partition logs, each appended to and read back, under the cache
// the process would get by default (75 % of the soft RLIMIT_NOFILE),
// reporting descriptors and memory. One iteration takes tens of seconds:
// it is in make bench, not make test.
func BenchmarkScalePartitions(b *testing.B) {
	const parts = 20000
	maxOpen := DefaultMaxOpenFiles()
	if lim, ok := openFileLimit(); ok && lim < parts {
		b.Logf("soft RLIMIT_NOFILE %d: below the partition count, so only the cache keeps this run alive", lim)
	}
	for range b.N {
		rep := runScale(b, vfs.Default, parts, maxOpen)
		b.ReportMetric(float64(rep.cachePeak), "open_files")
		b.ReportMetric(float64(rep.fds), "fds")
		b.ReportMetric(float64(rep.heapInuse)/(1<<20), "heap_MiB")
		b.ReportMetric(float64(rep.rss)/(1<<20), "rss_MiB")
		b.ReportMetric(float64(maxOpen), "cap")
		b.Logf("%d partitions, cap %d: %d files open in the cache (peak %d), %d descriptors, heap in use %.1f MiB, RSS %.1f MiB; open %v, append %v, read %v; close of %d logs one by one %v, of %d with CloseAll %v",
			rep.partitions, maxOpen, rep.cacheOpen, rep.cachePeak, rep.fds, float64(rep.heapInuse)/(1<<20), float64(rep.rss)/(1<<20), rep.open, rep.write, rep.read,
			parts/2, rep.closeEach, parts-parts/2, rep.closeAll)
		b.ReportMetric(rep.closeEach.Seconds(), "close_each_s")
		b.ReportMetric(rep.closeAll.Seconds(), "close_all_s")
	}
}
