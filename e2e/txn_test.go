package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
)

// Transactions end to end with franz-go (docs/TRANSACTIONS.md).

// consumeToSentinels reads topic from the start with the given isolation
// level until every partition's record "end" (written last, outside any
// transaction) has been seen, and returns the values before it.
func consumeToSentinels(t *testing.T, cl *kgo.Client, topic string, partitions int) map[int32][]string {
	t.Helper()
	ctx := testContext(t, 30*time.Second)
	out := map[int32][]string{}
	ended := map[int32]bool{}
	for len(ended) < partitions {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consume %s: %v; sentinels seen %v", topic, ctx.Err(), ended)
		}
		fetches.EachError(func(topic string, p int32, err error) { t.Errorf("consume %s/%d: %v", topic, p, err) })
		fetches.EachRecord(func(r *kgo.Record) {
			if string(r.Value) == "end" {
				ended[r.Partition] = true
				return
			}
			if ended[r.Partition] {
				t.Errorf("partition %d: %q after the sentinel", r.Partition, r.Value)
			}
			out[r.Partition] = append(out[r.Partition], string(r.Value))
		})
	}
	return out
}

func writeSentinels(t *testing.T, cl *kgo.Client, topic string, partitions int) {
	t.Helper()
	for p := range partitions {
		produceSync(t, cl, &kgo.Record{Topic: topic, Partition: int32(p), Value: []byte("end")})
	}
}

// TestTransactionsReadCommitted commits and aborts transactions over three
// partitions: read_committed sees every committed record once, in order,
// and no aborted one; read_uncommitted sees them all.
func TestTransactionsReadCommitted(t *testing.T) {
	t.Parallel()
	b := startBroker(t, nil)
	const topic, partitions, txns, perTxn = "txn-rc", 3, 24, 9
	createTopic(t, admin(t, b), topic, partitions, nil)

	p := b.Client(t, kgo.TransactionalID("txn-rc-producer"), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.TransactionTimeout(10*time.Second))
	ctx := testContext(t, 30*time.Second)
	want := map[int32][]string{}
	all := map[int32][]string{}
	committed, aborted := 0, 0
	for i := range txns {
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		commit := i%3 != 2
		var recs []*kgo.Record
		for j := range perTxn {
			part := int32(j % partitions)
			v := fmt.Sprintf("%d-%d", i, j)
			recs = append(recs, &kgo.Record{Topic: topic, Partition: part, Value: []byte(v)})
			all[part] = append(all[part], v)
			if commit {
				want[part] = append(want[part], v)
			}
		}
		if err := p.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("transaction %d: produce: %v", i, err)
		}
		if err := p.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatalf("transaction %d: end (commit %v): %v", i, commit, err)
		}
		if commit {
			committed++
		} else {
			aborted++
		}
	}
	writeSentinels(t, b.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner())), topic, partitions)
	rc := consumeToSentinels(t, b.Client(t, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted())), topic, partitions)
	ru := consumeToSentinels(t, b.Client(t, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadUncommitted())), topic, partitions)
	n := 0
	for part := range int32(partitions) {
		if got, w := strings.Join(rc[part], ","), strings.Join(want[part], ","); got != w {
			t.Errorf("read_committed partition %d:\n got %s\nwant %s", part, got, w)
		}
		if got, w := strings.Join(ru[part], ","), strings.Join(all[part], ","); got != w {
			t.Errorf("read_uncommitted partition %d:\n got %s\nwant %s", part, got, w)
		}
		n += len(rc[part])
	}
	t.Logf("%d transactions committed, %d aborted; %d committed records read once by read_committed, %d by read_uncommitted",
		committed, aborted, n, committed*perTxn+aborted*perTxn)
}

var _ = context.Background
var _ brokertest.Options
