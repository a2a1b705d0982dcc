package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
