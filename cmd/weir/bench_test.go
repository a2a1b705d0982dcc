package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirhq/weir/bench"
	"go.uber.org/goleak"
)

// TestMain lets the test binary stand in for weir when bench compare
// starts its children (os.Executable is the test binary here). Otherwise it
// runs the tests and fails the package on a goroutine they leave running.
func TestMain(m *testing.M) {
	if os.Getenv("WEIR_TEST_AS_WEIR") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}

// The harness against itself: kfake as both candidate and baseline, each
// a child process, tiny workloads.
func TestBenchCompareKfakeSmoke(t *testing.T) {
	t.Setenv("WEIR_TEST_AS_WEIR", "1")
	out := filepath.Join(t.TempDir(), "bench.json")
	r := mustWeir(t, "", "", "bench", "compare", "--candidate", "kfake", "--baseline", "kfake",
		"--records-1k", "2000", "--records-100b", "5000", "--mem-bytes", "1048576", "--json-out", out)
	for _, want := range []string{"kfake(a)/kfake(b)", "1KiB", "100B", "memory: kfake(a) took 1.0 MiB"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.CompareReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("--json-out: %v", err)
	}
	if len(rep.Runs) != 4 || rep.Memory == nil || rep.Memory.After.RSSBytes <= 0 {
		t.Fatalf("report has %d runs, memory %+v", len(rep.Runs), rep.Memory)
	}
	for _, run := range rep.Runs {
		if run.Produce.Records == 0 || run.Consume.Records != run.Produce.Records+1 {
			t.Errorf("%s on %s: produced %d, consumed %d (want one more: the warm-up record)",
				run.Workload, run.System, run.Produce.Records, run.Consume.Records)
		}
	}
}

// The cluster and cpu sections end to end, kfake against kfake: the
// latency curve's three rates on each system and the cpu section's
// figures in the table and in --json-out.
func TestBenchCompareKfakeClusterCPU(t *testing.T) {
	t.Setenv("WEIR_TEST_AS_WEIR", "1")
	out := filepath.Join(t.TempDir(), "bench.json")
	r := mustWeir(t, "", "", "bench", "compare", "--candidate", "kfake", "--baseline", "kfake", "--only", "cluster,cpu",
		"--cluster-records", "2000", "--cluster-records-100b", "0", "--latency-duration", "300ms", "--cluster-rounds", "2",
		"--cpu-bytes", "2048000", "--json-out", out)
	for _, want := range []string{"targets at 50%: kfake(a)-cluster", "cpu: 3 brokers each", "kfake(b)-cpu", "(all nodes)",
		"round 2 of 2 (kfake(b) first):", "ratios by round: produce 1 KiB ", "targets: produce median of rounds "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.CompareReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("--json-out: %v", err)
	}
	if rep.Cluster == nil || len(rep.Cluster.LatencyCurve) != 6 || len(rep.Cluster.Latency) != 2 {
		t.Fatalf("cluster section: %+v", rep.Cluster)
	}
	// Two rounds of the 1 KiB workload, the second baseline first; the
	// latency curve in the first only.
	var order []string
	for _, r := range rep.Cluster.Runs {
		order = append(order, fmt.Sprintf("%d:%s", r.Round, r.System))
	}
	if got, want := strings.Join(order, " "), "1:kfake(a)-cluster 1:kfake(b)-cluster 2:kfake(b)-cluster 2:kfake(a)-cluster"; got != want ||
		rep.Cluster.Rounds != 2 || len(rep.Cluster.ProduceRatios) != 2 || len(rep.Cluster.ConsumeRatios) != 2 {
		t.Errorf("cluster runs %q (want %q), rounds %d, produce ratios %v, consume ratios %v",
			got, want, rep.Cluster.Rounds, rep.Cluster.ProduceRatios, rep.Cluster.ConsumeRatios)
	}
	var serverCPU time.Duration // over all runs: one short run can fall inside a 10 ms tick
	for i, l := range rep.Cluster.LatencyCurve {
		if want := bench.LatencyFractions[i%3]; l.Fraction != want || l.Records == 0 || l.MachineBusy <= 0 || l.MachineBusy > 1 ||
			l.ServerCPU < 0 || l.ServerCPUPerRecord != l.ServerCPU/time.Duration(l.Records) {
			t.Errorf("latency run %d: fraction %v (want %v), %d records, machine busy %v, server CPU %v (%v a record)",
				i, l.Fraction, want, l.Records, l.MachineBusy, l.ServerCPU, l.ServerCPUPerRecord)
		}
		serverCPU += l.ServerCPU
	}
	if serverCPU <= 0 {
		t.Errorf("the latency runs report no server CPU")
	}
	if rep.CPU == nil || len(rep.CPU.Runs) != 2 {
		t.Fatalf("cpu section: %+v", rep.CPU)
	}
	for _, run := range rep.CPU.Runs {
		checkCPUPhase(t, run.System+" produce", run.Produce, 2000*1024)
		// The consumer reads the warm-up (a tenth, and one record per
		// producing client) as well.
		checkCPUPhase(t, run.System+" consume", run.Consume, 2000*1024+200*1024+2*1024)
	}
}

func checkCPUPhase(t *testing.T, name string, p bench.CPUPhase, bytes int64) {
	t.Helper()
	if p.Bytes != bytes || p.MBPerSec <= 0 || p.ClientCPU <= 0 || p.ClientMsPerMB <= 0 {
		t.Errorf("%s: %d bytes (want %d), %.1f MB/s, client CPU %v (%.2f ms/MB)", name, p.Bytes, bytes, p.MBPerSec, p.ClientCPU, p.ClientMsPerMB)
	}
	if len(p.Processes) != 1 || p.Processes[0].Role != "all" || p.Processes[0].CPU < 0 {
		t.Errorf("%s: processes %+v, want kfake's one", name, p.Processes)
	}
}

func TestBenchCompareBadSizes(t *testing.T) {
	for _, tt := range []struct{ flag, value, want string }{
		{"--cpu-bytes", "100", "--cpu-bytes 100: want at least one 1 KiB record"},
		{"--latency-duration", "0s", "--latency-duration 0s: want a positive duration"},
		{"--cluster-rounds", "0", "--cluster-rounds 0: want at least 1"},
		{"--only", "cpu,nope", `unknown section "nope"`},
	} {
		r := weir(t, "", "", "bench", "compare", tt.flag, tt.value)
		if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%s %s: exit %d, stderr %q; want an error with %q", tt.flag, tt.value, r.code, r.stderr, tt.want)
		}
	}
}
