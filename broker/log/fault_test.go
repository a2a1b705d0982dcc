package log

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/weirhq/weir/internal/vfs"
)

// The fault matrix (docs/ONDISK.md, "Storage errors"): each case injects a
// fault into the filesystem under a log and checks the three promises. The
// failing operation returns an error wrapping ErrStorage (the broker's
// KAFKA_STORAGE_ERROR); nothing acknowledged before it is lost or changed
// (the log is reopened, from a crash where that matters, and read back
// byte for byte); and once the fault clears the log takes appends again,
// at once for a write that was undone, after a reopen for a failed log.

// faultHarness is a harness whose log lives on a FaultFS over a MemFS.
type faultHarness struct {
	*harness
	mem      *vfs.MemFS
	fault    *vfs.FaultFS
	acked    []byte // the bytes of every batch acknowledged so far, in order
	ackedEnd int64  // the offset after the last acknowledged batch
}

func newFaultHarness(t *testing.T, cfg Config) *faultHarness {
	mem := vfs.NewMem()
	f := &faultHarness{mem: mem, fault: vfs.NewFault(mem)}
	f.harness = &harness{t: t, dir: "/data/topic-0", cfg: cfg, clock: newClock(), fs: f.fault}
	f.open()
	t.Cleanup(func() { f.log.Close() })
	return f
}

// ack appends n batches and flushes: they are acknowledged.
func (f *faultHarness) ack(n int) {
	f.t.Helper()
	for range n {
		f.acked = append(f.acked, f.appendOne()...)
	}
	if err := f.log.Flush(); err != nil {
		f.t.Fatalf("flush: %v", err)
	}
	f.ackedEnd = f.log.LogEndOffset()
}

// appendOne appends a batch and returns its bytes as stored.
func (f *faultHarness) appendOne() []byte {
	f.t.Helper()
	b, err := f.tryOneBatch()
	if err != nil {
		f.t.Fatalf("append: %v", err)
	}
	return b
}

// tryOneBatch appends a batch in leader epoch 7 (or epoch[0]); the bytes
// are the batch as the log stored it (Append patches it in place).
func (f *faultHarness) tryOneBatch(epoch ...int32) ([]byte, error) {
	b := batch(spec{n: 3, valueSize: 300})
	hdrs, err := ValidateBatches(b, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	e := int32(7)
	if len(epoch) > 0 {
		e = epoch[0]
	}
	_, err = f.log.Append(b, hdrs, AppendOptions{LeaderEpoch: e, Now: f.clock.Now()})
	return b, err
}

// tryOne appends a batch that is expected to fail with errno, and checks
// the error is a storage error.
func (f *faultHarness) tryOne(errno error) error {
	f.t.Helper()
	leo := f.log.LogEndOffset()
	_, err := f.tryOneBatch()
	if !errors.Is(err, ErrStorage) || (errno != nil && !errors.Is(err, errno)) {
		f.t.Fatalf("append under the fault: %v, want a storage error wrapping %v", err, errno)
	}
	if got := f.log.LogEndOffset(); got != leo {
		f.t.Fatalf("a failed append moved the log end offset from %d to %d", leo, got)
	}
	return err
}

// checkAcked reads the log from its start and checks it begins with every
// acknowledged byte; it returns what follows them (up to the log end, or up
// to the acknowledged end only when upToAcked).
func (f *faultHarness) checkAcked(l *Log, upToAcked ...bool) []byte {
	f.t.Helper()
	end := l.LogEndOffset()
	if end < f.ackedEnd {
		f.t.Fatalf("log end offset %d below the acknowledged end %d", end, f.ackedEnd)
	}
	if len(upToAcked) > 0 {
		end = f.ackedEnd
	}
	var got []byte
	for off := l.LogStartOffset(); off < end; {
		b, err := l.Read(off, 1<<20, end, true)
		if err != nil {
			f.t.Fatalf("read at %d: %v", off, err)
		}
		hdrs, err := ValidateBatches(b, 0)
		if err != nil {
			f.t.Fatalf("read at %d: %v", off, err)
		}
		got = append(got, b...)
		off = hdrs[len(hdrs)-1].LastOffset() + 1
	}
	if !bytes.HasPrefix(got, f.acked) {
		f.t.Fatalf("the log holds %d bytes that do not start with the %d acknowledged", len(got), len(f.acked))
	}
	return got[len(f.acked):]
}

// reopen closes the log (a restart) and opens it again on the same files.
func (f *faultHarness) reopen() {
	f.t.Helper()
	f.log.Close()
	f.open()
}

// crashOpen opens, beside the running log, what a crash now would leave:
// only what was synced.
func (f *faultHarness) crashOpen() *Log {
	f.t.Helper()
	l, err := Open(f.dir, f.cfg, Options{Logger: testLogger(f.t), Now: f.clock.Now, FS: f.mem.CrashClone()})
	if err != nil {
		f.t.Fatalf("open after a crash: %v", err)
	}
	f.t.Cleanup(func() { l.Close() })
	return l
}

func (f *faultHarness) activeSize() int64 {
	f.t.Helper()
	fi, err := f.mem.Stat(f.log.active().path(".log"))
	if err != nil {
		f.t.Fatal(err)
	}
	return fi.Size()
}

// A write that fails is undone: the file is cut back, the log stays
// online, and the next append after the fault clears goes where the failed
// one would have.
func TestFailedWriteIsUndoneAndAppendsResume(t *testing.T) {
	for name, ft := range map[string]vfs.Fault{
		"ENOSPC":                 {Ops: vfs.OpWrite, Path: vfs.HasSuffix(".log"), Err: syscall.ENOSPC},
		"short write and ENOSPC": {Ops: vfs.OpWrite, Path: vfs.HasSuffix(".log"), Err: syscall.ENOSPC, Short: true},
		"EIO on write":           {Ops: vfs.OpWrite, Path: vfs.HasSuffix(".log"), Err: syscall.EIO, Short: true},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFaultHarness(t, Config{SegmentBytes: 1 << 20})
			f.ack(5)
			size := f.activeSize()
			f.fault.Inject(ft)
			f.tryOne(ft.Err)
			f.tryOne(ft.Err)
			if got := f.activeSize(); got != size {
				t.Fatalf("segment file is %d bytes after the failed appends, want %d (undone)", got, size)
			}
			if err := f.log.Failed(); err != nil {
				t.Fatalf("an undone write took the log offline: %v", err)
			}
			f.checkAcked(f.log) // reads go on under the fault
			f.fault.Clear()
			f.ack(2)
			f.reopen()
			if rest := f.checkAcked(f.log); len(rest) != 0 {
				t.Fatalf("%d bytes after the acknowledged ones", len(rest))
			}
			f.ack(1)
		})
	}
}

