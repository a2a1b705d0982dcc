package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Workload is one produce-then-consume run of Compare.
type Workload struct {
	Name       string `json:"name"` // e.g. "1KiB"
	RecordSize int    `json:"record_size"`
	Records    int64  `json:"records"`
}

// CompareOptions configure Compare.
type CompareOptions struct {
	Binary     string // the weir binary: runs `bench kfake-server`
	WeirBinary string // the binary that runs `broker` (empty: Binary)
	Candidate  string // system measured: "weir" or "kfake"
	Baseline   string // system compared against: "weir" or "kfake"
	Workloads  []Workload
	Client     Options  // client settings for every run; Brokers, Topic, RecordSize and Records are set per run
	MemBytes   int64    // bytes of 1 KiB records for the memory phase (0: skip it)
	Sections   Sections // which parts run
	Cluster    ClusterOptions
	WorkDir    string        // data and logs of the children (kept)
	Timeout    time.Duration // bound on each produce or consume run and each startup
	Progress   io.Writer     // progress lines (nil: discarded)
}

// Run is one workload on one system.
type Run struct {
	Workload string        `json:"workload"`
	System   string        `json:"system"`
	Round    int           `json:"round,omitempty"` // the cluster section's round, from 1
	Produce  Result        `json:"produce"`
	Consume  ConsumeResult `json:"consume"`
}

// MemoryRun is the memory phase: how much the candidate holds resident
// after taking MemBytes of records.
type MemoryRun struct {
	System  string `json:"system"`
	Produce Result `json:"produce"`
	Before  Memory `json:"before"` // right after startup
	After   Memory `json:"after"`  // after the produce
}

// CompareReport is everything Compare measured.
type CompareReport struct {
	Started    time.Time  `json:"started"`
	Candidate  string     `json:"candidate"`
	Baseline   string     `json:"baseline"`
	Partitions int32      `json:"partitions"`
	Acks       string     `json:"acks"`
	Idempotent bool       `json:"idempotent"`
	Runs       []Run      `json:"runs"`
	Memory     *MemoryRun `json:"memory,omitempty"`

	Cluster        *ClusterReport    `json:"cluster,omitempty"`
	CPU            *CPUReport        `json:"cpu,omitempty"`
	Failover       *FailoverReport   `json:"failover,omitempty"`
	ManyPartitions *PartitionsReport `json:"many_partitions,omitempty"`
}

// Sections choose the parts of Compare that run.
type Sections struct {
	Single     bool // every workload on one candidate and one baseline broker
	Memory     bool // the single-broker memory phase (also needs MemBytes)
	Cluster    bool // the 1 KiB workload on a candidate and a baseline cluster
	CPU        bool // CPU per MB produced and consumed on a candidate and a baseline cluster
	Failover   bool // leader failover time on a Weir cluster
	Partitions bool // memory of a Weir cluster holding many partitions
}

// AllSections is every part.
var AllSections = Sections{Single: true, Memory: true, Cluster: true, CPU: true, Failover: true, Partitions: true}

// ParseSections reads a comma-separated list of single, memory, cluster,
// cpu, failover and partitions.
func ParseSections(s string) (Sections, error) {
	var out Sections
	for _, name := range strings.Split(s, ",") {
		switch strings.TrimSpace(name) {
		case "single":
			out.Single = true
		case "memory":
			out.Memory = true
		case "cluster":
			out.Cluster = true
		case "cpu":
			out.CPU = true
		case "failover":
			out.Failover = true
		case "partitions":
			out.Partitions = true
		case "":
		default:
			return out, fmt.Errorf("unknown section %q (want single, memory, cluster, cpu, failover or partitions)", name)
		}
	}
	if out == (Sections{}) {
		return out, errors.New("no section named")
	}
	return out, nil
}

