package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseProcessStat(t *testing.T) {
	tests := []struct {
		name, line string
		want       time.Duration
		err        string
	}{
		// A command name with spaces and a ')' of its own: fields count
		// from the last ')'. utime 250 + stime 31 ticks.
		{"odd name", "4242 (weir) (x y) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 31 0 0 20 0 12 0 100 0 0", 2810 * time.Millisecond, ""},
		{"plain", "7 (kfake) R 1 7 7 0 -1 0 0 0 0 0 5 5 0 0", 100 * time.Millisecond, ""},
		{"no name", "7 kfake R 1", 0, "no ')'"},
		{"short", "7 (kfake) R 1 7 7", 0, "at least 13"},
		{"bad utime", "7 (kfake) R 1 7 7 0 -1 0 0 0 0 0 x 5 0 0", 0, "utime"},
	}
	for _, tt := range tests {
		got, err := parseProcessStat(tt.line)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: err = %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

func TestParseMachineStat(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice:
	// guest time is already in user, so the total stops at steal.
	before, err := parseMachineStat("cpu  100 0 50 800 50 0 0 0 40 0\ncpu0 50 0 25 400 25 0 0 0 20 0\n")
	if err != nil {
		t.Fatal(err)
	}
	if before.total != 1000 || before.idle != 850 {
		t.Fatalf("before = %+v, want total 1000, idle 850", before)
	}
	after, err := parseMachineStat("cpu  400 0 150 1000 50 0 0 0 90 0\n")
	if err != nil {
		t.Fatal(err)
	}
	// 600 ticks passed, 200 of them idle.
	if got := before.busyShare(after); got < 0.666 || got > 0.667 {
		t.Errorf("busy share = %v, want 2/3", got)
	}
	if got := after.busyShare(after); got != 0 {
		t.Errorf("busy share over no time = %v", got)
	}
	for _, bad := range []string{"", "intr 1 2 3\n", "cpu 1 2 x 4 5\n", "cpu 1 2\n"} {
		if _, err := parseMachineStat(bad); err == nil {
			t.Errorf("parseMachineStat(%q) took it", bad)
		}
	}
}

func TestReadOwnCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	ticks, err := readMachineTicks()
	if err != nil || ticks.total <= 0 {
		t.Fatalf("machine ticks %+v, %v", ticks, err)
	}
	if _, err := processCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	self, err := selfCPU()
	if err != nil || self <= 0 {
		t.Fatalf("own CPU %v, %v", self, err)
	}
	if _, err := processCPU(-1); err == nil {
		t.Error("processCPU(-1) read something")
	}
}

func TestCPUPhase(t *testing.T) {
	before := cpuSnapshot{procs: []time.Duration{time.Second, 2 * time.Second, 0}, self: time.Second,
		machine: machineTicks{total: 1000, idle: 500}}
	after := cpuSnapshot{procs: []time.Duration{time.Second + 300*time.Millisecond, 3 * time.Second, 200 * time.Millisecond},
		self: 3 * time.Second, machine: machineTicks{total: 1400, idle: 600}}
	ph := cpuPhase(true, 2, 100_000_000, 2*time.Second, before, after)
	if ph.MBPerSec != 50 || ph.ClientCPU != 2*time.Second || ph.ClientMsPerMB != 20 || ph.MachineBusy != 0.75 {
		t.Errorf("phase = %+v", ph)
	}
	want := []ProcessCPU{
		{Node: 1, Role: "follower", CPU: 300 * time.Millisecond, MsPerMB: 3},
		{Node: 2, Role: "leader", CPU: time.Second, MsPerMB: 10},
		{Node: 3, Role: "follower", CPU: 200 * time.Millisecond, MsPerMB: 2},
	}
	for i, w := range want {
		if i >= len(ph.Processes) || ph.Processes[i] != w {
			t.Errorf("process %d = %+v, want %+v", i, ph.Processes, w)
		}
	}
	one := cpuPhase(false, 1, 0, 0, cpuSnapshot{procs: []time.Duration{0}}, cpuSnapshot{procs: []time.Duration{time.Second}})
	if len(one.Processes) != 1 || one.Processes[0].Role != "all" || one.Processes[0].Node != -1 || one.Processes[0].MsPerMB != 0 {
		t.Errorf("one process, no bytes: %+v", one.Processes)
	}
}

func TestWriteCPUTable(t *testing.T) {
	weir := CPUPhase{Bytes: 100e6, MBPerSec: 40, ClientMsPerMB: 20, MachineBusy: 0.9, Processes: []ProcessCPU{
		{Node: 1, Role: "follower", MsPerMB: 3}, {Node: 2, Role: "leader", MsPerMB: 10}, {Node: 3, Role: "follower", MsPerMB: 2.5}}}
	kfake := CPUPhase{Bytes: 100e6, MBPerSec: 80, ClientMsPerMB: 15, Processes: []ProcessCPU{{Node: -1, Role: "all", MsPerMB: 7}}}
	rep := &CompareReport{Candidate: "weir", Baseline: "kfake", CPU: &CPUReport{Brokers: 3, ReplicationFactor: 3,
		MinInsyncReplicas: 2, RecordSize: 1024, Bytes: 100e6,
		Runs: []CPURun{{System: "weir-cpu", Leader: 2, Produce: weir, Consume: weir}, {System: "kfake-cpu", Leader: 0, Produce: kfake}}}}
	var buf bytes.Buffer
	if err := rep.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"cpu: 3 brokers each, one partition at RF=3, min.insync.replicas=2", "+-0.10 (10 ms ticks)", "10.00 (node 2)",
		"3.00 (node 1), 2.50 (node 3)", "15.50", "90%", "7.00 (all nodes)", "kfake-cpu  consume"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back CompareReport
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.CPU == nil || len(back.CPU.Runs) != 2 || back.CPU.Runs[0].Produce.Processes[1] != weir.Processes[1] {
		t.Errorf("JSON round trip lost the cpu section: %s", b)
	}
	for _, key := range []string{`"cpu":`, `"ms_per_mb":10`, `"client_ms_per_mb":20`, `"role":"leader"`, `"machine_busy":0.9`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("JSON lacks %s: %s", key, b)
		}
	}
}

