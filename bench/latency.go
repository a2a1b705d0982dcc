package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The latency run: records at a fixed rate (half of the throughput run's,
// so queueing in the client does not dominate), each acknowledged and read
// back by a consumer tailing the topic. It reports the produce latency
// (send to acknowledgement) and the produce-to-consume latency (send to
// the consumer's poll returning the record), both over the records of the
// run. The send time travels in the record's first 8 bytes (Unix
// nanoseconds): record timestamps are milliseconds.

// LatencyDuration is how long the latency run produces.
const LatencyDuration = 5 * time.Second

// Targets of the latency run (issue 14).
const (
	TargetHalfRateProduceP99 = 10 * time.Millisecond
	TargetHalfRateE2EP99     = 20 * time.Millisecond
)

// LatencyResult is what a latency run measured.
type LatencyResult struct {
	System   string  `json:"system"`
	Rate     float64 `json:"rate"`     // records/s offered
	Achieved float64 `json:"achieved"` // records/s acknowledged
	Records  int64   `json:"records"`
	Produce  Latency `json:"produce"`
	EndToEnd Latency `json:"end_to_end"`
	Missing  int64   `json:"missing"` // acknowledged but not consumed within the grace time
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

	// Warm up both clients (metadata, producer id, the consumer's first
	// fetch) with one record that is not counted (its stamp is zero).
	warm := make([]byte, o.RecordSize)
	if err := prod.ProduceSync(ctx, &kgo.Record{Value: warm}).FirstErr(); err != nil {
		return LatencyResult{}, fmt.Errorf("producing to %s: %w", o.Topic, err)
	}

	e2e := NewHistogram()
	var mu sync.Mutex // e2e and consumed
	var consumed int64
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
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
				}
			})
			mu.Unlock()
		}
	})

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
	res := LatencyResult{Rate: rate, Records: p.hist.Count(), Produce: p.hist.Summary(), EndToEnd: e2e.Summary()}
	res.Achieved, _ = throughput(res.Records, 0, elapsed)
	res.Missing = max(res.Records-consumed, 0)
	if p.firstErr != nil {
		return res, fmt.Errorf("producing to %s: %d records failed, the first with: %w", o.Topic, p.failed, p.firstErr)
	}
	return res, ctx.Err()
}