// A roll that cannot create the new segment's files, or write out the old
// one's indexes, fails the append that needed it; the old segment stays
// active and the roll happens on the first append after the fault clears.
func TestFailedRollLeavesTheLogAsItWas(t *testing.T) {
	for name, ft := range map[string]vfs.Fault{
		"ENOSPC creating the segment":    {Ops: vfs.OpCreate, Path: vfs.HasSuffix(".log"), Err: syscall.ENOSPC},
		"ENOSPC creating its index":      {Ops: vfs.OpCreate, Path: vfs.HasSuffix(".index"), Err: syscall.ENOSPC},
		"ENOSPC writing the old indexes": {Ops: vfs.OpWrite, Path: vfs.HasSuffix("index"), Err: syscall.ENOSPC},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFaultHarness(t, Config{SegmentBytes: 4096, IndexIntervalBytes: 512})
			f.ack(3) // about 3 KiB: the next batch or the one after rolls
			segs := f.log.NumSegments()
			f.fault.Inject(ft)
			var err error
			for range 3 {
				leo := f.log.LogEndOffset()
				var b []byte
				if b, err = f.tryOneBatch(); err != nil {
					if f.log.LogEndOffset() != leo {
						t.Fatal("the failed roll moved the log end offset")
					}
					break
				}
				f.acked = append(f.acked, b...)
			}
			if !errors.Is(err, ErrStorage) || !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("append needing a roll under the fault: %v, want ENOSPC as a storage error", err)
			}
			if f.log.NumSegments() != segs || f.log.Failed() != nil {
				t.Fatalf("after the failed roll: %d segments (want %d), failed %v", f.log.NumSegments(), segs, f.log.Failed())
			}
			f.fault.Clear()
			f.ack(2)
			if f.log.NumSegments() != segs+1 {
				t.Fatalf("%d segments after the fault cleared, want %d", f.log.NumSegments(), segs+1)
			}
			f.reopen()
			if rest := f.checkAcked(f.log); len(rest) != 0 {
				t.Fatalf("%d bytes after the acknowledged ones", len(rest))
			}
		})
	}
}