// Compare runs the chosen sections in order: every workload against the
// candidate, then against the baseline, each a fresh child process; the
// memory phase against a fresh candidate; then the cluster sections, each
// on fresh clusters. A section that fails is reported and the next one
// still runs; the error returned joins every section's.
func Compare(ctx context.Context, o CompareOptions) (*CompareReport, error) {
	if o.WeirBinary == "" {
		o.WeirBinary = o.Binary
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	rep := &CompareReport{
		Started: time.Now(), Candidate: o.Candidate, Baseline: o.Baseline,
		Partitions: o.Client.Partitions, Acks: o.Client.Acks, Idempotent: o.Client.Idempotent,
	}
	var errs []error
	for _, section := range o.sections(rep) {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		start := time.Now()
		err := section.run(ctx)
		fmt.Fprintf(o.Progress, "section %s took %s\n", section.name, time.Since(start).Round(100*time.Millisecond))
		if err != nil {
			fmt.Fprintf(o.Progress, "section failed: %v\n", err)
			errs = append(errs, err)
		}
	}
	return rep, errors.Join(errs...)
}

// section is one part of Compare: a function that fills the report.
type section struct {
	name string
	run  func(context.Context) error
}

// sections lists the chosen sections in the order they run.
func (o CompareOptions) sections(rep *CompareReport) []section {
	var out []section
	add := func(on bool, name string, run func(context.Context) error) {
		if on {
			out = append(out, section{name, run})
		}
	}
	add(o.Sections.Single, "single", func(ctx context.Context) error { return o.singleSection(ctx, rep) })
	add(o.Sections.Memory && o.MemBytes > 0, "memory", func(ctx context.Context) error {
		candLabel, _ := labels(o.Candidate, o.Baseline)
		var err error
		rep.Memory, err = o.memoryPhase(ctx, o.Candidate, candLabel)
		return err
	})
	add(o.Sections.Cluster, "cluster", func(ctx context.Context) error { return o.clusterSection(ctx, rep) })
	add(o.Sections.CPU, "cpu", func(ctx context.Context) error { return o.cpuSection(ctx, rep) })
	add(o.Sections.Failover, "failover", func(ctx context.Context) error { return o.failoverSection(ctx, rep) })
	add(o.Sections.Partitions, "partitions", func(ctx context.Context) error { return o.partitionsSection(ctx, rep) })
	return out
}

// singleSection runs every workload on one candidate broker, then on one
// baseline broker.
func (o CompareOptions) singleSection(ctx context.Context, rep *CompareReport) error {
	candLabel, baseLabel := labels(o.Candidate, o.Baseline)
	for _, sys := range []struct{ name, label string }{{o.Candidate, candLabel}, {o.Baseline, baseLabel}} {
		runs, err := o.runSystem(ctx, sys.name, sys.label)
		rep.Runs = append(rep.Runs, runs...)
		if err != nil {
			return err
		}
	}
	return nil
}

// labels names the two systems in reports, apart even when they are the same.
func labels(candidate, baseline string) (string, string) {
	if candidate == baseline {
		return candidate + "(a)", baseline + "(b)"
	}
	return candidate, baseline
}

// runSystem starts one system and runs every workload against it.
func (o CompareOptions) runSystem(ctx context.Context, name, label string) ([]Run, error) {
	srv, err := o.start(ctx, name, label)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	brokers := []string{srv.Addr}
	if err := o.warmUp(ctx, brokers, o.Client, label); err != nil {
		return nil, err
	}
	var runs []Run
	for _, w := range o.Workloads {
		run, err := o.runWorkload(ctx, brokers, o.Client, w, label)
		if err != nil {
			return runs, fmt.Errorf("%s on %s: %w", w.Name, label, err)
		}
		runs = append(runs, run)
	}
	return runs, nil
}

// runWorkload produces w's records to a fresh topic, drains the topic, and
// deletes it again.
func (o CompareOptions) runWorkload(ctx context.Context, brokers []string, client Options, w Workload, label string) (Run, error) {
	po := client
	po.Brokers = brokers
	po.Topic = "weir-bench-" + w.Name
	po.RecordSize, po.Records, po.Duration = w.RecordSize, w.Records, 0
	fmt.Fprintf(o.Progress, "%s: producing %d x %d B records to %s\n", label, w.Records, w.RecordSize, po.Topic)
	run := Run{Workload: w.Name, System: label}
	produce := func(ctx context.Context) (Result, error) { return Produce(ctx, po) }
	var err error
	if run.Produce, err = boundedRun(ctx, o.Timeout, produce); err != nil {
		return run, err
	}
	fmt.Fprintf(o.Progress, "%s: produced %s\n", label, run.Produce)
	co := ConsumeOptions{Brokers: po.Brokers, Topic: po.Topic}
	consume := func(ctx context.Context) (ConsumeResult, error) { return Consume(ctx, co) }
	if run.Consume, err = boundedRun(ctx, o.Timeout, consume); err != nil {
		return run, err
	}
	fmt.Fprintf(o.Progress, "%s: consumed %s\n", label, run.Consume)
	if err := DeleteTopic(ctx, po.Brokers, po.Topic); err != nil {
		fmt.Fprintf(o.Progress, "%s: %v (continuing)\n", label, err)
	}
	return run, nil
}

// warmUp runs an unmeasured tenth of the first workload (at most 100,000
// records) so that neither the first system nor the first workload pays
// for the client's and the server's heap growth and connection setup.
func (o CompareOptions) warmUp(ctx context.Context, brokers []string, client Options, label string) error {
	if len(o.Workloads) == 0 {
		return nil
	}
	w := o.Workloads[0]
	w.Name, w.Records = "warmup", min(max(w.Records/10, 1), 100_000)
	fmt.Fprintf(o.Progress, "%s: warming up\n", label)
	if _, err := o.runWorkload(ctx, brokers, client, w, label); err != nil {
		return fmt.Errorf("warming up %s: %w", label, err)
	}
	return nil
}

// boundedRun runs fn under timeout (0: none).
func boundedRun[T any](ctx context.Context, timeout time.Duration, fn func(context.Context) (T, error)) (T, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return fn(ctx)
}

// memoryPhase produces MemBytes of 1 KiB records to a fresh server and
// reads its resident memory before and after.
func (o CompareOptions) memoryPhase(ctx context.Context, name, label string) (*MemoryRun, error) {
	srv, err := o.start(ctx, name, label+"-mem")
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	mem := &MemoryRun{System: label}
	if mem.Before, err = ReadMemory(srv.Pid()); err != nil {
		return mem, err
	}
	po := o.Client
	po.Brokers, po.Topic = []string{srv.Addr}, "weir-bench-memory"
	po.RecordSize, po.Records, po.Duration = 1024, max(o.MemBytes/1024, 1), 0
	fmt.Fprintf(o.Progress, "%s: memory phase, producing %d x 1 KiB records\n", label, po.Records)
	produce := func(ctx context.Context) (Result, error) { return Produce(ctx, po) }
	if mem.Produce, err = boundedRun(ctx, o.Timeout, produce); err != nil {
		return mem, fmt.Errorf("memory phase on %s: %w", label, err)
	}
	mem.After, err = ReadMemory(srv.Pid())
	return mem, err
}

// start launches a fresh server of the named kind with its own data
// directory and ports under WorkDir.
func (o CompareOptions) start(ctx context.Context, name, label string) (*Server, error) {
	dir, err := os.MkdirTemp(o.WorkDir, label+"-")
	if err != nil {
		return nil, fmt.Errorf("creating a directory for %s: %w", label, err)
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	var argv []string
	switch name {
	case "weir":
		argv, err = o.weirArgv(dir, port)
	case "kfake":
		argv = []string{o.Binary, "bench", "kfake-server", "--port", strconv.Itoa(port), "--brokers", "1"}
	default:
		err = fmt.Errorf("unknown system %q (want weir or kfake)", name)
	}
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Progress, "%s: starting on %s (log %s)\n", label, addr, filepath.Join(dir, "server.log"))
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	return StartServer(ctx, label, addr, filepath.Join(dir, "server.log"), argv, timeout)
}

// weirArgv writes a one-broker config into dir and returns the command
// line that runs a Weir broker from it.
func (o CompareOptions) weirArgv(dir string, port int) ([]string, error) {
	adminPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf("node.id=1\nlisteners=PLAINTEXT://127.0.0.1:%d\nlog.dirs=%s\nweir.admin.listener=127.0.0.1:%d\nnum.partitions=%d\n",
		port, filepath.Join(dir, "data"), adminPort, max(o.Client.Partitions, 1))
	path := filepath.Join(dir, "broker.properties")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return nil, fmt.Errorf("writing broker config: %w", err)
	}
	return []string{o.WeirBinary, "broker", "--config", path}, nil
}

