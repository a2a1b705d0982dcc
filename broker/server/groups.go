package server

import (
	"errors"
	"fmt"
	"math"
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

// newCoordinator builds the coordinator over offsets.topic.num.partitions
// partitions. Which partitions it serves follows leadership: reconcile
// loads an offsets partition when this broker becomes its leader and
// unloads it when another broker does.
func (b *Broker) newCoordinator() *group.Coordinator {
	cfg := group.Config{
		Now: b.now, Logger: b.logger.With("component", "group-coordinator"),
		NumPartitions:          b.cfg.OffsetsTopicNumPartitions,
		MinSessionTimeout:      b.cfg.GroupMinSessionTimeout,
		MaxSessionTimeout:      b.cfg.GroupMaxSessionTimeout,
		InitialRebalanceDelay:  b.cfg.GroupInitialRebalanceDelay,
		OffsetsRetention:       b.cfg.OffsetsRetention,
		RetentionCheckInterval: rawMs(b.cfg.Raw, "offsets.retention.check.interval.ms", 600000),
		MaxMetadataBytes:       int(rawMs(b.cfg.Raw, "offset.metadata.max.bytes", 4096)),
		PartitionExists: func(topic string, p int32) bool {
			_, ok := b.node.Image().Partition(topic, p)
			return ok
		},
		ConsumerHeartbeatInterval: rawMs(b.cfg.Raw, "group.consumer.heartbeat.interval.ms", 5000),
		ConsumerSessionTimeout:    rawMs(b.cfg.Raw, "group.consumer.session.timeout.ms", 45000),
		ConsumerMaxSize:           int(rawMs(b.cfg.Raw, "group.consumer.max.size", 200) / time.Millisecond),
		TopicByName: func(name string) ([16]byte, int32, bool) {
			t, ok := b.node.Image().Topic(name)
			if !ok {
				return [16]byte{}, 0, false
			}
			return t.ID, int32(len(t.Partitions)), true
		},
		TopicByID: func(id [16]byte) (string, bool) {
			t, ok := b.node.Image().TopicByID(id)
			if !ok {
				return "", false
			}
			return t.Name, true
		},
		// SubscribedTopicRegex is resolved against every topic; a group's
		// regexes at most every 10s (Kafka's constant) by default.
		TopicNames:           func() []string { return b.node.Image().TopicNames() },
		RegexRefreshInterval: rawMs(b.cfg.Raw, "weir.group.consumer.regex.refresh.min.interval.ms", 10000),
	}
	return group.New(cfg, offsetsStorage(b))
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

// ensureOffsetsTopic asks the controller for __consumer_offsets on first
// use (compacted, offsets.topic.num.partitions partitions, replication
// factor offsets.topic.replication.factor clamped to the live brokers).
// It returns an error until the topic is in this broker's metadata; the
// client retries FindCoordinator meanwhile.
func (b *Broker) ensureOffsetsTopic() error {
	img := b.node.Image()
	if _, ok := img.Topic(offsetsTopic); ok {
		return nil
	}
	b.groupsMu.mu.Lock()
	defer b.groupsMu.mu.Unlock()
	segment := b.cfg.Raw["offsets.topic.segment.bytes"]
	if segment == "" {
		segment = "104857600"
	}
	configs := map[string]string{
		"cleanup.policy": "compact", "segment.bytes": segment, "compression.type": "uncompressed",
	}
	rf := min(int(b.cfg.OffsetsTopicReplicationFactor), len(img.LiveBrokers()))
	if err := b.requestTopic(offsetsTopic, b.cfg.OffsetsTopicNumPartitions, int16(max(rf, 1)), configs); err != nil {
		return fmt.Errorf("creating %s: %w", offsetsTopic, err)
	}
	if _, ok := b.node.Image().Topic(offsetsTopic); !ok {
		return fmt.Errorf("%s is being created", offsetsTopic)
	}
	return nil
}

// internalStorage is a coordinator's Storage (internaltopic.Storage)
// over the logs of its internal topic, __consumer_offsets or
// __transaction_state: a batch is validated and appended like a produced
// one, wakes fetches and is acknowledged once the ISR has it (acks=-1), so
// a failover keeps it. Only this broker's leader partitions serve; others
// get NOT_COORDINATOR. What an append error tells the coordinator differs
// by topic (appendErr).
type internalStorage struct {
	b     *Broker
	topic string
	// fromCoordinator appends as the coordinator (wlog.AppendOptions):
	// TxnOffsetCommit's transactional batches carry the producer's id but
	// no sequence.
	fromCoordinator bool
	// appendErr maps a failed log append to the coordinator's error.
	appendErr func(error) error
}

// offsetsStorage is group.Storage over the __consumer_offsets logs.
func offsetsStorage(b *Broker) internalStorage {
	return internalStorage{b: b, topic: offsetsTopic, fromCoordinator: true, appendErr: offsetsAppendErr}
}

func offsetsAppendErr(err error) error {
	switch {
	case errors.Is(err, wlog.ErrMessageTooLarge):
		return fmt.Errorf("%w: %w", kerr.InvalidCommitOffsetSize, err)
	case errors.Is(err, wlog.ErrInvalidProducerEpoch):
		// A TxnOffsetCommit of a fenced (zombie) producer.
		return fmt.Errorf("%w: %w", kerr.ProducerFenced, err)
	case errors.Is(err, wlog.ErrClosed):
		return fmt.Errorf("%w: %w", kerr.NotCoordinator, err)
	}
	return err
}

func (s internalStorage) partition(p int32) (*partition, error) {
	part := s.b.lookup(s.topic, p)
	if part == nil || !part.isLeader() {
		return nil, kerr.NotCoordinator
	}
	return part, nil
}

// offsetsCommitTimeout is offsets.commit.timeout.ms: how long a commit
// (or a __transaction_state write) waits for its partition's ISR.
const offsetsCommitTimeout = 5 * time.Second

func (s internalStorage) Append(p int32, batch []byte) error {
	part, err := s.partition(p)
	if err != nil {
		return err
	}
	hdrs, err := wlog.ValidateBatches(batch, int(part.settings().MaxMessageBytes))
	var info wlog.AppendInfo
	if err == nil {
		info, err = part.log.Append(batch, hdrs, wlog.AppendOptions{LeaderEpoch: part.leaderEpoch(), Now: s.b.now(), FromCoordinator: s.fromCoordinator})
	}
	if err != nil {
		return s.appendErr(err)
	}
	part.appended() // advances the high watermark and wakes fetches
	return s.b.awaitHighWatermark(part, info.LastOffset+1, offsetsCommitTimeout)
}

func (s internalStorage) Bounds(p int32) (int64, int64, error) {
	part, err := s.partition(p)
	if err != nil {
		return 0, 0, err
	}
	// Loading reads to the log end, as Kafka does: a new leader's high
	// watermark may trail commits its predecessor already acknowledged.
	return part.log.LogStartOffset(), part.log.LogEndOffset(), nil
}

func (s internalStorage) Read(p int32, offset int64) ([]byte, error) {
	part, err := s.partition(p)
	if err != nil {
		return nil, err
	}
	return part.log.Read(offset, 1<<20, math.MaxInt64, true)
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
