package txn

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/group"
	"github.com/weirhq/weir/internal/await"
)

// asyncWriter answers every marker request from its own goroutine, as
// the broker's writer will (WriteTxnMarkers over the network); the first
// answer for each transaction fails one partition, so retries run too.
type asyncWriter struct {
	reqs chan func()
	mu   sync.Mutex
	seen map[string]bool
}

func (w *asyncWriter) WriteMarkers(m Markers, done func(map[TopicPartition]error)) {
	w.mu.Lock()
	fail := !w.seen[m.TransactionalID]
	w.seen[m.TransactionalID] = true
	w.mu.Unlock()
	w.reqs <- func() {
		failed := map[TopicPartition]error{}
		if fail && len(m.Partitions) > 0 {
			failed[m.Partitions[0]] = fmt.Errorf("leader moved")
		}
		done(failed)
	}
}

// TestConcurrentProducers runs producers, the Tick loop and an
// asynchronous marker writer at once (for -race), and checks every
// transaction commits.
func TestConcurrentProducers(t *testing.T) {
	store := NewMemoryStorage()
	w := &asyncWriter{reqs: make(chan func(), 64), seen: map[string]bool{}}
	var pid sync.Mutex
	next := int64(0)
	c := New(Config{NumPartitions: 3, TickInterval: time.Millisecond, MarkerRetryBackoff: time.Millisecond,
		NewProducerID: func() (int64, error) { pid.Lock(); defer pid.Unlock(); next++; return next, nil }}, store, w)
	for p := range int32(3) {
		if err := c.LoadPartition(p, 1); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { c.Run(ctx) })
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case f := <-w.reqs:
				f()
			}
		}
	})
	defer func() { cancel(); wg.Wait() }()

	var producers sync.WaitGroup
	for i := range 8 {
		producers.Go(func() { produce(t, c, fmt.Sprintf("producer-%d", i), 20) })
	}
	producers.Wait()
	for i := range 8 {
		id := fmt.Sprintf("producer-%d", i)
		await.True(t, 10*time.Second, id+" committed", func() bool { return describeState(c, id) == "CompleteCommit" })
	}
}

// produce runs n transactions, retrying CONCURRENT_TRANSACTIONS.
func produce(t *testing.T, c *Coordinator, id string, n int) {
	ir := kmsg.NewPtrInitProducerIDRequest()
	ir.Version, ir.TransactionalID, ir.TransactionTimeoutMillis = 4, &id, 60_000
	resp := c.InitProducerID(ir)
	if resp.ErrorCode != 0 {
		t.Errorf("%s: init: %s", id, codeName(resp.ErrorCode))
		return
	}
	for i := range n {
		r := kmsg.NewPtrAddPartitionsToTxnRequest()
		r.Version, r.TransactionalID, r.ProducerID, r.ProducerEpoch = 3, id, resp.ProducerID, resp.ProducerEpoch
		rt := kmsg.NewAddPartitionsToTxnRequestTopic()
		rt.Topic, rt.Partitions = "t", []int32{int32(i % 3), 5}
		r.Topics = append(r.Topics, rt)
		for !retry(t, id, c.AddPartitionsToTxn(r).Topics[0].Partitions[0].ErrorCode) {
		}
		er := kmsg.NewPtrEndTxnRequest()
		er.Version, er.TransactionalID, er.ProducerID, er.ProducerEpoch, er.Commit = 4, id, resp.ProducerID, resp.ProducerEpoch, true
		for !retry(t, id, c.EndTxn(er).ErrorCode) {
		}
	}
}

// retry reports whether a request is done: true on success or a failure
// (reported), false on CONCURRENT_TRANSACTIONS after a short wait.
func retry(t *testing.T, id string, code int16) bool {
	switch codeName(code) {
	case "ok":
		return true
	case "CONCURRENT_TRANSACTIONS":
		time.Sleep(time.Millisecond) // the client's retry backoff
		return false
	}
	t.Errorf("%s: %s", id, codeName(code))
	return true
}

func describeState(c *Coordinator, id string) string {
	r := kmsg.NewPtrDescribeTransactionsRequest()
	r.TransactionalIDs = []string{id}
	return c.DescribeTransactions(r).TransactionStates[0].State
}

// TestAddOffsetsUsesGroupPlacement: the partition AddOffsetsToTxn adds is
// the one the group coordinator keeps the group's offsets in, even where
// that differs from Kafka's formula (see docs/TRANSACTIONS.md).
func TestAddOffsetsUsesGroupPlacement(t *testing.T) {
	h := newHarness(t, func(cfg *Config) { cfg.OffsetsPartitions = 50 })
	h.loadAll()
	id := "t"
	ir := kmsg.NewPtrInitProducerIDRequest()
	ir.Version, ir.TransactionalID, ir.TransactionTimeoutMillis = 4, &id, 60_000
	resp := h.c.InitProducerID(ir)
	r := kmsg.NewPtrAddOffsetsToTxnRequest()
	r.Version, r.TransactionalID, r.ProducerID, r.ProducerEpoch, r.Group = 3, id, resp.ProducerID, resp.ProducerEpoch, "my-txn-producer-7"
	if code := h.c.AddOffsetsToTxn(r).ErrorCode; code != 0 {
		t.Fatal(codeName(code))
	}
	want := TopicPartition{ConsumerOffsetsTopic, group.PartitionFor(r.Group, 50)}
	if got := describeTopics(h.c, id); got != want.String() {
		t.Fatalf("AddOffsetsToTxn added %s, the group lives in %s", got, want)
	}
}

func describeTopics(c *Coordinator, id string) string {
	r := kmsg.NewPtrDescribeTransactionsRequest()
	r.TransactionalIDs = []string{id}
	st := c.DescribeTransactions(r).TransactionStates[0]
	if len(st.Topics) != 1 || len(st.Topics[0].Partitions) != 1 {
		return fmt.Sprint(st.Topics)
	}
	return fmt.Sprintf("%s-%d", st.Topics[0].Topic, st.Topics[0].Partitions[0])
}
