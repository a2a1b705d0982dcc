package log

import (
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/weirhq/weir/internal/vfs"
)

func newMemHarness(t *testing.T, cfg Config) (*harness, *vfs.MemFS) {
	mem := vfs.NewMem()
	h := &harness{t: t, dir: "/data/topic-0", cfg: cfg, clock: newClock(), fs: mem}
	h.open()
	t.Cleanup(func() { h.log.Close() })
	return h, mem
}

// txnBatch is a transactional batch of n records of producer pid.
func txnBatch(pid int64, epoch int16, seq int32, n int) []byte {
	return batch(spec{n: n, pid: pid, epoch: epoch, seq: seq, attrs: attrTransactional, valueSize: 8})
}

func marker(t *testing.T, l *Log, pid int64, epoch int16, commit bool, coordEpoch int32) int64 {
	t.Helper()
	off, err := l.AppendMarker(pid, epoch, Marker{Commit: commit, CoordinatorEpoch: coordEpoch}, AppendOptions{LeaderEpoch: 7})
	if err != nil {
		t.Fatalf("marker for %d: %v", pid, err)
	}
	return off
}

func TestControlBatchLayout(t *testing.T) {
	b := ControlBatch(42, 3, Marker{Commit: true, CoordinatorEpoch: 9}, 1234)
	hdrs, err := ValidateBatches(b, 0)
	if err != nil {
		t.Fatal(err)
	}
	h := hdrs[0]
	if !h.Control() || !h.Transactional() || h.Attributes != 0x30 || h.ProducerID != 42 || h.ProducerEpoch != 3 ||
		h.BaseSequence != -1 || h.NumRecords != 1 || h.LastOffsetDelta != 0 {
		t.Fatalf("header %+v", h)
	}
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(b); err != nil {
		t.Fatal(err)
	}
	recs, err := readRecordsKmsg(rb)
	if err != nil {
		t.Fatal(err)
	}
	if got := recs[0].Key; !slices.Equal(got, []byte{0, 0, 0, 1}) {
		t.Errorf("key %x, want version 0 type 1", got)
	}
	if got := recs[0].Value; !slices.Equal(got, []byte{0, 0, 0, 0, 0, 9}) {
		t.Errorf("value %x, want version 0 coordinator epoch 9", got)
	}
	m, err := ParseMarker(b)
	if err != nil || m != (Marker{Commit: true, CoordinatorEpoch: 9}) {
		t.Fatalf("ParseMarker = %+v, %v", m, err)
	}
	abort, _ := ParseMarker(ControlBatch(1, 0, Marker{CoordinatorEpoch: 2}, 0))
	if abort.Commit || abort.CoordinatorEpoch != 2 {
		t.Errorf("abort marker parsed as %+v", abort)
	}
}

func readRecordsKmsg(rb kmsg.RecordBatch) ([]kmsg.Record, error) {
	var out []kmsg.Record
	p := rb.Records
	for range rb.NumRecords {
		l, n := binary.Varint(p)
		var r kmsg.Record
		if err := r.ReadFrom(p[:n+int(l)]); err != nil {
			return nil, err
		}
		out = append(out, r)
		p = p[n+int(l):]
	}
	return out, nil
}

