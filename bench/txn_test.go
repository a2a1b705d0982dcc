package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestProduceTxnsCommits runs the transactional workload against kfake and
// reads the topic back read_committed: every record of the run, plus the
// warm-up transaction's one, was committed. The step recorder saw the
// run's three EndTxn round trips and not the warm-up's.
func TestProduceTxnsCommits(t *testing.T) {
	brokers := newCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o := Options{Brokers: brokers, Topic: "tx", Partitions: 3, RecordSize: 10, Records: 250, Acks: "all", Idempotent: true}
	rec := newStepRecorder()
	res, err := produceTxns(ctx, o, 100, rec)
	if err != nil {
		t.Fatalf("produceTxns: %v", err)
	}
	counts := map[string]int64{}
	for _, st := range rec.steps().Requests {
		counts[st.Request] = st.Count
		if st.P50 <= 0 || st.P99 < st.P50 {
			t.Errorf("step %+v: want 0 < p50 <= p99", st)
		}
	}
	if counts["EndTxn"] != 3 || counts["Produce"] < 3 {
		t.Errorf("steps %v: want 3 EndTxn (not the warm-up's) and at least 3 Produce", counts)
	}
	if res.Records != 250 || res.Bytes != 2500 || res.RecordsPerSec <= 0 {
		t.Errorf("result %+v: want 250 records, 2500 bytes", res)
	}
	if got := countCommitted(ctx, t, brokers, "tx"); got != 251 {
		t.Errorf("read_committed sees %d records, want 251", got)
	}
}

// countCommitted consumes topic read_committed until a fetch returns
// nothing new for a second and returns how many records it saw.
func countCommitted(ctx context.Context, t *testing.T, brokers []string, topic string) int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	defer cl.Close()
	n := 0
	for {
		fctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := cl.PollFetches(fctx)
		cancel()
		if ctx.Err() != nil {
			t.Fatalf("consuming %s: %v", topic, ctx.Err())
		}
		got := fs.NumRecords()
		n += got
		if got == 0 && fctx.Err() != nil {
			return n
		}
	}
}

func TestTxnReportTable(t *testing.T) {
	rep := &TxnReport{Brokers: 3, ReplicationFactor: 3, Partitions: 6, RecordSize: 1024, Runs: []TxnRun{
		{Mode: "idempotent", Result: Result{Records: 1000, RecordsPerSec: 2000, MBPerSec: 2}},
		{Mode: "txn-100", TxnRecords: 100, Transactions: 10, Result: Result{Records: 1000, RecordsPerSec: 500, MBPerSec: 0.5, Elapsed: 2 * time.Second},
			Steps: &TxnSteps{ConcurrentBackoffs: 5, Requests: []TxnStep{{Request: "EndTxn", Count: 10, P50: time.Millisecond, P99: 2 * time.Millisecond, Mean: time.Millisecond}}}},
	}}
	var buf bytes.Buffer
	if err := rep.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	var rows []string // each line's fields, one space apart
	for _, l := range strings.Split(out, "\n") {
		rows = append(rows, strings.Join(strings.Fields(l), " "))
	}
	out = strings.Join(rows, "\n")
	for _, want := range []string{"3 Weir brokers, RF=3", "idempotent", "1.00x", "txn-100", "0.25x",
		"txn-100 transaction 1 200ms", "txn-100 EndTxn 1.00 1ms 2ms 1ms", "txn-100 CONCURRENT_TRANSACTIONS backoffs 0.50"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestTxnCompareRejectsBadInput(t *testing.T) {
	if _, err := TxnCompare(context.Background(), TxnOptions{Records: 0}); err == nil {
		t.Error("TxnCompare with 0 records: no error")
	}
}
