package log

import (
	"errors"
	"math"
	"os"
	"testing"
)

func TestProducerIdempotence(t *testing.T) {
	h := newHarness(t, smallConfig())
	p := func(epoch int16, seq int32, n int) []byte { return batch(spec{n: n, pid: 9, epoch: epoch, seq: seq}) }

	first := h.append(p(0, 0, 3)) // offsets 0-2, seqs 0-2
	h.append(p(0, 3, 2))          // 3-4, seqs 3-4

	dup, err := h.tryAppend(p(0, 0, 3))
	if err != nil || !dup.Duplicate || dup.FirstOffset != first.FirstOffset || dup.LastOffset != 2 {
		t.Fatalf("duplicate: %+v %v", dup, err)
	}
	if h.log.LogEndOffset() != 5 {
		t.Fatal("duplicate was appended")
	}
	tests := []struct {
		name string
		b    []byte
		err  error
	}{
		{"gap", p(0, 7, 1), ErrOutOfOrderSequence},
		{"overlap not equal to a cached batch", p(0, 1, 1), ErrOutOfOrderSequence},
		{"old epoch", p(-1, 5, 1), ErrInvalidProducerEpoch},
		{"new epoch not at zero", p(1, 5, 1), ErrOutOfOrderSequence},
		{"unknown producer not at zero", batch(spec{pid: 10, seq: 4}), ErrOutOfOrderSequence},
	}
	for _, tc := range tests {
		if _, err := h.tryAppend(tc.b); !errors.Is(err, tc.err) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.err)
		}
	}
	if h.log.LogEndOffset() != 5 {
		t.Fatal("a rejected batch was appended")
	}
	h.append(p(0, 5, 1))
	h.append(p(1, 0, 1)) // epoch bump fences epoch 0
	if _, err := h.tryAppend(p(0, 6, 1)); !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("fenced epoch: %v", err)
	}
	if e, ok := h.log.ProducerEpoch(9); !ok || e != 1 {
		t.Fatalf("ProducerEpoch = %d %v", e, ok)
	}
	if _, ok := h.log.ProducerEpoch(1234); ok {
		t.Fatal("unknown producer has an epoch")
	}
}

func TestProducerDuplicateWindowIsFive(t *testing.T) {
	h := newHarness(t, Config{})
	for i := range 6 {
		h.append(batch(spec{pid: 1, seq: int32(i)}))
	}
	if info, _ := h.tryAppend(batch(spec{pid: 1, seq: 1})); !info.Duplicate || info.FirstOffset != 1 {
		t.Fatalf("seq 1 is among the last five: %+v", info)
	}
	if _, err := h.tryAppend(batch(spec{pid: 1, seq: 0})); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("seq 0 fell out of the window: %v", err)
	}
}

func TestProducerSequenceWraps(t *testing.T) {
	h := newHarness(t, Config{})
	h.append(batch(spec{pid: 1, seq: 0}))
	e := h.log.mu.producers[1]
	e.batches[0].lastSeq = math.MaxInt32 - 1 // pretend we are near the end
	h.append(batch(spec{n: 2, pid: 1, seq: math.MaxInt32 - 0}))
	// The batch above had seqs MaxInt32, 0; next is 1.
	h.append(batch(spec{pid: 1, seq: 1}))
}

func TestProducerMultiBatchAllOrNothing(t *testing.T) {
	h := newHarness(t, Config{})
	h.append(batch(spec{pid: 1, seq: 0}))
	_, err := h.tryAppend(batch(spec{pid: 1, seq: 1}), batch(spec{pid: 1, seq: 2}), batch(spec{pid: 1, seq: 9}))
	if !errors.Is(err, ErrOutOfOrderSequence) || h.log.LogEndOffset() != 1 {
		t.Fatalf("err %v, LEO %d", err, h.log.LogEndOffset())
	}
	// State was not half-applied: seq 1 is next.
	info := h.append(batch(spec{pid: 1, seq: 1}), batch(spec{pid: 1, seq: 2}), batch(spec{pid: 2}))
	if info.FirstOffset != 1 || info.LastOffset != 3 {
		t.Fatalf("%+v", info)
	}
}

