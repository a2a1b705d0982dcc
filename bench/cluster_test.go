package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseSections(t *testing.T) {
	tests := []struct {
		in   string
		want Sections
		err  string
	}{
		{"single", Sections{Single: true}, ""},
		{"cluster,failover", Sections{Cluster: true, Failover: true}, ""},
		{"cpu", Sections{CPU: true}, ""},
		{" memory , partitions", Sections{Memory: true, Partitions: true}, ""},
		{"failover,nope", Sections{}, `unknown section "nope"`},
		{",", Sections{}, "no section named"},
	}
	for _, tt := range tests {
		got, err := ParseSections(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseSections(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSections(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestMedianDuration(t *testing.T) {
	runs := func(ds ...time.Duration) []FailoverRun {
		var out []FailoverRun
		for _, d := range ds {
			out = append(out, FailoverRun{Downtime: d})
		}
		return out
	}
	if got := medianDuration(runs(3*time.Second, time.Second, 2*time.Second)); got != 2*time.Second {
		t.Errorf("median of 3 = %v", got)
	}
	if got := medianDuration(runs(4*time.Second, time.Second)); got != time.Second {
		t.Errorf("median of 2 = %v, want the lower middle", got)
	}
	if got := medianDuration(nil); got != 0 {
		t.Errorf("median of none = %v", got)
	}
}

// The cluster section's ratio is the median of its rounds', and taking
// it leaves the rounds' order alone.
func TestMedianRatio(t *testing.T) {
	rs := []float64{1.88, 0.41, 0.59}
	if got := medianRatio(rs); got != 0.59 {
		t.Errorf("median of %v = %v", rs, got)
	}
	if rs[0] != 1.88 || rs[1] != 0.41 {
		t.Errorf("medianRatio sorted its argument: %v", rs)
	}
	if got := medianRatio([]float64{1.2, 0.6}); got != 0.6 {
		t.Errorf("median of 2 = %v, want the lower middle", got)
	}
	if got := medianRatio(nil); got != 0 {
		t.Errorf("median of none = %v", got)
	}
}

func TestDigestLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "server.log")
	log := `time=1 level=INFO msg="started"
time=2 level=WARN msg="fencing broker: its session expired" broker=3
time=3 level=WARN msg="fencing broker: its session expired" broker=1
time=4 level=ERROR msg="failed to heartbeat to" peer=x
panic: runtime error
`
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	d := digestLog(path)
	if d.Warnings != 2 || d.Errors != 2 || len(d.Samples) != 3 || d.Samples[0].Count != 2 {
		t.Fatalf("digest = %+v", d)
	}
	if !strings.Contains(d.Samples[0].First, "broker=3") {
		t.Errorf("first sample %q is not the first such line", d.Samples[0].First)
	}
}

func TestWriteClusterTables(t *testing.T) {
	lat := Latency{P50: time.Millisecond, P99: 4 * time.Millisecond}
	rep := &CompareReport{
		Candidate: "weir", Baseline: "kfake", Acks: "all", Idempotent: true,
		Cluster: &ClusterReport{Brokers: 3, ReplicationFactor: 3, MinInsyncReplicas: 2, Partitions: 6,
			Runs: []Run{
				{Workload: "1KiB", System: "weir-cluster", Produce: Result{RecordsPerSec: 50, Latency: lat}, Consume: ConsumeResult{RecordsPerSec: 300}},
				{Workload: "1KiB", System: "kfake-cluster", Produce: Result{RecordsPerSec: 100, Latency: lat}, Consume: ConsumeResult{RecordsPerSec: 200}},
			},
			ProduceRatio: 0.5, ConsumeRatio: 1.5},
		Failover: &FailoverReport{Brokers: 3, Acks: "all", Interval: probeInterval, RecordTimeout: probeRecordTimeout,
			Runs:   []FailoverRun{{Killed: 2, NewLeader: 1, Downtime: 2100 * time.Millisecond}},
			Median: 2100 * time.Millisecond},
		ManyPartitions: &PartitionsReport{Target: 10000, PartitionsPerTopic: 100, ReplicationFactor: 3, Created: 4000, Produced: 0,
			Err:     "creating topics: boom",
			Brokers: []BrokerState{{Node: 1, Produced: Memory{RSSBytes: 100 << 20}}},
			Logs:    []LogDigest{{Path: "b1.log", Warnings: 1, Samples: []LogSample{{Count: 1, First: "level=WARN msg=slow"}}}}},
	}
	var buf bytes.Buffer
	if err := rep.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"weir-cluster/kfake-cluster", "0.50x", "want >= 0.6x: MISSED", "want >= 1.0x: met",
		"2.1s", "want < 3s: met",
		"created 4000", "FAILED: creating topics: boom", "1x level=WARN msg=slow",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tables lack %q:\n%s", want, out)
		}
	}
	if strings.HasPrefix(out, "workload") {
		t.Errorf("an empty single-broker table was printed:\n%s", out)
	}
}