func TestTransactionsLSOAndAbortedIndex(t *testing.T) {
	h, mem := newMemHarness(t, Config{SegmentBytes: 1 << 20, IndexIntervalBytes: 256, RetentionMs: -1, RetentionBytes: -1})
	l := h.log
	if _, ok := l.FirstUnstableOffset(); ok || l.LastStableOffset(0) != 0 {
		t.Fatal("an empty log has an unstable offset")
	}
	h.append(txnBatch(1, 0, 0, 3))                    // 0-2: producer 1 begins at 0
	h.append(batch(spec{n: 2, pid: 9, valueSize: 4})) // 3-4: idempotent, no transaction
	h.append(txnBatch(2, 0, 0, 2))                    // 5-6: producer 2 begins at 5
	h.append(txnBatch(1, 0, 3, 1))                    // 7
	if fu, ok := l.FirstUnstableOffset(); !ok || fu != 0 {
		t.Fatalf("first unstable %d %v, want 0", fu, ok)
	}
	if got := l.LastStableOffset(8); got != 0 {
		t.Fatalf("LSO %d, want 0", got)
	}
	if got := l.OngoingTransactions(); got[1] != 0 || got[2] != 5 || len(got) != 2 {
		t.Fatalf("ongoing %v", got)
	}
	if off := marker(t, l, 1, 0, false, 0); off != 8 { // abort producer 1: [0, 8]
		t.Fatalf("abort marker at %d", off)
	}
	if got := l.LastStableOffset(9); got != 5 {
		t.Fatalf("LSO after abort %d, want 5 (producer 2 still open)", got)
	}
	if got := l.LastStableOffset(3); got != 3 {
		t.Fatalf("LSO bounded by the high watermark: %d", got)
	}
	marker(t, l, 2, 0, true, 0) // commit producer 2: 9
	if _, ok := l.FirstUnstableOffset(); ok || l.LastStableOffset(10) != 10 {
		t.Fatal("no transaction is open: LSO is the high watermark")
	}
	h.append(txnBatch(2, 0, 2, 2)) // 10-11
	marker(t, l, 2, 0, false, 0)   // 12: abort producer 2's second transaction

	want := []AbortedTxn{{1, 0}, {2, 10}}
	if got := l.AbortedTransactions(0, 13); !slices.Equal(got, want) {
		t.Fatalf("aborted in [0,13): %v, want %v", got, want)
	}
	if got := l.AbortedTransactions(9, 10); len(got) != 0 {
		t.Fatalf("aborted in [9,10): %v, want none", got)
	}
	if got := l.AbortedTransactions(8, 11); !slices.Equal(got, want) {
		t.Fatalf("aborted in [8,11): %v", got)
	}
	if got := l.AbortedTransactions(0, 5); !slices.Equal(got, want[:1]) {
		t.Fatalf("aborted in [0,5): %v", got)
	}

	// The .txnindex holds Kafka's 34-byte entries.
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	b, err := vfs.ReadFile(mem, segmentPath(h.dir, 0, ".txnindex"))
	if err != nil {
		t.Fatal(err)
	}
	wantBytes := abortedEntry{pid: 1, first: 0, last: 8, lso: 5}.encode(nil)
	wantBytes = abortedEntry{pid: 2, first: 10, last: 12, lso: 13}.encode(wantBytes)
	if !slices.Equal(b, wantBytes) {
		t.Fatalf(".txnindex\n got %x\nwant %x", b, wantBytes)
	}
	if len(b) != 2*34 {
		t.Fatalf(".txnindex of %d bytes", len(b))
	}
}

func TestMarkerFencing(t *testing.T) {
	h, _ := newMemHarness(t, smallConfig())
	l := h.log
	h.append(txnBatch(1, 2, 0, 1))
	marker(t, l, 1, 2, true, 5)
	h.append(txnBatch(1, 2, 1, 1))
	_, err := l.AppendMarker(1, 2, Marker{Commit: false, CoordinatorEpoch: 4}, AppendOptions{})
	if !errors.Is(err, ErrTransactionCoordinatorFenced) {
		t.Fatalf("marker of an older coordinator: %v", err)
	}
	_, err = l.AppendMarker(1, 1, Marker{Commit: false, CoordinatorEpoch: 6}, AppendOptions{})
	if !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("marker of an older producer epoch: %v", err)
	}
	if fu, ok := l.FirstUnstableOffset(); !ok || fu != 2 {
		t.Fatalf("a fenced marker ended the transaction: %d %v", fu, ok)
	}
	marker(t, l, 1, 3, false, 6) // the coordinator's bumped epoch aborts it
	if _, ok := l.FirstUnstableOffset(); ok {
		t.Fatal("transaction still open")
	}
}

// txnWorkload writes transactions across several segments and returns
// what a reader must see.
func txnWorkload(t *testing.T, h *harness) {
	seq := map[int64]int32{}
	for i := range 30 {
		pid := int64(i%3 + 1)
		h.append(txnBatch(pid, 0, seq[pid], 4))
		seq[pid] += 4
		if i%3 == 2 {
			for p := int64(1); p <= 3; p++ {
				if i%2 == 0 && p != 3 {
					marker(t, h.log, p, 0, p == 1, 0)
				}
			}
		}
	}
}

type txnView struct {
	fu      int64
	aborted []AbortedTxn
	ongoing map[int64]int64
}

func viewTxns(l *Log) txnView {
	fu, _ := l.FirstUnstableOffset()
	return txnView{fu: fu, aborted: l.AbortedTransactions(0, l.LogEndOffset()), ongoing: l.OngoingTransactions()}
}

