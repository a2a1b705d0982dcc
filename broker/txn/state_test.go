package txn

import (
	"fmt"
	"testing"
	"time"

	"github.com/weirhq/weir/broker/internaltopic"
)

// TestTransitions checks CanTransition against Kafka's
// TransactionState.validPreviousStates, written out as the legal moves.
func TestTransitions(t *testing.T) {
	legal := map[string]bool{}
	for _, m := range []string{
		"Empty>Empty", "CompleteCommit>Empty", "CompleteAbort>Empty",
		"Ongoing>Ongoing", "Empty>Ongoing", "CompleteCommit>Ongoing", "CompleteAbort>Ongoing",
		"Ongoing>PrepareCommit",
		"Ongoing>PrepareAbort", "PrepareEpochFence>PrepareAbort", "Empty>PrepareAbort",
		"CompleteCommit>PrepareAbort", "CompleteAbort>PrepareAbort",
		"PrepareCommit>CompleteCommit", "PrepareAbort>CompleteAbort",
		"Empty>Dead", "CompleteAbort>Dead", "CompleteCommit>Dead",
		"Ongoing>PrepareEpochFence",
	} {
		legal[m] = true
	}
	for from := Empty; from <= PrepareEpochFence; from++ {
		for to := Empty; to <= PrepareEpochFence; to++ {
			m := fmt.Sprintf("%s>%s", from, to)
			if got := CanTransition(from, to); got != legal[m] {
				t.Errorf("CanTransition(%s) = %t", m, got)
			}
		}
	}
	if CanTransition(Empty, State(9)) || State(9).String() != "Unknown" {
		t.Error("an unknown state is a legal target")
	}
	for s := Empty; s <= PrepareEpochFence; s++ {
		if got, ok := StateNamed(s.String()); !ok || got != s {
			t.Errorf("StateNamed(%q) = %v, %t", s.String(), got, ok)
		}
	}
}

// TestIllegalTransitionPanics: storing a move Kafka forbids is a broken
// invariant, caught before anything is appended.
func TestIllegalTransitionPanics(t *testing.T) {
	h := newHarness(t)
	h.loadAll()
	tx := newTxn(h.c, "t", 0, 1)
	tx.meta.state, tx.meta.producerID, tx.meta.epoch = Empty, 1, 0
	defer func() {
		if recover() == nil {
			t.Fatal("Empty to CompleteCommit was stored")
		}
		if n := h.store.Records(0); n != 0 {
			t.Fatalf("%d records appended", n)
		}
	}()
	next := tx.meta
	next.state = CompleteCommit
	tx.persist(next)
}

// FuzzLoad: whatever bytes a __transaction_state partition holds, loading
// it does not panic.
func FuzzLoad(f *testing.F) {
	v := goldenValue(1)
	f.Add(internaltopic.EncodeBatch([]internaltopic.Record{{Key: EncodeKey("t"), Value: v.Encode()}, {Key: EncodeKey("u")}}, time.Unix(0, 0)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h := newHarness(t)
		h.c = New(h.c.cfg, rawStorage(b), h.writer)
		_ = h.c.LoadPartition(0, 1)
	})
}

// rawStorage is a partition holding exactly the given bytes.
type rawStorage []byte

func (rawStorage) Append(int32, []byte) error           { return nil }
func (r rawStorage) Bounds(int32) (int64, int64, error) { return 0, int64(len(r)), nil }
func (r rawStorage) Read(_ int32, off int64) ([]byte, error) {
	if off > 0 {
		return nil, nil
	}
	return r, nil
}
