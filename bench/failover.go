package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The failover probe: one record every probeInterval to partition 0 of
// failoverTopic, each failed after probeRecordTimeout. The client looks
// metadata up again at most every probeMetadataMinAge (the Java client's
// retry.backoff.ms; franz-go's default of 5s would dominate what is
// measured).
const (
	failoverTopic       = "weir-bench-failover"
	probeInterval       = 5 * time.Millisecond
	probeRecordTimeout  = 2 * time.Second
	probeMetadataMinAge = 100 * time.Millisecond
	failoverWaitMax     = time.Minute // give up on a run after this long without an ack
)

// FailoverRun is one leader kill.
type FailoverRun struct {
	Killed        int32         `json:"killed"`         // the partition's leader, SIGKILLed
	WasController bool          `json:"was_controller"` // it was also the quorum's active controller
	NewLeader     int32         `json:"new_leader"`
	Downtime      time.Duration `json:"downtime_ns"`    // from the kill to the first acknowledged record sent after it
	FailedRecords int64         `json:"failed_records"` // records sent after the kill that failed meanwhile
	FirstError    string        `json:"first_error,omitempty"`
	Rejoin        time.Duration `json:"rejoin_ns"` // from the restart until the broker was back in the ISR
}

// FailoverReport is the failover section.
type FailoverReport struct {
	Brokers       int           `json:"brokers"`
	Acks          string        `json:"acks"`
	Idempotent    bool          `json:"idempotent"`
	Interval      time.Duration `json:"interval_ns"`
	RecordTimeout time.Duration `json:"record_timeout_ns"`
	Runs          []FailoverRun `json:"runs"`
	Median        time.Duration `json:"median_ns"`
	Logs          []LogDigest   `json:"logs"`
	Err           string        `json:"error,omitempty"`
}

// failoverSection starts a Weir cluster and kills the leader of the
// probe's partition FailoverRuns times, restarting it in between.
func (o CompareOptions) failoverSection(ctx context.Context, rep *CompareReport) error {
	fr := &FailoverReport{Brokers: o.Cluster.brokers(), Acks: "all", Idempotent: o.Client.Idempotent,
		Interval: probeInterval, RecordTimeout: probeRecordTimeout}
	rep.Failover = fr
	c, err := o.startCluster(ctx, "weir", "weir-failover", fr.Brokers)
	if err != nil {
		fr.Err = err.Error()
		return fmt.Errorf("failover section: %w", err)
	}
	err = o.failoverRuns(ctx, c, fr)
	fr.Logs = DigestLogs(c.LogPaths()) // before the shutdown's own noise
	c.Stop()
	if err != nil {
		fr.Err = err.Error()
		return fmt.Errorf("failover section: %w", err)
	}
	return nil
}

func (o CompareOptions) failoverRuns(ctx context.Context, c *Cluster, fr *FailoverReport) error {
	adm, err := newAdmin(c.Bootstrap())
	if err != nil {
		return err
	}
	defer adm.Close()
	rf := int16(min(3, fr.Brokers))
	if err := EnsureTopic(ctx, c.Bootstrap(), failoverTopic, max(o.Client.Partitions, 1), rf); err != nil {
		return err
	}
	if _, err := awaitISR(ctx, adm, int(rf), o.startTimeout()); err != nil {
		return err
	}
	for i := range cmpOr(o.Cluster.FailoverRuns, 3) {
		run, err := o.failoverOnce(ctx, c, adm, fr)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		fmt.Fprintf(o.Progress, "weir-failover: run %d: killed broker %d (controller: %v), first ack after %s, %d records failed, new leader %d, back in the ISR %s after its restart\n",
			i+1, run.Killed, run.WasController, fmtLatency(run.Downtime), run.FailedRecords, run.NewLeader, fmtLatency(run.Rejoin))
		fr.Runs = append(fr.Runs, run)
	}
	fr.Median = medianDuration(fr.Runs)
	return nil
}

// failoverOnce kills the probe partition's leader while the probe runs,
// waits for the first acknowledgement after the kill, then restarts the
// killed broker and waits until it is back in the ISR.
func (o CompareOptions) failoverOnce(ctx context.Context, c *Cluster, adm *kadm.Client, fr *FailoverReport) (FailoverRun, error) {
	var run FailoverRun
	p, err := startProbe(c.Bootstrap(), o.Client.Idempotent)
	if err != nil {
		return run, err
	}
	defer p.stop()
	if _, err := p.ackAfter(ctx, time.Now(), failoverWaitMax); err != nil {
		return run, fmt.Errorf("the probe got no ack before the kill: %w", err)
	}
	leader, controller, err := partitionLeader(ctx, adm)
	if err != nil {
		return run, err
	}
	run.Killed, run.WasController = leader, leader == controller
	fmt.Fprintf(o.Progress, "weir-failover: killing broker %d, leader of %s[0]\n", leader, failoverTopic)
	killedAt, err := c.Kill(leader)
	if err != nil {
		return run, err
	}
	ackAt, err := p.ackAfter(ctx, killedAt, failoverWaitMax)
	run.FailedRecords, run.FirstError = p.failuresAfter(killedAt)
	if err != nil {
		return run, fmt.Errorf("after killing broker %d: %w", leader, err)
	}
	run.Downtime = ackAt.Sub(killedAt)
	p.stop()
	if run.NewLeader, _, err = partitionLeader(ctx, adm); err != nil {
		return run, err
	}
	restarted := time.Now()
	if err := c.Restart(ctx, leader, o.startTimeout()); err != nil {
		return run, err
	}
	if _, err := awaitISR(ctx, adm, int(min(3, fr.Brokers)), o.startTimeout()); err != nil {
		return run, fmt.Errorf("broker %d back in the ISR: %w", leader, err)
	}
	run.Rejoin = time.Since(restarted)
	return run, nil
}