func sameView(t *testing.T, what string, got, want txnView) {
	t.Helper()
	if got.fu != want.fu || !slices.Equal(got.aborted, want.aborted) || len(got.ongoing) != len(want.ongoing) {
		t.Fatalf("%s: %+v, want %+v", what, got, want)
	}
	for pid, first := range want.ongoing {
		if got.ongoing[pid] != first {
			t.Fatalf("%s: ongoing %v, want %v", what, got.ongoing, want.ongoing)
		}
	}
}

func TestTransactionsRecovery(t *testing.T) {
	cfg := smallConfig()
	cfg.SegmentBytes = 1024 // the workload rolls several times
	h, mem := newMemHarness(t, cfg)
	txnWorkload(t, h)
	if h.log.NumSegments() < 3 {
		t.Fatalf("%d segments, want several", h.log.NumSegments())
	}
	want := viewTxns(h.log)
	if len(want.aborted) == 0 || want.fu < 0 {
		t.Fatalf("workload left no aborted or no ongoing transaction: %+v", want)
	}

	// A clean reopen loads the snapshot and the .txnindex files.
	sameView(t, "reopen", viewTxns(h.reopen()), want)

	// Without snapshots or index files, recovery rebuilds both from the
	// segments.
	h.log.Close()
	for _, ext := range []string{".snapshot", ".txnindex"} {
		names, _ := mem.List(h.dir)
		for _, n := range names {
			if len(n) > len(ext) && n[len(n)-len(ext):] == ext {
				if err := mem.Remove(h.dir + "/" + n); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	sameView(t, "rebuilt", viewTxns(h.open()), want)

	// kill -9 after a flush: what was flushed comes back the same.
	if err := h.log.Flush(); err != nil {
		t.Fatal(err)
	}
	old := h.log
	h.fs = mem.CrashClone()
	t.Cleanup(func() { old.Close() })
	sameView(t, "crash", viewTxns(h.open()), want)

	// Truncation drops the entries of the markers it removes and reopens
	// the transactions they ended.
	last := want.aborted[len(want.aborted)-1]
	var markerOff int64 = -1
	for _, hd := range h.readAll(0) {
		if hd.Control() && hd.ProducerID == last.ProducerID && hd.BaseOffset > last.FirstOffset {
			markerOff = hd.BaseOffset
			break
		}
	}
	if err := h.log.Truncate(markerOff); err != nil {
		t.Fatal(err)
	}
	got := viewTxns(h.log)
	if slices.Contains(got.aborted, last) || got.ongoing[last.ProducerID] != last.FirstOffset {
		t.Fatalf("after truncating to %d: %+v", markerOff, got)
	}
	sameView(t, "reopen after truncate", viewTxns(h.reopen()), got)
}

func TestSnapshotV1StillRead(t *testing.T) {
	ps := producerState{7: {epoch: 1, batches: []batchMeta{{0, 4, 10, 14, 99}}}}
	b := encodeSnapshot(ps)
	got, err := decodeSnapshot(b)
	if err != nil || got[7].inTxn || got[7].epoch != 1 {
		t.Fatalf("v2 round trip: %+v %v", got[7], err)
	}
	// A version 1 snapshot: the same without the transaction fields.
	v1 := append([]byte(snapshotMagic), 0, 1)
	v1 = binary.BigEndian.AppendUint32(v1, 1)
	v1 = binary.BigEndian.AppendUint64(v1, 7)
	v1 = binary.BigEndian.AppendUint16(v1, 1)
	v1 = append(v1, 0)
	v1 = binary.BigEndian.AppendUint32(v1, crc32c(v1))
	got, err = decodeSnapshot(v1)
	if err != nil || got[7].epoch != 1 || got[7].inTxn {
		t.Fatalf("v1: %+v %v", got[7], err)
	}
}

// Compaction drops the records of aborted transactions (they never shadow
// a committed value) and stops at the first unstable offset, so an
// undecided transaction's value does not remove the committed one either.
func TestCleanTransactions(t *testing.T) {
	h := newHarness(t, cleanConfig())
	w := newWriter(h, spec{}, 1)
	w.put(kv{key: "a", value: "a-committed"})
	w.put(kv{key: "b", value: "b-committed"})
	h.append(keyedBatch(spec{pid: 5, attrs: attrTransactional}, []kv{{key: "a", value: "a-aborted"}}))
	marker(t, h.log, 5, 0, false, 0)
	h.append(keyedBatch(spec{pid: 6, attrs: attrTransactional}, []kv{{key: "c", value: "c-committed"}}))
	marker(t, h.log, 6, 0, true, 0)
	w.roll()
	h.append(keyedBatch(spec{pid: 7, attrs: attrTransactional}, []kv{{key: "b", value: "b-open"}}))
	w.roll()
	w.put(kv{key: "d", value: "d"})
	w.roll()
	h.clean(cleanOpts(h))
	var vals []string
	for _, r := range h.records() {
		if !strings.HasPrefix(r.key, "\x00\x00") { // not a marker
			vals = append(vals, r.value)
		}
	}
	if got, want := strings.Join(vals, ","), "a-committed,b-committed,c-committed,b-open,d"; got != want {
		t.Fatalf("after cleaning: %s, want %s", got, want)
	}
	// Once the open transaction commits, its value wins.
	marker(t, h.log, 7, 0, true, 0)
	w.roll()
	w.put(kv{key: "e", value: "e"})
	w.roll()
	h.clean(cleanOpts(h))
	vals = vals[:0]
	for _, r := range h.records() {
		if !strings.HasPrefix(r.key, "\x00\x00") { // not a marker
			vals = append(vals, r.value)
		}
	}
	if got, want := strings.Join(vals, ","), "a-committed,c-committed,b-open,d,e"; got != want {
		t.Fatalf("after the commit: %s, want %s", got, want)
	}
}

// A coordinator's transactional batch (TxnOffsetCommit's) carries no
// sequence, but an older producer epoch than the log has seen is fenced.
func TestCoordinatorBatchEpochFenced(t *testing.T) {
	h, _ := newMemHarness(t, smallConfig())
	h.append(txnBatch(1, 3, 0, 1))
	for _, c := range []struct {
		epoch int16
		err   error
	}{{3, nil}, {2, ErrInvalidProducerEpoch}} {
		b := batch(spec{pid: 1, epoch: c.epoch, seq: -1, attrs: attrTransactional})
		hdrs, _ := ValidateBatches(b, 0)
		_, err := h.log.Append(b, hdrs, AppendOptions{FromCoordinator: true})
		if !errors.Is(err, c.err) && !(c.err == nil && err == nil) {
			t.Errorf("epoch %d: %v, want %v", c.epoch, err, c.err)
		}
	}
}

// TestActiveProducers reports each producer as Kafka's
// UnifiedLog.activeProducers does (DescribeProducers, KIP-664): its epoch,
// last sequence, last batch's timestamp (a marker's too), the coordinator
// epoch of its last marker and its open transaction's first offset; -1
// where there is none. A reopened log reports the same but for a
// marker's timestamp, which the snapshot does not keep.
func TestActiveProducers(t *testing.T) {
	h, _ := newMemHarness(t, Config{SegmentBytes: 1 << 20, IndexIntervalBytes: 256, RetentionMs: -1, RetentionBytes: -1})
	h.append(batch(spec{n: 2, pid: 9, epoch: 1, valueSize: 4, baseTs: 5000, tsStep: 10})) // 0-1: idempotent, seq 0-1
	h.append(txnBatch(1, 0, 0, 3))                                                        // 2-4: producer 1 begins at 2
	h.append(txnBatch(2, 4, 0, 2))                                                        // 5-6: producer 2 begins at 5
	marker(t, h.log, 2, 4, true, 7)                                                       // 7: producer 2 commits
	markerTs := h.clock.Now().UnixMilli()
	want := []ProducerInfo{
		{ProducerID: 1, Epoch: 0, LastSequence: 2, LastTimestamp: 1000, CoordinatorEpoch: -1, TxnStartOffset: 2},
		{ProducerID: 2, Epoch: 4, LastSequence: 1, LastTimestamp: markerTs, CoordinatorEpoch: 7, TxnStartOffset: -1},
		{ProducerID: 9, Epoch: 1, LastSequence: 1, LastTimestamp: 5010, CoordinatorEpoch: -1, TxnStartOffset: -1},
	}
	if got := h.log.ActiveProducers(); !slices.Equal(got, want) {
		t.Fatalf("active producers\n got %+v\nwant %+v", got, want)
	}
	h.reopen()
	want[1].LastTimestamp = 1000 // its last data batch's
	if got := h.log.ActiveProducers(); !slices.Equal(got, want) {
		t.Fatalf("after a reopen\n got %+v\nwant %+v", got, want)
	}
}
