package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ConsumeOptions describe a consume workload: read a topic from its start
// up to the end offsets it had when the run began.
type ConsumeOptions struct {
	Brokers       []string
	Topic         string
	FetchMaxBytes int32     // per fetch response (0: franz-go's default)
	Security      []kgo.Opt // TLS and SASL options for every client (see RunTLS)
}

// ConsumeResult is what a consume run measured; Elapsed is the time to
// drain the topic.
type ConsumeResult struct {
	Records       int64         `json:"records"`
	Bytes         int64         `json:"bytes"`
	Elapsed       time.Duration `json:"elapsed_ns"`
	RecordsPerSec float64       `json:"records_per_sec"`
	MBPerSec      float64       `json:"mb_per_sec"`
}

// String is the one-line report the CLI prints.
func (r ConsumeResult) String() string {
	return fmt.Sprintf("%d records (%s) drained in %s: %.0f records/s, %.2f MB/s",
		r.Records, byteSize(r.Bytes), r.Elapsed.Round(time.Millisecond), r.RecordsPerSec, r.MBPerSec)
}

// Consume reads every partition of o.Topic from its log start offset to the
// end offset it had when Consume was called.
func Consume(ctx context.Context, o ConsumeOptions) (ConsumeResult, error) {
	if len(o.Brokers) == 0 || o.Topic == "" {
		return ConsumeResult{}, errors.New("brokers and topic are both needed")
	}
	targets, err := drainTargets(ctx, o)
	if err != nil {
		return ConsumeResult{}, err
	}
	kopts := append([]kgo.Opt{kgo.SeedBrokers(o.Brokers...), kgo.ConsumePartitions(targets.starts())}, o.Security...)
	if o.FetchMaxBytes > 0 {
		kopts = append(kopts, kgo.FetchMaxBytes(o.FetchMaxBytes))
	}
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return ConsumeResult{}, fmt.Errorf("creating consumer client: %w", err)
	}
	defer cl.Close()
	return drain(ctx, cl, targets)
}

// span is the offsets of one partition a run reads: [start, end).
type span struct{ start, end int64 }

type partitionSpans map[string]map[int32]span

func (ps partitionSpans) starts() map[string]map[int32]kgo.Offset {
	out := make(map[string]map[int32]kgo.Offset)
	for t, parts := range ps {
		out[t] = make(map[int32]kgo.Offset)
		for p, s := range parts {
			out[t][p] = kgo.NewOffset().At(s.start)
		}
	}
	return out
}

// drainTargets lists each partition's start and end offsets.
func drainTargets(ctx context.Context, o ConsumeOptions) (partitionSpans, error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(o.Brokers...)}, o.Security...)...)
	if err != nil {
		return nil, fmt.Errorf("creating admin client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	starts, err := adm.ListStartOffsets(ctx, o.Topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("listing start offsets of %s: %w", o.Topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, o.Topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("listing end offsets of %s: %w", o.Topic, err)
	}
	spans := partitionSpans{o.Topic: {}}
	starts.Each(func(l kadm.ListedOffset) {
		end, _ := ends.Lookup(l.Topic, l.Partition)
		if end.Offset > l.Offset {
			spans[o.Topic][l.Partition] = span{l.Offset, end.Offset}
		}
	})
	return spans, nil
}

// drain polls until every partition reached its end offset.
func drain(ctx context.Context, cl *kgo.Client, targets partitionSpans) (ConsumeResult, error) {
	left := 0
	for _, parts := range targets {
		left += len(parts)
	}
	var res ConsumeResult
	start := time.Now()
	for left > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := fetchError(fetches); err != nil {
			return res, err
		}
		fetches.EachRecord(func(r *kgo.Record) {
			s := targets[r.Topic][r.Partition]
			if r.Offset >= s.end {
				return // produced after the run began
			}
			res.Records++
			res.Bytes += int64(len(r.Value) + len(r.Key))
			if r.Offset == s.end-1 {
				left--
			}
		})
	}
	res.Elapsed = time.Since(start)
	res.RecordsPerSec, res.MBPerSec = throughput(res.Records, res.Bytes, res.Elapsed)
	return res, nil
}

// fetchError returns the first error of fetches that is not retried.
func fetchError(fetches kgo.Fetches) error {
	var first error
	fetches.EachError(func(t string, p int32, err error) {
		if first == nil {
			first = fmt.Errorf("fetching %s[%d]: %w", t, p, err)
		}
	})
	return first
}
