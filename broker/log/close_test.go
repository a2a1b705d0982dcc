package log

import (
	"sync/atomic"
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
