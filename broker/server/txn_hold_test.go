package server

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/txn"
	poll "github.com/weirhq/weir/internal/await"
)

// heldMarkers is a txn.MarkerWriter that keeps each transaction's markers
// until the test answers them.
type heldMarkers struct {
	mu   sync.Mutex
	done []func(map[txn.TopicPartition]error)
}

func (w *heldMarkers) WriteMarkers(_ txn.Markers, done func(map[txn.TopicPartition]error)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = append(w.done, done)
}

// writeAll answers every marker request held so far: all written.
func (w *heldMarkers) writeAll() {
	w.mu.Lock()
	done := w.done
	w.done = nil
	w.mu.Unlock()
	for _, d := range done {
		d(nil)
	}
}

// holdBroker is a Broker with only what the transaction handlers use: a
// coordinator over memory storage that owns every __transaction_state
// partition, its markers held by w.
func holdBroker(t *testing.T, w *heldMarkers) *Broker {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pid := int64(1000)
	c := txn.New(txn.Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), NumPartitions: 1,
		NewProducerID: func() (int64, error) { pid++; return pid, nil },
	}, txn.NewMemoryStorage(), w)
	if err := c.LoadPartition(0, 0); err != nil {
		t.Fatal(err)
	}
	return &Broker{ctx: ctx, txns: c}
}

// committed runs InitProducerId, adds partition 0 of topic t and commits
// (EndTxn v3): it returns the producer id and epoch with the commit's
// markers held.
func committed(t *testing.T, b *Broker, id string) (int64, int16) {
	init := kmsg.NewPtrInitProducerIDRequest()
	init.TransactionalID, init.TransactionTimeoutMillis = &id, 60000
	ir := b.txns.InitProducerID(init)
	if ir.ErrorCode != 0 {
		t.Fatalf("InitProducerId: %v", kerr.ErrorForCode(ir.ErrorCode))
	}
	if code := addPartition(b, id, ir.ProducerID, ir.ProducerEpoch, 0); code != 0 {
		t.Fatalf("AddPartitionsToTxn: %v", kerr.ErrorForCode(code))
	}
	end := kmsg.NewPtrEndTxnRequest()
	end.Version, end.TransactionalID, end.ProducerID, end.ProducerEpoch, end.Commit = 3, id, ir.ProducerID, ir.ProducerEpoch, true
	if er := b.txns.EndTxn(end); er.ErrorCode != 0 {
		t.Fatalf("EndTxn: %v", kerr.ErrorForCode(er.ErrorCode))
	}
	return ir.ProducerID, ir.ProducerEpoch
}

// addPartition sends AddPartitionsToTxn v3 for partition p of topic "t"
// through the handler and returns the partition's error code.
func addPartition(b *Broker, id string, pid int64, epoch int16, p int32) int16 {
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version, req.TransactionalID, req.ProducerID, req.ProducerEpoch = 3, id, pid, epoch
	rt := kmsg.NewAddPartitionsToTxnRequestTopic()
	rt.Topic, rt.Partitions = "t", []int32{p}
	req.Topics = append(req.Topics, rt)
	resp := b.handleAddPartitionsToTxn(req).(*kmsg.AddPartitionsToTxnResponse)
	return resp.Topics[0].Partitions[0].ErrorCode
}

// TestAddPartitionsToTxnHeldForMarkers: the next transaction's first
// AddPartitionsToTxn, sent while the previous one's markers are still
// being written, is held until they are and then answered NONE, rather
// than answered CONCURRENT_TRANSACTIONS (which cost franz-go a 20 ms
// backoff per transaction); with the markers never written it is
// answered CONCURRENT_TRANSACTIONS after concurrentTxnHold, not held on.
func TestAddPartitionsToTxnHeldForMarkers(t *testing.T) {
	w := &heldMarkers{}
	b := holdBroker(t, w)
	pid, epoch := committed(t, b, "held")

	start := time.Now()
	if code := addPartition(b, "held", pid, epoch, 1); code != kerr.ConcurrentTransactions.Code {
		t.Fatalf("with the markers never written: %v, want CONCURRENT_TRANSACTIONS", kerr.ErrorForCode(code))
	}
	if took := time.Since(start); took < concurrentTxnHold {
		t.Errorf("answered CONCURRENT_TRANSACTIONS after %v, want it held %v first", took, concurrentTxnHold)
	}

	// Held long enough that the markers' completion, not the hold's end,
	// answers it however slowly this machine runs the poll below.
	holdLonger(t)
	answer := make(chan int16, 1)
	start = time.Now()
	go func() { answer <- addPartition(b, "held", pid, epoch, 1) }()
	poll.True(t, 10*time.Second, "the AddPartitionsToTxn held for the markers", func() bool {
		buf := make([]byte, 1<<20)
		return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "(*Broker).awaitMarkers")
	})
	w.writeAll()
	if code := <-answer; code != 0 {
		t.Fatalf("after the markers were written: %v, want NONE", kerr.ErrorForCode(code))
	}
	if took := time.Since(start); took >= concurrentTxnHold {
		t.Errorf("answered after %v: the markers' completion should have woken it", took)
	}
}

// holdLonger sets concurrentTxnHold to a minute for t.
func holdLonger(t *testing.T) {
	was := concurrentTxnHold
	concurrentTxnHold = time.Minute
	t.Cleanup(func() { concurrentTxnHold = was })
}

// TestAddOffsetsToTxnHeldForMarkers is the same for AddOffsetsToTxn,
// whose error is one code for the request.
func TestAddOffsetsToTxnHeldForMarkers(t *testing.T) {
	w := &heldMarkers{}
	b := holdBroker(t, w)
	pid, epoch := committed(t, b, "offsets")
	holdLonger(t)
	req := kmsg.NewPtrAddOffsetsToTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group = "offsets", pid, epoch, "g"
	answer := make(chan int16, 1)
	go func() { answer <- b.handleAddOffsetsToTxn(req).(*kmsg.AddOffsetsToTxnResponse).ErrorCode }()
	poll.True(t, 10*time.Second, "the AddOffsetsToTxn held for the markers", func() bool {
		buf := make([]byte, 1<<20)
		return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "(*Broker).awaitMarkers")
	})
	w.writeAll()
	if code := <-answer; code != 0 {
		t.Fatalf("after the markers were written: %v, want NONE", kerr.ErrorForCode(code))
	}
}
