package txn

import (
	"errors"
	"testing"

	"github.com/weirhq/weir/broker/internaltopic"
)

// TestLoadSkipsUnreadableRecords: a record that cannot be read is skipped
// and the rest of the partition still loads; records of another key
// version (not the transaction log's) are not ours and are ignored.
func TestLoadSkipsUnreadableRecords(t *testing.T) {
	h := newHarness(t)
	h.loadAll()
	id := "t"
	p := h.c.PartitionFor(id)
	good := NewLogValue()
	good.ProducerID, good.ProducerEpoch, good.TimeoutMs, good.StartMs = 7, 3, 60000, -1
	dead := good
	dead.State = Dead
	other := append([]byte{0, 1}, EncodeKey(id)[2:]...) // key version 1
	for _, r := range []internaltopic.Record{
		{Key: EncodeKey(id), Value: good.Encode()},
		{Key: EncodeKey(id), Value: []byte{0, 9, 1, 2}},       // unknown value version
		{Key: []byte{0, 0, 0, 40, 'x'}, Value: good.Encode()}, // truncated key
		{Key: other, Value: []byte("not a transaction")},
		{Key: EncodeKey(id), Value: dead.Encode()}, // a state never stored
	} {
		if err := h.store.Append(p, internaltopic.EncodeBatch([]internaltopic.Record{r}, h.now)); err != nil {
			t.Fatal(err)
		}
	}
	h.start()
	h.loadAll()
	tx, err := h.c.lookup(id)
	if err != nil || tx == nil {
		t.Fatalf("lookup after load: %v %v", tx, err)
	}
	if got := renderMeta(tx.meta, h.now); got != "Empty pid=7 epoch=3 timeout=1m0s" {
		t.Fatalf("loaded %s", got)
	}
}

// TestLoadFailure: a partition whose log cannot be read is not served.
func TestLoadFailure(t *testing.T) {
	h := newHarness(t)
	failing := &failingStorage{MemoryStorage: h.store}
	h.c = New(h.c.cfg, failing, h.writer)
	if err := h.c.LoadPartition(0, 1); err == nil {
		t.Fatal("load over a failing log succeeded")
	}
	if h.c.Loaded(0) {
		t.Fatal("a partition that failed to load is served")
	}
}

type failingStorage struct{ *MemoryStorage }

func (failingStorage) Bounds(int32) (int64, int64, error) { return 0, 0, errBounds }

var errBounds = errors.New("bounds: input/output error")