// A failed fsync takes the log offline (fsyncgate: what it was to make
// durable may be gone while a retry would report success). The recovery
// point stays where it was, nothing is fsynced again, and a reopen recovers
// from the last checkpoint: everything acknowledged is there, on the
// running files and after a crash.
func TestFailedFsyncTakesTheLogOffline(t *testing.T) {
	for name, ft := range map[string]vfs.Fault{
		"EIO syncing the segment": {Ops: vfs.OpSync, Path: vfs.HasSuffix(".log"), Err: syscall.EIO},
		"EIO syncing an index":    {Ops: vfs.OpSync, Path: vfs.HasSuffix(".index"), Err: syscall.EIO},
		"EIO syncing the dir":     {Ops: vfs.OpSync, Path: func(p string) bool { return p == "/data/topic-0" }, Err: syscall.EIO},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFaultHarness(t, Config{SegmentBytes: 4096, IndexIntervalBytes: 512, SegmentMs: time.Hour, RetentionMs: time.Hour})
			f.ack(6)
			for range 3 {
				f.appendOne() // written, never acknowledged
			}
			f.fault.Inject(ft)
			err := f.log.Flush()
			if !errors.Is(err, ErrStorage) || !errors.Is(err, syscall.EIO) {
				t.Fatalf("flush under the fault: %v, want EIO as a storage error", err)
			}
			f.fault.Clear()
			if f.log.Failed() == nil {
				t.Fatal("the log is not offline after a failed fsync")
			}
			syncs := f.fault.Hits()
			f.fault.Inject(vfs.Fault{Ops: vfs.OpSync}) // counts any fsync from here on
			if err := f.log.Flush(); !errors.Is(err, ErrStorage) {
				t.Fatalf("a second flush: %v, want the storage error again", err)
			}
			f.tryOne(nil)
			if _, err := f.log.Read(0, 1<<20, 1<<62, true); !errors.Is(err, ErrStorage) {
				t.Fatalf("read of an offline log: %v, want a storage error", err)
			}
			f.clock.Add(400 * 24 * time.Hour)
			if err := f.log.MaybeRoll(f.clock.Now()); err != nil {
				t.Fatalf("maintenance of an offline log: %v, want nothing done", err)
			}
			if n, err := f.log.EnforceRetention(f.clock.Now()); n != 0 || err != nil {
				t.Fatalf("retention of an offline log: %d %v, want nothing done", n, err)
			}
			if res, err := f.log.Clean(f.clock.Now(), CleanOptions{}); res.Cleaned || err != nil {
				t.Fatalf("compaction of an offline log: %+v %v, want nothing done", res, err)
			}
			if _, err := f.log.DeleteRecordsBefore(1); !errors.Is(err, ErrStorage) {
				t.Fatalf("DeleteRecords on an offline log: %v, want a storage error", err)
			}
			if err := f.log.Truncate(1); !errors.Is(err, ErrStorage) {
				t.Fatalf("truncate of an offline log: %v, want a storage error", err)
			}
			f.log.Close()
			if f.fault.Hits() != syncs {
				t.Fatal("an offline log fsynced again")
			}
			f.fault.Clear()

			f.checkAcked(f.crashOpen(), true) // what a crash now would leave
			f.open()                          // the restart
			if rest := f.checkAcked(f.log); len(rest) != 3*len(batch(spec{n: 3, valueSize: 300})) {
				t.Fatalf("%d bytes after the acknowledged ones, want the 3 unacknowledged batches (still in the files)", len(rest))
			}
			f.ack(2)
		})
	}
}

// An append that cannot be undone (the write failed, then the truncate
// back) takes the log offline; a reopen cuts the torn batch.
func TestUndoneWriteThatCannotBeUndone(t *testing.T) {
	f := newFaultHarness(t, Config{SegmentBytes: 1 << 20})
	f.ack(4)
	f.fault.Inject(
		vfs.Fault{Ops: vfs.OpWrite, Path: vfs.HasSuffix(".log"), Err: syscall.ENOSPC, Short: true},
		vfs.Fault{Ops: vfs.OpTruncate, Path: vfs.HasSuffix(".log"), Err: syscall.EIO},
	)
	f.tryOne(syscall.ENOSPC)
	if f.log.Failed() == nil {
		t.Fatal("the log is online with half a batch in its segment")
	}
	f.fault.Clear()
	f.tryOne(nil) // still offline
	f.reopen()
	if rest := f.checkAcked(f.log); len(rest) != 0 {
		t.Fatalf("%d bytes after the acknowledged ones: the torn batch was not cut", len(rest))
	}
	f.ack(1)
}

