package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The latency run: records at a fixed rate (a share of the throughput
// run's, so queueing in the client does not dominate: the cluster section
// runs 10 %, 25 % and 50 % and judges the 50 % run), each acknowledged
// and read back by a consumer tailing the topic. It reports the produce latency
// (send to acknowledgement) and the produce-to-consume latency (send to
// the consumer's poll returning the record), both over the records of the
// run. The send time travels in the record's first 8 bytes (Unix
// nanoseconds): record timestamps are milliseconds.

// LatencyDuration is how long each latency run produces unless
// ClusterOptions.LatencyDuration says otherwise.
const LatencyDuration = 5 * time.Second

// Targets of the latency run (issue 14).
const (
	TargetHalfRateProduceP99 = 10 * time.Millisecond
	TargetHalfRateE2EP99     = 20 * time.Millisecond
)

// LatencyResult is what a latency run measured.
type LatencyResult struct {
	System   string  `json:"system"`
	Fraction float64 `json:"fraction,omitempty"` // of the throughput run's records/s; Rate is this share of it
	Rate     float64 `json:"rate"`               // records/s offered
	Achieved float64 `json:"achieved"`           // records/s acknowledged
	Records  int64   `json:"records"`
	Produce  Latency `json:"produce"`
	EndToEnd Latency `json:"end_to_end"`
	Missing  int64   `json:"missing"` // acknowledged but not consumed within the grace time
	// MachineBusy is the share of all the machine's cores that was busy
	// (anything, not only this run) while the records were produced, 0..1.
	MachineBusy float64 `json:"machine_busy"`
	// ServerCPU is the CPU time (user and system) the servers' processes
	// used while the records were produced, when the run was given them
	// (the cluster section's latency curve); ServerCPUPerRecord is it
	// over the records acknowledged. At low rates nearly every record is
	// its own request, so this is the cost of a replicated round trip.
	ServerCPU          time.Duration `json:"server_cpu_ns,omitempty"`
	ServerCPUPerRecord time.Duration `json:"server_cpu_per_record_ns,omitempty"`
}

// String is the one-line report the CLI prints.
func (r LatencyResult) String() string {
	return fmt.Sprintf("%d records at %.0f/s (offered %.0f/s): produce p50 %s p99 %s, produce-to-consume p50 %s p99 %s",
		r.Records, r.Achieved, r.Rate, fmtLatency(r.Produce.P50), fmtLatency(r.Produce.P99),
		fmtLatency(r.EndToEnd.P50), fmtLatency(r.EndToEnd.P99))
}

// LatencyRun produces o.RecordSize-byte records (at least 8) at rate
// records/s for d to o.Topic, consuming them as they come.
func LatencyRun(ctx context.Context, o Options, rate float64, d time.Duration) (LatencyResult, error) {
	return latencyRun(ctx, o, rate, d, nil)
}

// latencyRun is LatencyRun that, with serverCPU, also reports the servers'
// CPU over the records' production (ServerCPU).
func latencyRun(ctx context.Context, o Options, rate float64, d time.Duration, serverCPU func() (time.Duration, error)) (LatencyResult, error) {
	o.Records, o.Duration = 0, d
	o.RecordSize = max(o.RecordSize, 8)
	if err := o.validate(); err != nil {
		return LatencyResult{}, err
	}
	if rate <= 0 {
		return LatencyResult{}, fmt.Errorf("rate %.0f records/s is not positive", rate)
	}
	kopts, err := o.producerOpts()
	if err != nil {
		return LatencyResult{}, err
	}
	if err := EnsureTopic(ctx, o.Brokers, o.Topic, o.Partitions, o.ReplicationFactor); err != nil {
		return LatencyResult{}, err
	}
	prod, err := kgo.NewClient(kopts...)
	if err != nil {
		return LatencyResult{}, fmt.Errorf("creating producer client: %w", err)
	}
	defer prod.Close()
	cons, err := kgo.NewClient(kgo.SeedBrokers(o.Brokers...), kgo.ConsumeTopics(o.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(time.Second))
	if err != nil {
		return LatencyResult{}, fmt.Errorf("creating consumer client: %w", err)
	}
	defer cons.Close()

	e2e := NewHistogram()
	var mu sync.Mutex // e2e, consumed and warmSeen
	var consumed int64
	warmSeen := map[int32]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	wg.Go(func() {
		for cctx.Err() == nil {
			fs := cons.PollFetches(cctx)
			now := time.Now()
			mu.Lock()
			fs.EachRecord(func(r *kgo.Record) {
				if len(r.Value) < 8 {
					return
				}
				if sent := int64(binary.BigEndian.Uint64(r.Value)); sent > 0 {
					e2e.Record(now.Sub(time.Unix(0, sent)))
					consumed++
				} else {
					warmSeen[r.Partition] = true
				}
			})
			mu.Unlock()
		}
	})
	if err := warmUp(ctx, prod, o.RecordSize, func(n int) bool {
		mu.Lock()
		defer mu.Unlock()
		return len(warmSeen) >= n
	}); err != nil {
		return LatencyResult{}, fmt.Errorf("warming up on %s: %w", o.Topic, err)
	}

	ticks, err := readMachineTicks()
	if err != nil {
		return LatencyResult{}, err
	}
	var server0, server1 time.Duration
	if serverCPU != nil {
		if server0, err = serverCPU(); err != nil {
			return LatencyResult{}, err
		}
	}
	p := &producer{cl: prod, hist: NewHistogram()}
	interval := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	var sent int64
	for i := int64(0); ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * interval)
		if due.Sub(start) >= d {
			break
		}
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		v := make([]byte, o.RecordSize)
		now := time.Now()
		binary.BigEndian.PutUint64(v, uint64(now.UnixNano()))
		prod.Produce(ctx, &kgo.Record{Value: v, Timestamp: now}, p.promise)
		sent++
	}
	_ = prod.Flush(ctx)
	elapsed := time.Since(start)
	ticksAfter, err := readMachineTicks()
	if err != nil {
		return LatencyResult{}, err
	}
	if serverCPU != nil {
		if server1, err = serverCPU(); err != nil {
			return LatencyResult{}, err
		}
	}

	// Give the consumer a grace time to read what was acknowledged.
	grace := time.Now().Add(5 * time.Second)
	for time.Now().Before(grace) && ctx.Err() == nil {
		mu.Lock()
		done := consumed >= sent
		mu.Unlock()
		if done {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	wg.Wait()

	p.mu.Lock()
	defer p.mu.Unlock()
	res := LatencyResult{Rate: rate, Records: p.hist.Count(), Produce: p.hist.Summary(), EndToEnd: e2e.Summary(),
		MachineBusy: ticks.busyShare(ticksAfter)}
	res.Achieved, _ = throughput(res.Records, 0, elapsed)
	if res.ServerCPU = server1 - server0; res.Records > 0 {
		res.ServerCPUPerRecord = res.ServerCPU / time.Duration(res.Records)
	}
	res.Missing = max(res.Records-consumed, 0)
	if p.firstErr != nil {
		return res, fmt.Errorf("producing to %s: %d records failed, the first with: %w", o.Topic, p.failed, p.firstErr)
	}
	return res, ctx.Err()
}

// warmUp gets both clients past their start (metadata, the producer id,
// every partition's leader connection and first fetch, a follower's first
// fetch of a new partition) before anything is timed: it produces
// uncounted records (a zero stamp) with keys until every partition has
// acknowledged one, then waits until seen(partitions) says the consumer
// read one from each. Records timed during a client's or a new topic's
// start measured that start, not the steady state the run reports.
func warmUp(ctx context.Context, prod *kgo.Client, size int, seen func(partitions int) bool) error {
	const maxKeys = 10000
	acked := map[int32]bool{}
	partitions := 0
	for i := 0; i < maxKeys && (partitions == 0 || len(acked) < partitions); i++ {
		r := &kgo.Record{Key: []byte("warm-" + strconv.Itoa(i)), Value: make([]byte, size)}
		if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
			return err
		}
		acked[r.Partition] = true
		if partitions == 0 {
			n, err := partitionCount(ctx, prod, r.Topic)
			if err != nil {
				return err
			}
			partitions = n
		}
	}
	if len(acked) < partitions {
		return fmt.Errorf("%d keys reached %d of %d partitions", maxKeys, len(acked), partitions)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !seen(partitions) {
		if time.Now().After(deadline) {
			return fmt.Errorf("the consumer did not read a warm-up record from each of %d partitions in 30s", partitions)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// partitionCount is topic's partition count from the client's metadata.
func partitionCount(ctx context.Context, cl *kgo.Client, topic string) (int, error) {
	td, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("describing %s: %w", topic, err)
	}
	t, ok := td[topic]
	if !ok || t.Err != nil || len(t.Partitions) == 0 {
		return 0, fmt.Errorf("describing %s: no partitions (%v)", topic, t.Err)
	}
	return len(t.Partitions), nil
}
