package log

import (
	"bytes"
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/weirhq/weir/internal/vfs"
)

// countSyncs counts the fsyncs (of files and directories) on f from now
// on, failing none.
func countSyncs(f *vfs.FaultFS) *atomic.Int64 {
	var n atomic.Int64
	f.Inject(vfs.Fault{Ops: vfs.OpSync, Path: func(string) bool { n.Add(1); return false }})
	return &n
}

// A broker stopping closes thousands of logs, most idle since they were
// opened (Open flushes) or last flushed. Such a close makes nothing
// durable twice: no segment, directory or checkpoint fsyncs, no producer
// snapshot when one is already at the log end (Kafka's flush and
// takeSnapshot skip the same way); only the active segment's indexes are
// finalized. What it leaves survives a crash, and a close after an append
// still flushes it.
func TestIdleCloseSyncsOnlyTheIndexes(t *testing.T) {
	f := newFaultHarness(t, Config{})
	f.ack(3)
	f.reopen()
	syncs := countSyncs(f.fault)
	if err := f.log.Close(); err != nil {
		t.Fatal(err)
	}
	if n := syncs.Load(); n > 2 {
		t.Errorf("closing an idle log: %d fsyncs, want at most the 2 index files'", n)
	}
	f.fault.Clear()
	f.checkAcked(f.crashOpen())

	f.open()
	syncs = countSyncs(f.fault)
	f.acked = append(f.acked, f.appendOne()...)
	f.ackedEnd = f.log.LogEndOffset()
	if err := f.log.Close(); err != nil {
		t.Fatal(err)
	}
	if n := syncs.Load(); n <= 2 {
		t.Errorf("closing a log with an unflushed append: %d fsyncs", n)
	}
	f.fault.Clear()
	f.checkAcked(f.crashOpen())
}

// closeAllFixture is n logs under /data on a fault-injecting MemFS, each
// with a batch appended and not flushed (so every one has data to make
// durable at close).
type closeAllFixture struct {
	mem   *vfs.MemFS
	fault *vfs.FaultFS
	logs  []*Log
	data  [][]byte
}

func newCloseAllFixture(t *testing.T, n int) *closeAllFixture {
	mem := vfs.NewMem()
	f := &closeAllFixture{mem: mem, fault: vfs.NewFault(mem)}
	for i := range n {
		l, err := Open(fmt.Sprintf("/data/t-%d", i), Config{}, Options{Logger: testLogger(t), FS: f.fault})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		b := batch(spec{n: 3, value: func(r int) []byte { return fmt.Appendf(nil, "log %d record %d", i, r) }})
		hdrs, err := ValidateBatches(b, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Append(b, hdrs, AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		f.logs = append(f.logs, l)
		f.data = append(f.data, b)
	}
	return f
}

// crashCheck opens each log from what a crash now would leave, as a
// broker starts (the close checkpoint taken first), and returns how many
// logs' records are not all there and the recovery point each log's
// Open starts from.
func (f *closeAllFixture) crashCheck(t *testing.T) (lost int, recoveryPoints []int64) {
	crashed := f.mem.CrashClone()
	closed, err := TakeCloseCheckpoint(crashed, "/data")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := TakeCloseCheckpoint(crashed, "/data"); again != nil || err != nil {
		t.Fatalf("the close checkpoint taken twice: %v, %v", again, err)
	}
	for i := range f.logs {
		dir := fmt.Sprintf("/data/t-%d", i)
		cp, err := readCheckpoint(crashed, dir)
		if err != nil {
			t.Fatalf("log %d's checkpoint after the crash: %v", i, err)
		}
		var at *ClosedAt
		if c, ok := closed[dir]; ok {
			at = &c
			if c.from == cp {
				cp = c.to
			}
		}
		recoveryPoints = append(recoveryPoints, cp.recoveryPoint)
		l, err := Open(dir, Config{}, Options{Logger: testLogger(t), FS: crashed, ClosedAt: at})
		if err != nil {
			t.Fatalf("open log %d after the crash: %v", i, err)
		}
		got, err := l.Read(0, 1<<20, l.LogEndOffset(), true)
		if err != nil || len(got) != len(f.data[i]) || !bytes.Equal(got[61:], f.data[i][61:]) {
			lost++
		}
		l.Close()
	}
	return lost, recoveryPoints
}

// CloseAll makes what each log's Close would durable (records, the
// recovery point at the log end, in one close checkpoint for the log dir)
// with two syncs of the filesystem and no fsync of any one file or
// directory.
func TestCloseAllSyncsTheFilesystemOnce(t *testing.T) {
	f := newCloseAllFixture(t, 20)
	var files, filesystems atomic.Int64
	f.fault.Inject(vfs.Fault{Ops: vfs.OpSync, Path: func(p string) bool {
		if p == "/data" {
			filesystems.Add(1)
		} else {
			files.Add(1)
		}
		return false
	}})
	if _, err := CloseAll(f.logs, 4); err != nil {
		t.Fatal(err)
	}
	if files.Load() != 0 || filesystems.Load() != 2 {
		t.Errorf("closing 20 logs: %d file or directory fsyncs and %d syncs of the filesystem, want 0 and 2", files.Load(), filesystems.Load())
	}
	f.fault.Clear()
	lost, rps := f.crashCheck(t)
	if lost != 0 {
		t.Errorf("%d of 20 logs lost records closed with CloseAll", lost)
	}
	for i, rp := range rps {
		if rp != 3 {
			t.Errorf("log %d's recovery point after CloseAll is %d, want its end 3", i, rp)
		}
	}
	if _, err := CloseAll(f.logs, 4); err != nil || files.Load() != 0 {
		t.Errorf("a second CloseAll: %v", err)
	}
}

// When the first sync of the filesystem fails, nothing said the data is
// durable, so no recovery point moves: a restart recovers the tails.
func TestCloseAllFailedSyncMovesNoRecoveryPoint(t *testing.T) {
	f := newCloseAllFixture(t, 5)
	f.fault.Inject(vfs.Fault{Ops: vfs.OpSync, Path: func(p string) bool { return p == "/data" }, Err: syscall.EIO})
	_, err := CloseAll(f.logs, 2)
	if !errors.Is(err, ErrStorage) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("CloseAll with a failing syncfs: %v, want a storage error wrapping EIO", err)
	}
	f.fault.Clear()
	_, rps := f.crashCheck(t)
	for i, rp := range rps {
		if rp != 0 {
			t.Errorf("log %d's recovery point moved to %d though the sync failed", i, rp)
		}
	}
}

// A close checkpoint torn by a crash is removed and reported, never used.
func TestTornCloseCheckpointIsIgnored(t *testing.T) {
	mem := vfs.NewMem()
	if err := mem.MkdirAll("/data", 0o755); err != nil {
		t.Fatal(err)
	}
	good := "weir-close-checkpoint 1\n1\nt-0 0 0 3 0\n"
	for _, body := range []string{good, good + "crc32c 00000000\n", "weir-close-checkpoint 1\n2\nt-0 0 0 3 0\ncrc32c"} {
		f, err := mem.Create("/data/" + closeCheckpointFile)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(body))
		f.Close()
		got, err := TakeCloseCheckpoint(mem, "/data")
		if got != nil || err == nil {
			t.Errorf("%q: %v, %v; want an error and nothing", body, got, err)
		}
		if _, err := mem.Stat("/data/" + closeCheckpointFile); !vfs.IsNotExist(err) {
			t.Errorf("%q: the file is still there (%v)", body, err)
		}
	}
}