func TestProducerStateSurvivesCloseAndCrash(t *testing.T) {
	cfg := smallConfig()
	h := newHarness(t, cfg)
	for i := range 30 { // several rolls, so several snapshots
		h.append(batch(spec{valueSize: 200, pid: 5, epoch: 2, seq: int32(i)}))
	}
	check := func(when string) {
		t.Helper()
		info, err := h.tryAppend(batch(spec{pid: 5, epoch: 2, seq: 29}))
		if err != nil || !info.Duplicate || info.FirstOffset != 29 {
			t.Fatalf("%s: retry of the last batch: %+v %v", when, info, err)
		}
		if _, err := h.tryAppend(batch(spec{pid: 5, epoch: 1, seq: 30})); !errors.Is(err, ErrInvalidProducerEpoch) {
			t.Fatalf("%s: old epoch: %v", when, err)
		}
		if _, err := h.tryAppend(batch(spec{pid: 5, epoch: 2, seq: 31})); !errors.Is(err, ErrOutOfOrderSequence) {
			t.Fatalf("%s: gap: %v", when, err)
		}
	}
	check("live")
	h.reopen()
	check("after close")
	h.crash()
	check("after crash")
	// Crash with every snapshot lost: replay from the segments.
	for _, p := range h.segmentFiles(".snapshot") {
		os.Remove(p)
	}
	h.crash()
	check("after crash without snapshots")
	// A corrupt snapshot is ignored.
	h.reopen()
	for _, p := range h.segmentFiles(".snapshot") {
		os.WriteFile(p, []byte("WPSN garbage"), 0o644)
	}
	h.crash()
	check("after crash with corrupt snapshots")
}

func TestSnapshotRoundTrip(t *testing.T) {
	ps := producerState{
		1: {epoch: 3, batches: []batchMeta{{0, 4, 10, 14, 99}, {5, 5, 20, 20, 100}}},
		7: {epoch: 0},
	}
	got, err := decodeSnapshot(encodeSnapshot(ps))
	if err != nil || len(got) != 2 || got[1].epoch != 3 || got[1].batches[1] != ps[1].batches[1] || got[7].epoch != 0 {
		t.Fatalf("%v %v", got, err)
	}
	b := encodeSnapshot(ps)
	b[12] ^= 1
	if _, err := decodeSnapshot(b); err == nil {
		t.Fatal("corrupt snapshot accepted")
	}
}

func TestAppendReplica(t *testing.T) {
	leader := newHarness(t, smallConfig())
	for i := range 20 {
		leader.append(batch(spec{n: 2, valueSize: 100, pid: 3, seq: int32(2 * i)}))
	}
	follower := newHarness(t, smallConfig())
	for off := int64(0); off < leader.log.LogEndOffset(); {
		b, _ := leader.log.Read(off, 1000, 1<<62, true)
		hdrs, err := ValidateBatches(b, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := follower.log.AppendReplica(b, hdrs); err != nil {
			t.Fatal(err)
		}
		off = hdrs[len(hdrs)-1].LastOffset() + 1
	}
	if follower.log.LogEndOffset() != 40 {
		t.Fatalf("follower LEO %d", follower.log.LogEndOffset())
	}
	b, _ := leader.log.Read(0, 1000, 1<<62, true)
	hdrs, _ := ValidateBatches(b, 0)
	if err := follower.log.AppendReplica(b, hdrs); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("replica append not at LEO: %v", err)
	}
	got := follower.readAll(0)
	if got[5].PartitionLeaderEpoch != 7 || got[5].BaseOffset != 10 {
		t.Fatalf("follower batch %+v", got[5])
	}
	if info, _ := follower.tryAppend(batch(spec{n: 2, pid: 3, seq: 38})); !info.Duplicate {
		t.Fatal("follower did not learn producer state")
	}
}
