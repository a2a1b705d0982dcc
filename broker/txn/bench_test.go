package txn

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// BenchmarkTransaction measures one whole transaction through the
// coordinator: AddPartitionsToTxn (two partitions), EndTxn(commit), the
// markers' answer and the completion: four records appended to
// MemoryStorage.
func BenchmarkTransaction(b *testing.B) {
	h := newHarness(b)
	h.loadAll()
	id := "t"
	ir := kmsg.NewPtrInitProducerIDRequest()
	ir.Version, ir.TransactionalID, ir.TransactionTimeoutMillis = 4, &id, 60_000
	resp := h.c.InitProducerID(ir)
	ar := kmsg.NewPtrAddPartitionsToTxnRequest()
	ar.Version, ar.TransactionalID, ar.ProducerID, ar.ProducerEpoch = 3, id, resp.ProducerID, resp.ProducerEpoch
	at := kmsg.NewAddPartitionsToTxnRequestTopic()
	at.Topic, at.Partitions = "a", []int32{0, 1}
	ar.Topics = append(ar.Topics, at)
	er := kmsg.NewPtrEndTxnRequest()
	er.Version, er.TransactionalID, er.ProducerID, er.ProducerEpoch, er.Commit = 4, id, resp.ProducerID, resp.ProducerEpoch, true
	b.ReportAllocs()
	for b.Loop() {
		if code := h.c.AddPartitionsToTxn(ar).Topics[0].Partitions[0].ErrorCode; code != 0 {
			b.Fatal(codeName(code))
		}
		if code := h.c.EndTxn(er).ErrorCode; code != 0 {
			b.Fatal(codeName(code))
		}
		if !h.writer.answer(id, nil) {
			b.Fatal("no markers")
		}
		h.writer.drain()
	}
}