// The target line judges the 50 % run of the candidate, whatever order
// the curve is in.
func TestWriteLatencyCurve(t *testing.T) {
	row := func(sys string, f float64, p99 time.Duration) LatencyResult {
		// 3 s at 1000*f records/s, the servers busy 0.5 cores.
		n := int64(3000 * f)
		return LatencyResult{System: sys, Fraction: f, Achieved: 1000 * f, Records: n, MachineBusy: f,
			ServerCPU: 1500 * time.Millisecond, ServerCPUPerRecord: 1500 * time.Millisecond / time.Duration(n),
			Produce: Latency{P50: time.Millisecond, P99: p99}, EndToEnd: Latency{P50: 2 * time.Millisecond, P99: 2 * p99}}
	}
	half := row("weir-cluster", 0.5, 30*time.Millisecond)
	c := &ClusterReport{Brokers: 3, LatencyDuration: 3 * time.Second,
		LatencyCurve: []LatencyResult{row("weir-cluster", 0.1, 2*time.Millisecond), row("weir-cluster", 0.25, 3*time.Millisecond), half,
			row("kfake-cluster", 0.1, time.Millisecond)},
		Latency: []LatencyResult{half}}
	var buf bytes.Buffer
	if err := c.writeLatency(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"3s each", "machine busy", "10%", "25%", "50%", "kfake-cluster",
		"server cores", "0.50", "5ms",
		"targets at 50%: weir-cluster produce p99 30ms (want <= 10ms: MISSED), produce-to-consume p99 60ms (want <= 20ms: MISSED)"} {
		if !strings.Contains(out, want) {
			t.Errorf("latency table lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "\n") != 7 {
		t.Errorf("want a title, a header, 4 rows and the target line:\n%s", out)
	}
}