// WriteTable prints the side-by-side comparison: per workload one row per
// system and one with the candidate/baseline ratios, then the memory phase,
// then whichever cluster sections ran.
func (r *CompareReport) WriteTable(w io.Writer) error {
	candLabel, baseLabel := labels(r.Candidate, r.Baseline)
	if len(r.Runs) > 0 {
		if err := writeRuns(w, r.Runs, candLabel, baseLabel); err != nil {
			return err
		}
	}
	if m := r.Memory; m != nil {
		_, err := fmt.Fprintf(w, "\nmemory: %s took %s of 1 KiB records (%.0f records/s): VmRSS %s (at start %s), VmHWM %s\n",
			m.System, byteSize(m.Produce.Bytes), m.Produce.RecordsPerSec, byteSize(m.After.RSSBytes), byteSize(m.Before.RSSBytes), byteSize(m.After.HWMBytes))
		if err != nil {
			return err
		}
	}
	return r.writeClusterTables(w)
}

// writeRuns prints runs as the throughput table.
func writeRuns(w io.Writer, runs []Run, candLabel, baseLabel string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tsystem\trecords/s\tMB/s\tp50\tp99\tp99.9\tconsume records/s\tconsume MB/s\t")
	for _, wl := range workloads(runs) {
		cand, okC := findRun(runs, wl, candLabel)
		base, okB := findRun(runs, wl, baseLabel)
		for _, run := range []struct {
			ok bool
			r  Run
		}{{okC, cand}, {okB, base}} {
			if run.ok {
				p, c := run.r.Produce, run.r.Consume
				fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.1f\t%s\t%s\t%s\t%.0f\t%.1f\t\n", wl, run.r.System, p.RecordsPerSec, p.MBPerSec,
					fmtLatency(p.Latency.P50), fmtLatency(p.Latency.P99), fmtLatency(p.Latency.P999), c.RecordsPerSec, c.MBPerSec)
			}
		}
		if okC && okB {
			p1, p2, c1, c2 := cand.Produce, base.Produce, cand.Consume, base.Consume
			fmt.Fprintf(tw, "%s\t%s/%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", wl, candLabel, baseLabel,
				ratio(p1.RecordsPerSec, p2.RecordsPerSec), ratio(p1.MBPerSec, p2.MBPerSec),
				ratio(float64(p1.Latency.P50), float64(p2.Latency.P50)), ratio(float64(p1.Latency.P99), float64(p2.Latency.P99)),
				ratio(float64(p1.Latency.P999), float64(p2.Latency.P999)),
				ratio(c1.RecordsPerSec, c2.RecordsPerSec), ratio(c1.MBPerSec, c2.MBPerSec))
		}
	}
	return tw.Flush()
}

// workloads lists the workload names of runs in run order.
func workloads(runs []Run) []string {
	var names []string
	seen := map[string]bool{}
	for _, run := range runs {
		if !seen[run.Workload] {
			seen[run.Workload] = true
			names = append(names, run.Workload)
		}
	}
	return names
}

func findRun(runs []Run, workload, system string) (Run, bool) {
	for _, run := range runs {
		if run.Workload == workload && run.System == system {
			return run, true
		}
	}
	return Run{}, false
}

// ratio prints a/b as "1.23x", or "-" when b is zero.
func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}
