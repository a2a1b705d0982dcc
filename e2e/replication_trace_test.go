package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/weirhq/weir/bench"
	"github.com/weirhq/weir/broker/brokertest"
)

// BenchmarkReplicationPath traces acks=all batches through a 3-broker
// cluster (RF=3, idempotent, 1 KiB records at a modest rate: 200/s, or
// WEIR_TRACE_RATE records/s; WEIR_TRACE_DUMP=FILE also writes the joined
// brokers' raw events, one a line, for reading by hand) and prints
// where each batch's time went, step by step (bench/repltrace.go names
// the steps): the brokers run with WEIR_TRACE_REPLICATION=1 and the
// traces are joined per leader append. It is a benchmark, not a test: the
// figures depend on the machine's load (make bench runs it).
func BenchmarkReplicationPath(b *testing.B) {
	for range b.N {
		rate := 200.0
		if s := os.Getenv("WEIR_TRACE_RATE"); s != "" {
			if _, err := fmt.Sscan(s, &rate); err != nil || rate <= 0 {
				b.Fatalf("WEIR_TRACE_RATE=%q is not a positive number of records/s", s)
			}
		}
		steps, lat := traceReplication(b, rate, 5*time.Second)
		fmt.Printf("run at %.0f records/s: %s\n%s", rate, lat, steps)
		b.ReportMetric(float64(steps.Steps["total"].Quantile(0.99))/1e6, "p99-ack-ms")
		b.ReportMetric(float64(steps.Steps["wake"].Quantile(0.99))/1e6, "p99-wake-ms")
	}
}

// traceReplication runs the traced workload at rate records/s for d and
// returns the joined steps and the client's latency figures.
func traceReplication(tb testing.TB, rate float64, d time.Duration) (bench.ReplSteps, bench.LatencyResult) {
	tb.Helper()
	c := brokertest.StartCluster(tb, 3, brokertest.Options{Env: []string{"WEIR_TRACE_REPLICATION=1"}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before := runQueueWaits(tb, c)
	runStart := time.Now()
	lat, err := bench.LatencyRun(ctx, bench.Options{
		Brokers: c.Bootstrap(), Topic: "traced", Partitions: 6, ReplicationFactor: 3,
		RecordSize: 1024, Acks: "all", Idempotent: true,
	}, rate, d)
	if err != nil {
		tb.Fatalf("latency run: %v", err)
	}
	elapsed, after := time.Since(runStart), runQueueWaits(tb, c)
	for i, br := range c.Brokers {
		fmt.Printf("broker %d: %s of its threads' time runnable but waiting for a CPU over the %s run (schedstat)\n",
			br.NodeID, after[i]-before[i], elapsed.Round(time.Millisecond))
	}
	var evs []bench.TraceEvent
	for _, br := range c.Brokers {
		e, err := fetchTrace(ctx, br.AdminAddr)
		if err != nil {
			tb.Fatalf("broker %d's trace: %v", br.NodeID, err)
		}
		evs = append(evs, e...)
	}
	if f := os.Getenv("WEIR_TRACE_DUMP"); f != "" {
		var buf []byte
		for _, e := range evs {
			buf = fmt.Appendf(buf, "%d %d %s %s %d o=%d end=%d peer=%d\n", e.T, e.Node, e.Kind, e.Topic, e.Part, e.Offset, e.End, e.Peer)
		}
		if err := os.WriteFile(f, buf, 0o644); err != nil {
			tb.Fatalf("WEIR_TRACE_DUMP: %v", err)
		}
	}
	steps := bench.AnalyzeTrace(evs)
	for node, gs := range bench.Gaps(evs, 5) {
		fmt.Printf("broker %d's longest trace gaps: %v\n", node, gs)
	}
	// Each acks=all produce the leaders completed is one "acked" event; at
	// a high rate a batch holds many records, so the join is checked
	// against those, not against the records.
	acked := 0
	for _, e := range evs {
		if e.Kind == "acked" {
			acked++
		}
	}
	if acked == 0 || steps.Batches < acked/2 {
		tb.Fatalf("only %d of %d acknowledged batches (%d records) joined end to end from %d trace events", steps.Batches, acked, lat.Records, len(evs))
	}
	return steps, lat
}

// runQueueWaits is each broker's threads' summed run-queue wait so far
// (/proc/PID/task/*/schedstat, the second field): time the kernel had
// them runnable and gave the CPU to someone else, the descheduling the
// trace's gaps cannot tell from idleness.
func runQueueWaits(tb testing.TB, c *brokertest.Cluster) []time.Duration {
	out := make([]time.Duration, len(c.Brokers))
	for i, br := range c.Brokers {
		pid := br.PID()
		tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
		if err != nil || len(tasks) == 0 {
			tb.Fatalf("broker %d (pid %d): no schedstat: %v", br.NodeID, pid, err)
		}
		for _, f := range tasks {
			b, err := os.ReadFile(f)
			if err != nil {
				continue // a thread that exited
			}
			var run, wait int64
			fmt.Sscan(string(b), &run, &wait)
			out[i] += time.Duration(wait)
		}
	}
	return out
}

func fetchTrace(ctx context.Context, admin string) ([]bench.TraceEvent, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+admin+"/debug/replication/trace", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /debug/replication/trace: %s", resp.Status)
	}
	return bench.ReadTrace(resp.Body)
}
