package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// The cpu section: what a produced and a consumed megabyte costs each
// process in CPU time. On each system, a fresh cluster; one topic of ONE
// partition at RF 3 (min.insync.replicas 2), so the leader and each
// follower are single processes doing one job; 1 KiB records, acks=all,
// idempotent. An unmeasured warm-up (a tenth of the bytes) goes first.
// Then every broker process's utime+stime (/proc/<pid>/stat) and the
// client's own (getrusage) are read before and after the produce, and
// again around one consumer reading the topic from its start. The window
// holds the producing client's setup (a metadata request and one record),
// a few milliseconds against the seconds of the phase. /proc counts in
// 10 ms ticks, so a broker's figure is good to 10 ms over the phase's
// bytes (0.1 ms/MB at 100 MB); the client's (getrusage) is finer. kfake
// serves every node from one process, so its figure is the whole
// cluster's.

// DefaultCPUBytes is how much the cpu section produces when
// ClusterOptions.CPUBytes is 0.
const DefaultCPUBytes = 500_000_000

// cpuTopic is the cpu section's topic.
const cpuTopic = "weir-bench-cpu"

// CPUReport is the cpu section.
type CPUReport struct {
	Brokers           int         `json:"brokers"`
	ReplicationFactor int16       `json:"replication_factor"`
	MinInsyncReplicas int         `json:"min_insync_replicas"`
	RecordSize        int         `json:"record_size"`
	Bytes             int64       `json:"bytes"` // produced in the measured phase
	Runs              []CPURun    `json:"runs"`
	Logs              []LogDigest `json:"logs"`
	Err               string      `json:"error,omitempty"`
}

// CPURun is one system's produce and consume phase.
type CPURun struct {
	System  string   `json:"system"`
	Leader  int32    `json:"leader"` // the partition's leader, from metadata
	Produce CPUPhase `json:"produce"`
	Consume CPUPhase `json:"consume"`
}

// CPUPhase is the CPU one phase cost.
type CPUPhase struct {
	Bytes         int64         `json:"bytes"` // record values produced or consumed
	Elapsed       time.Duration `json:"elapsed_ns"`
	MBPerSec      float64       `json:"mb_per_sec"`
	Processes     []ProcessCPU  `json:"processes"`
	ClientCPU     time.Duration `json:"client_cpu_ns"`
	ClientMsPerMB float64       `json:"client_ms_per_mb"`
	MachineBusy   float64       `json:"machine_busy"` // share of all cores busy over the phase, 0..1
}

// ProcessCPU is one broker process's CPU over a phase.
type ProcessCPU struct {
	Node    int32         `json:"node"` // Weir: its node id; kfake: -1, the one process of every node
	Role    string        `json:"role"` // "leader", "follower" or "all" (kfake)
	CPU     time.Duration `json:"cpu_ns"`
	MsPerMB float64       `json:"ms_per_mb"` // CPU milliseconds per 10^6 bytes of the phase
}

// msPerMB is cpu in milliseconds per 10^6 bytes, 0 without bytes.
func msPerMB(cpu time.Duration, bytes int64) float64 {
	if bytes <= 0 {
		return 0
	}
	return float64(cpu) / float64(time.Millisecond) / (float64(bytes) / 1e6)
}

// cpuSection runs the produce and consume phases on a fresh candidate
// cluster, then on a fresh baseline cluster.
func (o CompareOptions) cpuSection(ctx context.Context, rep *CompareReport) error {
	n := o.Cluster.brokers()
	cr := &CPUReport{Brokers: n, ReplicationFactor: int16(min(3, n)), MinInsyncReplicas: min(2, n), RecordSize: 1024,
		Bytes: o.Cluster.cpuBytes()}
	rep.CPU = cr
	candLabel, baseLabel := labels(o.Candidate, o.Baseline)
	for _, sys := range []struct{ name, label string }{{o.Candidate, candLabel}, {o.Baseline, baseLabel}} {
		run, logs, err := o.cpuRun(ctx, sys.name, sys.label+"-cpu", cr)
		cr.Logs = append(cr.Logs, logs...)
		if err != nil {
			cr.Err = err.Error()
			return fmt.Errorf("cpu section: %w", err)
		}
		cr.Runs = append(cr.Runs, run)
	}
	return nil
}

func (c ClusterOptions) cpuBytes() int64 {
	if c.CPUBytes > 0 {
		return c.CPUBytes
	}
	return DefaultCPUBytes
}

// cpuRun starts one cluster, makes the topic, warms it up and measures
// both phases.
func (o CompareOptions) cpuRun(ctx context.Context, name, label string, cr *CPUReport) (CPURun, []LogDigest, error) {
	run := CPURun{System: label, Leader: -1}
	c, err := o.startCluster(ctx, name, label, cr.Brokers)
	if err != nil {
		return run, nil, err
	}
	err = o.cpuPhases(ctx, c, cr, &run, label)
	logs := DigestLogs(c.LogPaths()) // before the shutdown's own noise
	c.Stop()
	return run, logs, err
}