// With flush.messages=1 every append is flushed before it returns, so an
// fsync failure fails the append itself: it is never acknowledged.
func TestAppendFlushFailureIsNotAcknowledged(t *testing.T) {
	f := newFaultHarness(t, Config{SegmentBytes: 1 << 20, FlushMessages: 1})
	f.ack(3)
	f.fault.Inject(vfs.Fault{Ops: vfs.OpSync, Err: syscall.EIO})
	if _, err := f.tryOneBatch(); !errors.Is(err, ErrStorage) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("append with a failing fsync: %v, want EIO as a storage error", err)
	}
	f.fault.Clear()
	f.checkAcked(f.crashOpen(), true)
}

// The whole log works on the in-memory filesystem, and a crash of it keeps
// what was flushed.
func TestLogOnMemFS(t *testing.T) {
	f := newFaultHarness(t, Config{SegmentBytes: 4096, IndexIntervalBytes: 512})
	f.ack(20)
	f.appendOne()
	if f.log.NumSegments() < 3 {
		t.Fatalf("%d segments, want rolls", f.log.NumSegments())
	}
	f.checkAcked(f.crashOpen(), true)
	f.reopen()
	if rest := f.checkAcked(f.log); len(rest) == 0 {
		t.Fatal("a clean restart lost the unflushed batch")
	}
	if _, err := f.mem.Stat(filepath.Join(f.dir, checkpointFile)); err != nil {
		t.Fatal(err)
	}
}

// Faults switched on and off while readers read: every append that
// succeeded is in the log, in order and intact, and none that failed is.
func TestFaultsToggledUnderConcurrentReads(t *testing.T) {
	f := newFaultHarness(t, Config{SegmentBytes: 8192, IndexIntervalBytes: 512})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				b, err := f.log.Read(f.log.LogStartOffset(), 1<<16, f.log.LogEndOffset(), true)
				if err != nil && !errors.Is(err, ErrStorage) {
					t.Errorf("read: %v", err)
					return
				}
				if _, err := ValidateBatches(b, 0); err != nil && len(b) > 0 {
					t.Errorf("read returned bad batches: %v", err)
					return
				}
			}
		}()
	}
	faults := []vfs.Fault{
		{Ops: vfs.OpWrite, Path: vfs.HasSuffix(".log"), Err: syscall.ENOSPC, Short: true},
		{Ops: vfs.OpCreate | vfs.OpWrite, Err: syscall.ENOSPC},
		{Ops: vfs.OpRead, Path: vfs.HasSuffix(".log"), Err: syscall.EIO},
	}
	failed := 0
	for i := range 300 {
		if i%20 == 10 {
			f.fault.Inject(faults[(i/20)%len(faults)])
		}
		if i%20 == 15 {
			f.fault.Clear()
		}
		b, err := f.tryOneBatch()
		if err != nil {
			if !errors.Is(err, ErrStorage) {
				t.Fatalf("append %d: %v", i, err)
			}
			failed++
			continue
		}
		f.acked = append(f.acked, b...)
	}
	close(stop)
	wg.Wait()
	f.fault.Clear()
	if failed == 0 || f.log.Failed() != nil {
		t.Fatalf("%d appends failed, log failed: %v; want some, and the log online", failed, f.log.Failed())
	}
	f.ackedEnd = f.log.LogEndOffset()
	f.reopen()
	if rest := f.checkAcked(f.log); len(rest) != 0 {
		t.Fatalf("%d bytes after the acknowledged ones", len(rest))
	}
}

// A leader-epoch checkpoint that cannot be written (a full disk) is not
// left stale: the append succeeds (its data is in the segment), the file
// is removed, and an open rebuilds it from the batch headers, so
// OffsetForLeaderEpoch still knows the newest epoch after a restart.
func TestEpochCheckpointWriteFailureIsNotTrusted(t *testing.T) {
	f := newFaultHarness(t, Config{SegmentBytes: 1 << 20})
	f.ack(2) // epoch 7
	f.fault.Inject(vfs.Fault{Ops: vfs.OpCreate, Path: func(p string) bool {
		return strings.Contains(p, EpochCacheFile)
	}, Err: syscall.ENOSPC})
	if _, err := f.tryOneBatch(8); err != nil {
		t.Fatalf("append in a new epoch with the checkpoint unwritable: %v", err)
	}
	f.fault.Clear()
	if err := f.log.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, l := range []*Log{f.crashOpen(), f.open()} {
		if e, ok := l.LatestEpoch(); !ok || e != 8 {
			t.Fatalf("latest epoch after a reopen: %d %v, want 8", e, ok)
		}
	}
}

