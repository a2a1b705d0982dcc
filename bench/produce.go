package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Produce runs the produce workload o describes and returns what it
// measured. The topic is created first if it does not exist. Each record's
// latency runs from just before its Produce call to its promise, so it
// includes time spent waiting for buffer space, lingering and the broker's
// acknowledgement.
func Produce(ctx context.Context, o Options) (Result, error) {
	if err := o.validate(); err != nil {
		return Result{}, err
	}
	kopts, err := o.producerOpts()
	if err != nil {
		return Result{}, err
	}
	if err := EnsureTopic(ctx, o.Brokers, o.Topic, o.Partitions, o.ReplicationFactor, o.Security...); err != nil {
		return Result{}, err
	}
	producers, err := newProducers(o, kopts)
	if err != nil {
		return Result{}, err
	}
	defer func() {
		for _, p := range producers {
			p.cl.Close()
		}
	}()
	// Warm up: one record per client fetches metadata and producer IDs so
	// that connection setup does not count against the run.
	for _, p := range producers {
		if err := p.cl.ProduceSync(ctx, &kgo.Record{Value: p.value}).FirstErr(); err != nil {
			return Result{}, fmt.Errorf("producing to %s: %w", o.Topic, err)
		}
	}
	return runProducers(ctx, o, producers)
}

// producer is one client of a run and what its promises observed. Promises
// of one kgo client run serially, but the fields are read by Produce's
// goroutine too, so they live under mu.
type producer struct {
	cl    *kgo.Client
	value []byte

	mu       sync.Mutex
	hist     *Histogram
	bytes    int64
	failed   int64
	firstErr error
}

func newProducers(o Options, kopts []kgo.Opt) ([]*producer, error) {
	value := randomValue(o.RecordSize)
	ps := make([]*producer, 0, o.Clients)
	for range o.Clients {
		cl, err := kgo.NewClient(kopts...)
		if err != nil {
			for _, p := range ps {
				p.cl.Close()
			}
			return nil, fmt.Errorf("creating producer client: %w", err)
		}
		ps = append(ps, &producer{cl: cl, value: value, hist: NewHistogram()})
	}
	return ps, nil
}

// runProducers drives every producer to its share of the records (or to
// the deadline) and merges what they saw.
func runProducers(ctx context.Context, o Options, ps []*producer) (Result, error) {
	var deadline time.Time
	if o.Records <= 0 {
		deadline = time.Now().Add(o.Duration)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i, p := range ps {
		quota := share(o.Records, int64(len(ps)), int64(i))
		wg.Go(func() { p.run(ctx, quota, deadline) })
	}
	wg.Wait()
	res := Result{Elapsed: time.Since(start)}
	hist := NewHistogram()
	var failed int64
	var firstErr error
	for _, p := range ps {
		p.mu.Lock()
		hist.Merge(p.hist)
		res.Bytes += p.bytes
		failed += p.failed
		if firstErr == nil {
			firstErr = p.firstErr
		}
		p.mu.Unlock()
	}
	res.Records = hist.Count()
	res.Latency = hist.Summary()
	res.RecordsPerSec, res.MBPerSec = throughput(res.Records, res.Bytes, res.Elapsed)
	if firstErr != nil {
		return res, fmt.Errorf("producing to %s: %d records failed, the first with: %w", o.Topic, failed, firstErr)
	}
	return res, ctx.Err()
}

// share is client i's part of total records split over n clients.
func share(total, n, i int64) int64 {
	q := total / n
	if i < total%n {
		q++
	}
	return q
}

// run produces quota records (or, with quota 0, until deadline), then
// waits for every promise.
func (p *producer) run(ctx context.Context, quota int64, deadline time.Time) {
	for i := int64(0); quota == 0 || i < quota; i++ {
		if quota == 0 && i%256 == 0 && time.Now().After(deadline) {
			break
		}
		if ctx.Err() != nil {
			break
		}
		r := &kgo.Record{Value: p.value, Timestamp: time.Now()}
		p.cl.Produce(ctx, r, p.promise)
	}
	_ = p.cl.Flush(ctx)
}

func (p *producer) promise(r *kgo.Record, err error) {
	lat := time.Since(r.Timestamp)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.failed++
		if p.firstErr == nil {
			p.firstErr = err
		}
		return
	}
	p.hist.Record(lat)
	p.bytes += int64(len(r.Value) + len(r.Key))
}
