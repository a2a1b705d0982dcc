package monitor

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Operations whose failures State.Error reports.
const (
	opMetadata = "refreshing metadata"
	opSizes    = "describing log dirs"
	opStart    = "listing the samples topic's offsets"
	opFetch    = "fetching samples"
)

// Run reads the samples topic and refreshes the metadata until ctx ends.
// It starts at the oldest offset within the kept windows (ListOffsets by
// timestamp), so a restarted collector rebuilds its model from the topic;
// until it has read up to the end offsets it found, the state is LOADING.
// Failures are retried every MetadataRefresh and reported in State.Error.
// Run returns nil when ctx ends, after its goroutines have.
func (m *Monitor) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // a consumer that fails to start stops the refresher too
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // owned by Run: waited for below
		defer wg.Done()
		m.refreshLoop(ctx)
	}()
	err := m.consume(ctx)
	cancel()
	wg.Wait()
	return err
}

// refreshLoop refreshes the metadata (and sizes) every MetadataRefresh.
func (m *Monitor) refreshLoop(ctx context.Context) {
	t := time.NewTicker(m.cfg.MetadataRefresh)
	defer t.Stop()
	for {
		m.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// refresh reads the metadata, drops expired windows, and reads partition
// sizes with DescribeLogDirs when some partition has no sampled size, at
// most once a partition window.
func (m *Monitor) refresh(ctx context.Context) {
	now := m.now()
	md, err := fetchMetadata(ctx, m.adm, now)
	if ctx.Err() != nil {
		return
	}
	m.setErr(opMetadata, err)
	if err != nil {
		return
	}
	m.mu.Lock()
	m.mu.meta = md
	m.mu.win.prune(now)
	need := now.Sub(m.mu.sizesAt) >= m.cfg.PartitionWindow && m.missingSizes()
	m.mu.Unlock()
	if !need {
		return
	}
	sizes, err := fetchSizes(ctx, m.adm, md)
	m.setErr(opSizes, err)
	if err == nil {
		m.mu.Lock()
		m.mu.sizes, m.mu.sizesAt = sizes, now
		m.mu.Unlock()
	}
}

// missingSizes reports whether a partition has no sampled size; mu held.
func (m *Monitor) missingSizes() bool {
	for _, p := range m.mu.meta.partitions {
		if s := m.mu.win.partitions[p.tp]; s == nil || s.sizeTime.IsZero() {
			return true
		}
	}
	return false
}

// consume reads the samples topic until ctx ends.
func (m *Monitor) consume(ctx context.Context) error {
	cons, pending, err := m.startConsumer(ctx)
	if cons == nil {
		return err
	}
	defer cons.Close()
	m.ingestFetches(nil, pending) // an empty topic has nothing to load
	for {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var fetchErr error
		fs.EachError(func(t string, p int32, err error) { fetchErr = fmt.Errorf("%s[%d]: %w", t, p, err) })
		m.setErr(opFetch, fetchErr)
		m.ingestFetches(fs, pending)
	}
}

// ingestFetches adds a poll's records and ends LOADING once every
// partition has been read to the end offset it had at start.
func (m *Monitor) ingestFetches(fs kgo.Fetches, pending map[int32]int64) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	fs.EachRecord(func(r *kgo.Record) {
		m.ingest(r.Value, now)
		if end, ok := pending[r.Partition]; ok && r.Offset+1 >= end {
			delete(pending, r.Partition)
		}
	})
	if len(pending) == 0 && m.mu.loading {
		m.mu.loading = false
		m.logger.Info("load samples read back", "topic", m.cfg.Topic, "accepted", m.mu.accepted, "rejected", m.mu.rejected)
	}
}

// startConsumer waits for the samples topic and returns a consumer of it
// from the oldest kept window on, and the end offsets to read up to
// before LOADING ends. It returns a nil client when ctx ends.
func (m *Monitor) startConsumer(ctx context.Context) (*kgo.Client, map[int32]int64, error) {
	for {
		offsets, pending, err := m.startOffsets(ctx)
		if err == nil {
			opts := append(m.cl.Opts(), kgo.ClientID("weir-collector-monitor"),
				kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{m.cfg.Topic: offsets}))
			cons, err := kgo.NewClient(opts...)
			if err != nil {
				return nil, nil, fmt.Errorf("creating the samples consumer: %w", err)
			}
			m.setErr(opStart, nil)
			return cons, pending, nil
		}
		m.setErr(opStart, err)
		select {
		case <-ctx.Done():
			return nil, nil, nil
		case <-time.After(m.cfg.MetadataRefresh):
		}
	}
}

// startOffsets lists, per partition of the samples topic, the first offset
// at or after the oldest kept window's start, and the end offsets not yet
// reached.
func (m *Monitor) startOffsets(ctx context.Context) (map[int32]kgo.Offset, map[int32]int64, error) {
	from := m.historyStart(m.now())
	starts, err := m.adm.ListOffsetsAfterMilli(ctx, from.UnixMilli(), m.cfg.Topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s from %s: %w", m.cfg.Topic, from.Format(time.RFC3339), err)
	}
	ends, err := m.adm.ListEndOffsets(ctx, m.cfg.Topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s's end offsets: %w", m.cfg.Topic, err)
	}
	offsets, pending := map[int32]kgo.Offset{}, map[int32]int64{}
	starts.Each(func(o kadm.ListedOffset) {
		offsets[o.Partition] = kgo.NewOffset().At(o.Offset)
		if e, ok := ends.Lookup(m.cfg.Topic, o.Partition); ok && e.Offset > o.Offset {
			pending[o.Partition] = e.Offset
		}
	})
	return offsets, pending, nil
}

// historyStart is the start of the oldest window kept, partition or broker.
func (m *Monitor) historyStart(now time.Time) time.Time {
	p, b := m.cfg.PartitionWindow, m.cfg.BrokerWindow
	ps := windowStart(windowIndex(now, p)-int64(m.cfg.NumPartitionWindows), p)
	bs := windowStart(windowIndex(now, b)-int64(m.cfg.NumBrokerWindows), b)
	if bs.Before(ps) {
		return bs
	}
	return ps
}

// RefreshMetadata reads the cluster's metadata now, so the next Model
// places replicas where they are at this moment: the planner must not
// plan from an assignment an execution has just changed.
func (m *Monitor) RefreshMetadata(ctx context.Context) error {
	m.refresh(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err, ok := m.mu.errs[opMetadata]; ok && err != "" {
		return fmt.Errorf("refreshing the cluster's metadata: %s", err)
	}
	return nil
}