// A batch's leader epoch reaches the checkpoint file at the next flush,
// not at the append (EpochCache.AssignFromBatch). A crash in between, with
// the batch already on disk (written back by the kernel, or fsynced by a
// file-cache eviction), reads the epoch again from the batch header: the
// batch is past the recovery point, which moves only after the
// checkpoint is durable.
func TestEpochOfUnflushedBatchSurvivesCrash(t *testing.T) {
	f := newFaultHarness(t, Config{SegmentBytes: 1 << 20})
	f.ack(2) // epoch 7, flushed: the checkpoint holds (7, 0)
	if _, err := f.tryOneBatch(9); err != nil {
		t.Fatal(err)
	}
	nine := f.log.LogEndOffset() - 3
	if !f.log.epochs.Dirty() {
		t.Fatal("the append in epoch 9 wrote the checkpoint: want it deferred to the flush")
	}
	// The segment reaches the disk, the checkpoint does not.
	if err := f.log.active().syncFile(); err != nil {
		t.Fatal(err)
	}
	want := []EpochEntry{{7, 0}, {9, nine}}
	l := f.crashOpen()
	if got := l.epochs.Entries(); !reflect.DeepEqual(got, want) {
		t.Fatalf("epochs after a crash with the batch durable: %v, want %v", got, want)
	}
	if e, off := l.EndOffsetForEpoch(7); e != 7 || off != nine {
		t.Fatalf("EndOffsetForEpoch(7) after the crash = %d,%d, want 7,%d", e, off, nine)
	}
	// Without the segment on disk the batch and its epoch are both gone.
	if _, err := f.tryOneBatch(11); err != nil {
		t.Fatal(err)
	}
	l = f.crashOpen()
	if e, ok := l.LatestEpoch(); !ok || e != 9 {
		t.Fatalf("latest epoch after a crash that lost the epoch-11 batch: %d %v, want 9", e, ok)
	}

	// A flush makes it durable in the checkpoint itself.
	if err := f.log.Flush(); err != nil {
		t.Fatal(err)
	}
	if f.log.epochs.Dirty() {
		t.Fatal("the checkpoint is still dirty after a flush")
	}
	c, err := OpenEpochCache(f.mem.CrashClone(), f.dir)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := c.Latest(); !ok || e.Epoch != 11 {
		t.Fatalf("the flushed checkpoint's latest entry %+v %v, want epoch 11", e, ok)
	}
}

// A flush that cannot write the leader-epoch checkpoint keeps the
// recovery point where it was and the log online; a crash then re-reads
// the epoch from the batch, and the next flush writes it.
func TestEpochCheckpointFailureAtFlushHoldsRecoveryPoint(t *testing.T) {
	f := newFaultHarness(t, Config{SegmentBytes: 1 << 20})
	f.ack(1)
	rp := f.ackedEnd
	if _, err := f.tryOneBatch(9); err != nil {
		t.Fatal(err)
	}
	f.fault.Inject(vfs.Fault{Ops: vfs.OpCreate, Path: func(p string) bool {
		return strings.Contains(p, EpochCacheFile)
	}, Err: syscall.ENOSPC})
	if err := f.log.Flush(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("flush with the checkpoint unwritable: %v, want ENOSPC", err)
	}
	f.fault.Clear()
	if cp, err := readCheckpoint(f.mem, f.dir); err != nil || cp.recoveryPoint != rp {
		t.Fatalf("recovery point on disk %+v (%v), want %d kept", cp, err, rp)
	}
	if l := f.crashOpen(); func() bool { e, ok := l.LatestEpoch(); return !ok || e != 9 }() {
		t.Fatal("the epoch-9 batch's epoch was lost in a crash after the failed flush")
	}
	if _, err := f.tryOneBatch(9); err != nil {
		t.Fatalf("append after the failed flush: %v", err)
	}
	if err := f.log.Flush(); err != nil {
		t.Fatalf("flush once the checkpoint is writable: %v", err)
	}
	if f.log.epochs.Dirty() {
		t.Fatal("the checkpoint is still dirty after a good flush")
	}
}
