package group

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	wlog "github.com/weirhq/weir/broker/log"
)

func (h *harness) txnCommit(group string, pid int64, topic string, part int32, off int64) *kerr.Error {
	r := kmsg.NewPtrTxnOffsetCommitRequest()
	r.Version = 3
	r.TransactionalID, r.Group, r.ProducerID, r.ProducerEpoch, r.Generation = "t", group, pid, 0, -1
	rt := kmsg.NewTxnOffsetCommitRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset = part, off
	rt.Partitions = append(rt.Partitions, rp)
	r.Topics = append(r.Topics, rt)
	return codeErr(h.c.TxnOffsetCommit(r).Topics[0].Partitions[0].ErrorCode)
}

func (h *harness) fetchStable(group, topic string, part int32) (int64, int16) {
	r := kmsg.NewPtrOffsetFetchRequest()
	r.Version, r.RequireStable = 7, true
	r.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic, rt.Partitions = topic, []int32{part}
	r.Topics = append(r.Topics, rt)
	p := h.c.OffsetFetch(r).Topics[0].Partitions[0]
	return p.Offset, p.ErrorCode
}

// marker writes producer pid's marker to the group's partition, as the
// partition leader does for WriteTxnMarkers, and tells the coordinator.
func (h *harness) marker(group string, pid int64, commit bool) {
	p := h.c.PartitionFor(group)
	if err := h.store.Append(p, wlog.ControlBatch(pid, 0, wlog.Marker{Commit: commit}, 0)); err != nil {
		h.t.Fatal(err)
	}
	h.c.CompleteTxn(p, pid, commit)
}

func TestTxnOffsetCommit(t *testing.T) {
	h := newHarness(t)
	h.wantErr(h.commit("g", "", -1, "in", 0, 5), nil, "plain commit")
	h.wantErr(h.txnCommit("g", 7, "in", 0, 10), nil, "txn commit")
	if off, _ := h.fetch("g", "in", 0); off != 5 {
		t.Fatalf("pending offset visible: %d", off)
	}
	if _, code := h.fetchStable("g", "in", 0); code != kerr.UnstableOffsetCommit.Code {
		t.Fatalf("RequireStable: code %d, want UNSTABLE_OFFSET_COMMIT", code)
	}
	h.marker("g", 7, true)
	if off, code := h.fetchStable("g", "in", 0); off != 10 || code != 0 {
		t.Fatalf("after commit: %d %d", off, code)
	}
	h.wantErr(h.txnCommit("g", 8, "in", 0, 20), nil, "second txn commit")
	h.marker("g", 8, false)
	if off, _ := h.fetch("g", "in", 0); off != 10 {
		t.Fatalf("aborted offset applied: %d", off)
	}
	// A pending one across a restart stays pending until its marker.
	h.wantErr(h.txnCommit("g", 9, "in", 1, 30), nil, "third txn commit")
	h.start()
	if off, _ := h.fetch("g", "in", 0); off != 10 {
		t.Fatalf("reloaded: %d, want 10", off)
	}
	if _, code := h.fetchStable("g", "in", 1); code != kerr.UnstableOffsetCommit.Code {
		t.Fatalf("reloaded pending: code %d", code)
	}
	h.marker("g", 9, true)
	h.start()
	if off, _ := h.fetch("g", "in", 1); off != 30 {
		t.Fatalf("reloaded after the commit marker: %d, want 30", off)
	}
}

// A marker written while the partition loads, after the point the load
// read to, still commits the offsets it covers.
func TestCompleteTxnWhileLoading(t *testing.T) {
	h := newHarness(t)
	h.wantErr(h.txnCommit("g", 7, "in", 0, 10), nil, "txn commit")
	p := h.c.PartitionFor("g")
	h.c = New(h.cfg, h.store)
	h.c.MarkLoading(p)
	h.c.CompleteTxn(p, 7, true) // the marker, not in what the load reads
	if err := h.c.LoadPartition(p); err != nil {
		t.Fatal(err)
	}
	if off, code := h.fetchStable("g", "in", 0); off != 10 || code != 0 {
		t.Fatalf("after a marker during the load: offset %d code %d, want 10", off, code)
	}
}