func (o CompareOptions) cpuPhases(ctx context.Context, c *Cluster, cr *CPUReport, run *CPURun, label string) error {
	var err error
	if run.Leader, err = o.makeCPUTopic(ctx, c, cr); err != nil {
		return err
	}
	po := o.Client
	po.Brokers, po.Topic, po.Partitions, po.ReplicationFactor = c.Bootstrap(), cpuTopic, 1, cr.ReplicationFactor
	po.RecordSize, po.Acks, po.Idempotent, po.Duration = cr.RecordSize, "all", true, 0
	po.Records = max(cr.Bytes/10/int64(cr.RecordSize), 1)
	fmt.Fprintf(o.Progress, "%s: leader is node %d; warming up with %d records\n", label, run.Leader, po.Records)
	if _, err := boundedRun(ctx, o.Timeout, func(ctx context.Context) (Result, error) { return Produce(ctx, po) }); err != nil {
		return fmt.Errorf("warming up %s: %w", label, err)
	}
	po.Records = max(cr.Bytes/int64(cr.RecordSize), 1)
	fmt.Fprintf(o.Progress, "%s: producing %d x %d B records (acks=all, idempotent)\n", label, po.Records, po.RecordSize)
	run.Produce, err = measureCPU(c, run.Leader, func() (int64, time.Duration, error) {
		res, err := boundedRun(ctx, o.Timeout, func(ctx context.Context) (Result, error) { return Produce(ctx, po) })
		return res.Bytes, res.Elapsed, err
	})
	if err != nil {
		return fmt.Errorf("producing on %s: %w", label, err)
	}
	fmt.Fprintf(o.Progress, "%s: produced %s at %.1f MB/s\n", label, byteSize(run.Produce.Bytes), run.Produce.MBPerSec)
	co := ConsumeOptions{Brokers: c.Bootstrap(), Topic: cpuTopic}
	run.Consume, err = measureCPU(c, run.Leader, func() (int64, time.Duration, error) {
		res, err := boundedRun(ctx, o.Timeout, func(ctx context.Context) (ConsumeResult, error) { return Consume(ctx, co) })
		return res.Bytes, res.Elapsed, err
	})
	if err != nil {
		return fmt.Errorf("consuming on %s: %w", label, err)
	}
	fmt.Fprintf(o.Progress, "%s: consumed %s at %.1f MB/s\n", label, byteSize(run.Consume.Bytes), run.Consume.MBPerSec)
	return o.checkLeaderStayed(ctx, c, run.Leader)
}

// checkLeaderStayed fails the run if the partition's leadership moved
// while it was measured: the roles of the figures would be mixed.
func (o CompareOptions) checkLeaderStayed(ctx context.Context, c *Cluster, leader int32) error {
	adm, err := newAdmin(c.Bootstrap())
	if err != nil {
		return err
	}
	defer adm.Close()
	now, err := cpuTopicLeader(ctx, adm)
	if err != nil {
		return fmt.Errorf("checking the leader after the phases: %w", err)
	}
	if now != leader {
		return fmt.Errorf("the leader of %s moved from node %d to node %d during the phases, so the roles of the figures are mixed", cpuTopic, leader, now)
	}
	return nil
}