// newAdmin returns an admin client whose metadata is never cached long.
func newAdmin(brokers []string) (*kadm.Client, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.MetadataMinAge(probeMetadataMinAge))
	if err != nil {
		return nil, fmt.Errorf("creating admin client: %w", err)
	}
	return kadm.NewClient(cl), nil
}

// partitionLeader returns the leader of the probe's partition and the
// active controller.
func partitionLeader(ctx context.Context, adm *kadm.Client) (leader, controller int32, err error) {
	md, err := adm.Metadata(ctx, failoverTopic)
	if err != nil {
		return -1, -1, fmt.Errorf("metadata of %s: %w", failoverTopic, err)
	}
	p, ok := md.Topics[failoverTopic].Partitions[0]
	if !ok || p.Err != nil || p.Leader < 0 {
		return -1, -1, fmt.Errorf("%s[0] has no leader (%v)", failoverTopic, p.Err)
	}
	return p.Leader, md.Controller, nil
}

// awaitISR polls until every partition of the probe's topic has a leader
// and an ISR of want replicas, and returns how long that took.
func awaitISR(ctx context.Context, adm *kadm.Client, want int, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	var last string
	for time.Since(start) < timeout {
		md, err := adm.Metadata(ctx, failoverTopic)
		last = fmt.Sprint(err)
		if err == nil {
			if last = isrShortfall(md.Topics[failoverTopic], want); last == "" {
				return time.Since(start), nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("ISR of %s not full after %s: %s", failoverTopic, timeout, last)
}

// isrShortfall names the first partition of t without a leader or with
// fewer than want in-sync replicas, or returns "".
func isrShortfall(t kadm.TopicDetail, want int) string {
	if t.Err != nil {
		return t.Err.Error()
	}
	if len(t.Partitions) == 0 {
		return "no partitions"
	}
	for _, p := range t.Partitions {
		if p.Err != nil || p.Leader < 0 || len(p.ISR) < want {
			return fmt.Sprintf("partition %d: leader %d, ISR %v, %v", p.Partition, p.Leader, p.ISR, p.Err)
		}
	}
	return ""
}

// medianDuration is the median downtime of runs (the lower middle of an
// even count).
func medianDuration(runs []FailoverRun) time.Duration {
	if len(runs) == 0 {
		return 0
	}
	ds := make([]time.Duration, len(runs))
	for i, r := range runs {
		ds[i] = r.Downtime
	}
	slices.Sort(ds)
	return ds[(len(ds)-1)/2]
}

// probe sends a record to partition 0 of the failover topic every
// probeInterval and remembers when each acknowledgement or failure came.
// Its sending goroutine is owned by the probe and ended by stop.
type probe struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	mu     sync.Mutex
	acks   []probeAck
	fails  []probeFailure
	notify chan struct{} // closed and replaced on each ack
}

type probeAck struct{ sent, acked time.Time }

type probeFailure struct {
	sent time.Time
	err  error
}

func startProbe(brokers []string, idempotent bool) (*probe, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(failoverTopic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordDeliveryTimeout(probeRecordTimeout), kgo.MetadataMinAge(probeMetadataMinAge),
	}
	if !idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating the probe client: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &probe{cl: cl, cancel: cancel, notify: make(chan struct{})}
	p.wg.Go(func() { p.send(ctx) })
	return p, nil
}

func (p *probe) send(ctx context.Context) {
	tick := time.NewTicker(probeInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		sent := time.Now()
		p.cl.Produce(ctx, &kgo.Record{Value: []byte("probe"), Partition: 0, Timestamp: sent}, p.promise)
	}
}

func (p *probe) promise(r *kgo.Record, err error) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			p.fails = append(p.fails, probeFailure{sent: r.Timestamp, err: err})
		}
		return
	}
	p.acks = append(p.acks, probeAck{sent: r.Timestamp, acked: now})
	close(p.notify)
	p.notify = make(chan struct{})
}

// ackAfter waits for the first ack of a record sent at or after t and
// returns when that ack arrived.
func (p *probe) ackAfter(ctx context.Context, t time.Time, wait time.Duration) (time.Time, error) {
	deadline := time.After(wait)
	for {
		p.mu.Lock()
		at, ok := p.firstAckOfSentAfter(t)
		ch := p.notify
		p.mu.Unlock()
		if ok {
			return at, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-deadline:
			n, first := p.failuresAfter(t)
			return time.Time{}, fmt.Errorf("no record sent after %s acknowledged within %s (%d failed, the first with: %s)",
				t.Format("15:04:05.000"), wait, n, first)
		}
	}
}

// firstAckOfSentAfter returns the earliest ack of a record sent at or
// after t; p.mu held.
func (p *probe) firstAckOfSentAfter(t time.Time) (time.Time, bool) {
	var first time.Time
	for _, a := range p.acks {
		if !a.sent.Before(t) && (first.IsZero() || a.acked.Before(first)) {
			first = a.acked
		}
	}
	return first, !first.IsZero()
}

// failuresAfter counts failed records sent at or after t and returns the
// first error among them.
func (p *probe) failuresAfter(t time.Time) (int64, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	var first string
	for _, f := range p.fails {
		if !f.sent.Before(t) {
			if n == 0 {
				first = f.err.Error()
			}
			n++
		}
	}
	return n, first
}

// stop ends the sending goroutine and closes the client, failing what is
// still buffered. It may be called more than once.
func (p *probe) stop() {
	p.once.Do(func() {
		p.cancel()
		p.wg.Wait()
		p.cl.Close()
	})
}
