package server

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/weirhq/weir/broker/group"
	wlog "github.com/weirhq/weir/broker/log"
)

// The group coordinator's wiring: __consumer_offsets (created on first
// use), the group.Storage over its partition logs, loading at start, and
// the coordinator's ticker.

const offsetsTopic = "__consumer_offsets"

// groupsState guards the creation of __consumer_offsets.
type groupsState struct {
	mu sync.Mutex // held while creating the topic and loading its partitions
}

// newCoordinator builds the coordinator. The partition count is the
// existing topic's, else offsets.topic.num.partitions.
func (b *Broker) newCoordinator() *group.Coordinator {
	n := b.cfg.OffsetsTopicNumPartitions
	if t := b.topic(offsetsTopic); t != nil {
		n = int32(len(t.partitions))
	}
	cfg := group.Config{
		Now: b.now, Logger: b.logger.With("component", "group-coordinator"),
		NumPartitions:          n,
		MinSessionTimeout:      b.cfg.GroupMinSessionTimeout,
		MaxSessionTimeout:      b.cfg.GroupMaxSessionTimeout,
		InitialRebalanceDelay:  b.cfg.GroupInitialRebalanceDelay,
		OffsetsRetention:       b.cfg.OffsetsRetention,
		RetentionCheckInterval: rawMs(b.cfg.Raw, "offsets.retention.check.interval.ms", 600000),
		MaxMetadataBytes:       int(rawMs(b.cfg.Raw, "offset.metadata.max.bytes", 4096)),
		PartitionExists: func(topic string, p int32) bool {
			return b.lookup(topic, p) != nil
		},
	}
	c := group.New(cfg, offsetsStorage{b})
	if t := b.topic(offsetsTopic); t != nil {
		for i := range t.partitions {
			c.MarkLoading(int32(i))
		}
	}
	return c
}

// rawMs reads an integer key the config keeps only raw, in milliseconds
// (or plain units for byte counts).
func rawMs(raw map[string]string, key string, def int64) time.Duration {
	if v, err := strconv.ParseInt(raw[key], 10, 64); err == nil && v > 0 {
		def = v
	}
	if key == "offset.metadata.max.bytes" {
		return time.Duration(def)
	}
	return time.Duration(def) * time.Millisecond
}

// loadGroups replays every partition of an existing __consumer_offsets.
func (b *Broker) loadGroups() {
	t := b.topic(offsetsTopic)
	if t == nil {
		return
	}
	for i := range t.partitions {
		if b.ctx.Err() != nil {
			return
		}
		if err := b.groups.LoadPartition(int32(i)); err != nil {
			b.logger.Error("loading group metadata failed; its groups get NOT_COORDINATOR", "err", err)
		}
	}
}

// ensureOffsetsTopic creates __consumer_offsets on first use (compacted,
// offsets.topic.num.partitions partitions, replication factor clamped to
// the one live broker) and loads its partitions.
func (b *Broker) ensureOffsetsTopic() error {
	if b.topic(offsetsTopic) != nil {
		return nil
	}
	b.groupsMu.mu.Lock()
	defer b.groupsMu.mu.Unlock()
	if b.topic(offsetsTopic) != nil {
		return nil
	}
	segment := b.cfg.Raw["offsets.topic.segment.bytes"]
	if segment == "" {
		segment = "104857600"
	}
	configs := map[string]string{
		"cleanup.policy": "compact", "segment.bytes": segment, "compression.type": "uncompressed",
	}
	t, err := b.createTopic(offsetsTopic, b.cfg.OffsetsTopicNumPartitions, configs)
	if err != nil {
		return fmt.Errorf("creating %s: %w", offsetsTopic, err)
	}
	for i := range t.partitions {
		if err := b.groups.LoadPartition(int32(i)); err != nil {
			b.logger.Error("loading group metadata failed", "err", err)
		}
	}
	return nil
}

// offsetsStorage is group.Storage over the __consumer_offsets logs: a
// batch is validated and appended like a produced one, and wakes fetches.
type offsetsStorage struct{ b *Broker }

func (s offsetsStorage) partition(p int32) (*partition, error) {
	part := s.b.lookup(offsetsTopic, p)
	if part == nil {
		return nil, kerr.NotCoordinator
	}
	return part, nil
}

func (s offsetsStorage) Append(p int32, batch []byte) error {
	part, err := s.partition(p)
	if err != nil {
		return err
	}
	hdrs, err := wlog.ValidateBatches(batch, int(part.settings().MaxMessageBytes))
	if err == nil {
		_, err = part.log.Append(batch, hdrs, wlog.AppendOptions{LeaderEpoch: part.leaderEpoch(), Now: s.b.now()})
	}
	switch {
	case err == nil:
		part.appended() // advances the high watermark and wakes fetches
		return nil
	case errors.Is(err, wlog.ErrMessageTooLarge):
		return fmt.Errorf("%w: %w", kerr.InvalidCommitOffsetSize, err)
	case errors.Is(err, wlog.ErrClosed):
		return fmt.Errorf("%w: %w", kerr.NotCoordinator, err)
	}
	return err
}

func (s offsetsStorage) Bounds(p int32) (int64, int64, error) {
	part, err := s.partition(p)
	if err != nil {
		return 0, 0, err
	}
	return part.log.LogStartOffset(), part.highWatermark(), nil
}

func (s offsetsStorage) Read(p int32, offset int64) ([]byte, error) {
	part, err := s.partition(p)
	if err != nil {
		return nil, err
	}
	return part.log.Read(offset, 1<<20, part.highWatermark(), true)
}

// await delivers a coordinator answer that may come later: the connection
// waits for it, or for shutdown (then fallback is answered).
func await[T any](b *Broker, start func(reply func(T)), fallback func() T) T {
	ch := make(chan T, 1)
	start(func(resp T) { ch <- resp })
	select {
	case resp := <-ch:
		return resp
	case <-b.ctx.Done():
		return fallback()
	}
}