// makeCPUTopic creates the one-partition topic and returns its leader once
// metadata names one.
func (o CompareOptions) makeCPUTopic(ctx context.Context, c *Cluster, cr *CPUReport) (int32, error) {
	adm, err := newAdmin(c.Bootstrap())
	if err != nil {
		return -1, err
	}
	defer adm.Close()
	minISR := fmt.Sprint(cr.MinInsyncReplicas)
	_, err = adm.CreateTopic(ctx, 1, cr.ReplicationFactor, map[string]*string{"min.insync.replicas": &minISR}, cpuTopic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return -1, fmt.Errorf("creating %s: %w", cpuTopic, err)
	}
	deadline := time.Now().Add(o.startTimeout())
	for {
		leader, err := cpuTopicLeader(ctx, adm)
		if err == nil {
			return leader, nil
		}
		if time.Now().After(deadline) {
			return -1, fmt.Errorf("no leader of %s after %s: %w", cpuTopic, o.startTimeout(), err)
		}
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// cpuTopicLeader is the leader of cpuTopic's partition 0 in metadata.
func cpuTopicLeader(ctx context.Context, adm *kadm.Client) (int32, error) {
	md, err := adm.Metadata(ctx, cpuTopic)
	if err != nil {
		return -1, fmt.Errorf("metadata of %s: %w", cpuTopic, err)
	}
	p, ok := md.Topics[cpuTopic].Partitions[0]
	switch {
	case !ok:
		return -1, fmt.Errorf("metadata of %s has no partition 0", cpuTopic)
	case p.Err != nil:
		return -1, fmt.Errorf("metadata of %s[0]: %w", cpuTopic, p.Err)
	case p.Leader < 0:
		return -1, fmt.Errorf("%s[0] has no leader yet", cpuTopic)
	}
	return p.Leader, nil
}

// cpuSnapshot is every process's CPU time at one moment.
type cpuSnapshot struct {
	procs   []time.Duration // c.Members order
	self    time.Duration
	machine machineTicks
}

func takeCPUSnapshot(c *Cluster) (cpuSnapshot, error) {
	var s cpuSnapshot
	for _, m := range c.Members {
		d, err := processCPU(m.Pid())
		if err != nil {
			return s, err
		}
		s.procs = append(s.procs, d)
	}
	var err error
	if s.self, err = selfCPU(); err != nil {
		return s, err
	}
	s.machine, err = readMachineTicks()
	return s, err
}

// measureCPU runs phase, which returns the bytes it moved and the time it
// took, between two snapshots of c's processes.
func measureCPU(c *Cluster, leader int32, phase func() (int64, time.Duration, error)) (CPUPhase, error) {
	before, err := takeCPUSnapshot(c)
	if err != nil {
		return CPUPhase{}, err
	}
	bytes, elapsed, err := phase()
	if err != nil {
		return CPUPhase{}, err
	}
	after, err := takeCPUSnapshot(c)
	if err != nil {
		return CPUPhase{}, err
	}
	return cpuPhase(c.Name == "weir", leader, bytes, elapsed, before, after), nil
}

// cpuPhase turns two snapshots into a phase's figures. With perNode, the
// i-th process is node i+1; otherwise the one process serves every node.
func cpuPhase(perNode bool, leader int32, bytes int64, elapsed time.Duration, before, after cpuSnapshot) CPUPhase {
	ph := CPUPhase{Bytes: bytes, Elapsed: elapsed, MachineBusy: before.machine.busyShare(after.machine)}
	_, ph.MBPerSec = throughput(0, bytes, elapsed)
	ph.ClientCPU = after.self - before.self
	ph.ClientMsPerMB = msPerMB(ph.ClientCPU, bytes)
	for i := range after.procs {
		p := ProcessCPU{Node: -1, Role: "all", CPU: after.procs[i] - before.procs[i]}
		if perNode {
			p.Node, p.Role = int32(i+1), "follower"
			if p.Node == leader {
				p.Role = "leader"
			}
		}
		p.MsPerMB = msPerMB(p.CPU, bytes)
		ph.Processes = append(ph.Processes, p)
	}
	return ph
}

// write prints the cpu section: a row per system and phase.
func (c *CPUReport) write(w io.Writer) error {
	fmt.Fprintf(w, "\ncpu: %d brokers each, one partition at RF=%d, min.insync.replicas=%d, %d B records, acks=all, idempotent, %s produced after a tenth as warm-up\n",
		c.Brokers, c.ReplicationFactor, c.MinInsyncReplicas, c.RecordSize, byteSize(c.Bytes))
	fmt.Fprintf(w, "ms of CPU (user+system) per MB (10^6 B) of records, brokers' to +-%.2f (10 ms ticks); consume reads the topic from the start (the leader serves it); kfake is one process for all nodes:\n",
		msPerMB(time.Second/userHZ, c.Bytes))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\tphase\tMB\tMB/s\tleader\tfollowers\tall brokers\tclient\tmachine busy\t")
	for _, run := range c.Runs {
		for _, ph := range []struct {
			name string
			p    CPUPhase
		}{{"produce", run.Produce}, {"consume", run.Consume}} {
			leader, followers, all := ph.p.brokerCells()
			fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%s\t%s\t%.2f\t%.2f\t%.0f%%\t\n", run.System, ph.name, float64(ph.p.Bytes)/1e6,
				ph.p.MBPerSec, leader, followers, all, ph.p.ClientMsPerMB, ph.p.MachineBusy*100)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeSectionEnd(w, c.Err, c.Logs)
}

// brokerCells formats the leader's ms/MB, the followers' and the sum over
// every broker process.
func (p CPUPhase) brokerCells() (leader, followers string, all float64) {
	var fs []string
	leader = "-"
	for _, pr := range p.Processes {
		all += pr.MsPerMB
		switch pr.Role {
		case "leader":
			leader = fmt.Sprintf("%.2f (node %d)", pr.MsPerMB, pr.Node)
		case "follower":
			fs = append(fs, fmt.Sprintf("%.2f (node %d)", pr.MsPerMB, pr.Node))
		default:
			leader = fmt.Sprintf("%.2f (all nodes)", pr.MsPerMB)
		}
	}
	followers = "-"
	if len(fs) > 0 {
		followers = strings.Join(fs, ", ")
	}
	return leader, followers, all
}
