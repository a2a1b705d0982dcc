package server

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/weirhq/weir/broker/config"
	"github.com/weirhq/weir/broker/log/codec"
	"github.com/weirhq/weir/broker/msgset"
	"github.com/weirhq/weir/broker/replication"

	wlog "github.com/weirhq/weir/broker/log"
)

// Produce, versions 0–12. v12 (advertised with transaction.version 2)
// differs only in that the leader adds a transactional batch's partition
// to its transaction (verifyTxnProduce, transactions.go).
//
// v0–v2 carry message sets (message format v0/v1; v1 adds timestamps, v2
// the LogAppendTime in the answer), which are up-converted to one v2 batch
// per partition before the checks below, as Kafka 3.9's LogValidator
// does (broker/msgset), and counted as conversions (records, and time in
// MessageConversionsTimeMs). As in Kafka, a v0–v2 request that carries a
// v2 batch is taken as it is. A message set that does not parse or fails
// its CRC is CORRUPT_MESSAGE; zstd, which v0/v1 never had,
// UNSUPPORTED_COMPRESSION_TYPE.
//
// v3 is the first version carrying v2 record batches (the only format
// stored), exactly one per partition, and zstd only from v7
// (ProduceRequest.validateRecords); v8 adds per-record errors and an
// error message; v9 is flexible.
// v10 adds KIP-951 leader hints as tagged fields, which only matter with
// replication (set there with NOT_LEADER_OR_FOLLOWER). v11 is v10's body
// (it lets the broker answer KIP-890's TRANSACTION_ABORTABLE, never sent
// here).
//
// Batches are validated (magic, length, CRC-32C) and appended as received:
// only baseOffset and partitionLeaderEpoch are patched. acks=0 gets no
// response, and a failed acks=0 produce closes the connection (as Kafka
// does: it is the only way such a client learns to refresh its metadata);
// acks=1 and acks=all complete once the batch is in the log, which on a
// single broker is the whole ISR.
//
// CreateTime timestamps are checked against message.timestamp.before.max.ms
// and message.timestamp.after.max.ms (KIP-937; the deprecated
// message.timestamp.difference.max.ms bounds both when it is lower), at
// batch granularity: the batch's base timestamp against the lower bound,
// its max timestamp against the upper. Out of range is INVALID_TIMESTAMP.

func (b *Broker) handleProduce(r *kmsg.ProduceRequest) (kmsg.Response, error) {
	resp := r.ResponseKind().(*kmsg.ProduceResponse)
	acksOK := r.Acks == 0 || r.Acks == 1 || r.Acks == -1
	var waits []pendingAck
	var appended []*partition
	for _, rt := range r.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			switch {
			case !acksOK:
				sp.ErrorCode = kerr.InvalidRequiredAcks.Code
			case r.Version < 3 && !b.upConvert(rt.Topic, &rp, &sp):
			case r.Version >= 3 && !b.oneV2Batch(r.Version, rt.Topic, rp.Records, &sp):
			case r.TransactionID != nil && !b.verifyTxnProduce(*r.TransactionID, rt.Topic, r.Version, rp, &sp):
			default:
				if p, target := b.produceTo(rt.Topic, rp, &sp, r.Acks == -1, &appended); p != nil {
					waits = append(waits, pendingAck{p: p, target: target, topic: len(resp.Topics), part: len(st.Partitions)})
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	// Parked fetches are woken once the whole request is in the logs (and
	// the high watermarks moved), as Kafka completes delayed fetches after
	// a produce's appends: a follower's fetch then takes every partition
	// the request wrote in one round instead of returning with the first.
	for _, p := range appended {
		p.rep.RecordAppend()
	}
	for _, p := range appended {
		p.rep.WakeAll()
	}
	if r.Acks == 0 {
		return nil, acks0Failure(resp)
	}
	if len(waits) > 0 {
		b.awaitISR(resp, waits, time.Duration(r.TimeoutMillis)*time.Millisecond)
	}
	b.hintProduce(resp)
	return resp, nil
}

// legacyDecompressor unpacks the compressed message sets of Produce v0–v2
// and the stored batches Fetch v0–v3 down-converts; its limit bounds what
// one compressed wrapper or batch may expand to.
var legacyDecompressor = codec.NewDecompressor(256 << 20)

// upConvert turns one partition's message set (format v0/v1) into a v2
// batch in place; on failure it fills in the partition's error.
func (b *Broker) upConvert(topic string, rp *kmsg.ProduceRequestTopicPartition, sp *kmsg.ProduceResponseTopicPartition) bool {
	if msgset.Magic(rp.Records) == msgset.MagicV2 {
		return true
	}
	start := time.Now()
	batch, n, err := msgset.Up(rp.Records, legacyDecompressor)
	if err != nil {
		sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = -1, -1, -1
		sp.ErrorCode = legacyErrorCode(err)
		b.metrics.FailedProduce.WithLabelValues(topic).Inc()
		b.metrics.BytesRejected.WithLabelValues(topic).Add(float64(len(rp.Records)))
		b.metrics.Errors.WithLabelValues("Produce", errName(sp.ErrorCode)).Inc()
		return false
	}
	b.metrics.Conversions.Produce(topic, n, time.Since(start))
	rp.Records = batch
	return true
}

// oneV2Batch applies Kafka's ProduceRequest.validateRecords to a v3+
// partition before anything else: exactly one batch, of magic 2
// (INVALID_RECORD otherwise), and zstd only from v7, which introduced it
// (UNSUPPORTED_COMPRESSION_TYPE).
func (b *Broker) oneV2Batch(version int16, topic string, records []byte, sp *kmsg.ProduceResponseTopicPartition) bool {
	code := int16(0)
	h, err := wlog.ParseBatchHeader(records)
	switch {
	case msgset.Magic(records) != msgset.MagicV2:
		code = kerr.InvalidRecord.Code
	case err != nil:
		return true // too short to be a batch: ValidateBatches says CORRUPT_MESSAGE
	case version < 7 && h.Compression() == codec.Zstd:
		code = kerr.UnsupportedCompressionType.Code
	case len(records) > h.TotalSize():
		code = kerr.InvalidRecord.Code
	default:
		return true
	}
	sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = -1, -1, -1
	sp.ErrorCode = code
	b.metrics.Errors.WithLabelValues("Produce", errName(code)).Inc()
	b.metrics.BytesRejected.WithLabelValues(topic).Add(float64(len(records)))
	return false
}

// pendingAck is an acks=all append waiting for the ISR: the response
// partition at resp.Topics[topic].Partitions[part] completes when the high
// watermark reaches target.
type pendingAck struct {
	p           *partition
	target      int64
	topic, part int
}

// awaitISR parks until every pending append is replicated to the ISR (the
// high watermark passes it), as Kafka's delayed produce does, or the
// request's timeout passes (REQUEST_TIMED_OUT). An append whose ISR fell
// below min.insync.replicas by then gets NOT_ENOUGH_REPLICAS_AFTER_APPEND.
func (b *Broker) awaitISR(resp *kmsg.ProduceResponse, waits []pendingAck, timeout time.Duration) {
	w := make(chan struct{}, 1)
	for _, pa := range waits {
		pa.p.addWaiter(w)
		defer pa.p.removeWaiter(w)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		open := waits[:0]
		for _, pa := range waits {
			sp := &resp.Topics[pa.topic].Partitions[pa.part]
			switch {
			case !pa.p.isLeader():
				sp.ErrorCode = kerr.NotLeaderForPartition.Code
			case pa.p.highWatermark() >= pa.target:
				replication.Trace("acked", pa.p.name(), resp.Topics[pa.topic].Partitions[pa.part].Partition, pa.target, 0, -1)
				if isr, _ := pa.p.isrState(); isr < int(pa.p.settings().MinInsyncReplicas) {
					sp.ErrorCode = kerr.NotEnoughReplicasAfterAppend.Code
				}
			default:
				open = append(open, pa)
			}
		}
		waits = open
		if len(waits) == 0 {
			return
		}
		select {
		case <-w:
			continue
		case <-t.C:
		case <-b.ctx.Done():
		}
		for _, pa := range waits {
			resp.Topics[pa.topic].Partitions[pa.part].ErrorCode = kerr.RequestTimedOut.Code
		}
		return
	}
}

// acks0Failure returns an error naming the first failed partition of an
// acks=0 produce: the connection is then closed.
func acks0Failure(resp *kmsg.ProduceResponse) error {
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				return fmt.Errorf("acks=0 produce to %s-%d failed with %s: closing the connection so the client refreshes its metadata", t.Topic, p.Partition, errName(p.ErrorCode))
			}
		}
	}
	return nil
}

// produceTo appends one partition's batches and adds the partition to
// appended (the caller wakes its waiters). For acks=all it returns the
// partition and the offset the high watermark must reach before the
// append may be acknowledged.
func (b *Broker) produceTo(topicName string, rp kmsg.ProduceRequestTopicPartition, sp *kmsg.ProduceResponseTopicPartition, acksAll bool, appended *[]*partition) (*partition, int64) {
	sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = -1, -1, -1
	m := b.metrics
	p := b.lookup(topicName, rp.Partition)
	if p == nil {
		sp.ErrorCode = b.notHostedCode(topicName, rp.Partition)
		return nil, 0
	}
	tm := m.Topic(topicName)
	tm.TotalProduceRequests.Inc()
	replication.Trace("produce_in", topicName, rp.Partition, 0, 0, -1)
	if !p.isLeader() {
		sp.ErrorCode = kerr.NotLeaderForPartition.Code
		return nil, 0
	}
	ts := p.settings()
	if isr, _ := p.isrState(); acksAll && isr < int(ts.MinInsyncReplicas) {
		sp.ErrorCode = kerr.NotEnoughReplicas.Code
		sp.ErrorMessage = strPtr(fmt.Sprintf("the in-sync replicas (%d) are fewer than min.insync.replicas (%d)", isr, ts.MinInsyncReplicas))
		m.FailedProduce.WithLabelValues(topicName).Inc()
		return nil, 0
	}
	hdrs, err := wlog.ValidateBatches(rp.Records, int(ts.MaxMessageBytes))
	if err == nil {
		err = rejectTransactional(hdrs)
	}
	if err == nil && !ts.LogAppendTime {
		err = checkTimestamps(hdrs, ts, b.now())
	}
	if err == nil && ts.Compact {
		err = checkKeys(rp.Records, hdrs, topicName, rp.Partition)
	}
	var info wlog.AppendInfo
	if err == nil {
		info, err = p.log.Append(rp.Records, hdrs, wlog.AppendOptions{
			LeaderEpoch: p.leaderEpoch(), LogAppendTime: ts.LogAppendTime, Now: b.now(),
			Admit: b.admitProduce(p),
		})
	}
	if err != nil {
		sp.ErrorCode = logErrorCode(err)
		sp.ErrorMessage = strPtr(err.Error())
		m.FailedProduce.WithLabelValues(topicName).Inc()
		m.BytesRejected.WithLabelValues(topicName).Add(float64(len(rp.Records)))
		m.Errors.WithLabelValues("Produce", errName(sp.ErrorCode)).Inc()
		if sp.ErrorCode == kerr.KafkaStorageError.Code && !storageFull(err) {
			b.logger.Error("append failed", "partition", topicName, "index", rp.Partition, "err", err)
		}
		return nil, 0
	}
	sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = info.FirstOffset, info.LogAppendTime, info.LogStartOffset
	if info.Duplicate {
		// A retry of an append already in the log: acknowledge it like the
		// original, once the ISR has it.
		return ackTarget(p, acksAll, info.LastOffset+1)
	}
	var n int64
	for _, h := range hdrs {
		n += int64(h.NumRecords)
	}
	tm.BytesIn.Add(float64(len(rp.Records)))
	tm.MessagesIn.Add(float64(n))
	*appended = append(*appended, p)
	return ackTarget(p, acksAll, info.LastOffset+1)
}

// notHostedCode is the error for a partition not hosted here: as Kafka's
// ReplicaManager answers, NOT_LEADER_OR_FOLLOWER when the partition exists
// (a reassignment just moved it away: the client's metadata is behind, and
// the leader hint says where to go), UNKNOWN_TOPIC_OR_PARTITION only when it
// does not. Clients give up on a partition after a few unknown answers
// (franz-go's UnknownTopicRetries), so answering unknown for a partition
// just moved away failed records of reassignments that removed a leader.
func (b *Broker) notHostedCode(topic string, part int32) int16 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if t := b.mu.topics[topic]; t != nil && part >= 0 && int(part) < len(t.partitions) {
		return kerr.NotLeaderForPartition.Code
	}
	return kerr.UnknownTopicOrPartition.Code
}

func ackTarget(p *partition, acksAll bool, target int64) (*partition, int64) {
	if !acksAll {
		return nil, 0
	}
	return p, target
}

// rejectTransactional refuses control batches from clients: markers are
// written only by WriteTxnMarkers, for the transaction coordinator.
func rejectTransactional(hdrs []wlog.BatchHeader) error {
	for _, h := range hdrs {
		if h.Control() {
			return errTransactional
		}
	}
	return nil
}

// checkTimestamps applies the CreateTime bounds to each batch.
func checkTimestamps(hdrs []wlog.BatchHeader, ts *config.TopicSettings, now time.Time) error {
	before, after := ts.MessageTimestampBeforeMaxMs, ts.MessageTimestampAfterMaxMs
	if d := ts.MessageTimestampDiffMaxMs; d < before {
		before = d
	}
	if d := ts.MessageTimestampDiffMaxMs; d < after {
		after = d
	}
	nowMs := now.UnixMilli()
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if before < never {
		lo = nowMs - before.Milliseconds()
	}
	if after < never {
		hi = nowMs + after.Milliseconds()
	}
	for _, h := range hdrs {
		if h.Control() || h.MaxTimestamp == msgset.NoTimestamp {
			continue // no timestamps (up-converted v0 messages): Kafka checks none
		}
		if h.BaseTimestamp < lo || h.MaxTimestamp > hi {
			bad := h.BaseTimestamp
			if h.MaxTimestamp > hi {
				bad = h.MaxTimestamp
			}
			return fmt.Errorf("%w: timestamp %d of the batch at offset %d is out of range; it should be within [%d, %d]", errInvalidTimestamp, bad, h.BaseOffset, lo, hi)
		}
	}
	return nil
}

// awaitHighWatermark parks until p's high watermark reaches target (the
// ISR has the append), p stops leading, or the timeout passes.
func (b *Broker) awaitHighWatermark(p *partition, target int64, timeout time.Duration) error {
	w := make(chan struct{}, 1)
	p.addWaiter(w)
	defer p.removeWaiter(w)
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		switch {
		case !p.isLeader():
			return kerr.NotCoordinator
		case p.highWatermark() >= target:
			return nil
		}
		select {
		case <-w:
		case <-t.C:
			return kerr.RequestTimedOut
		case <-b.ctx.Done():
			return kerr.RequestTimedOut
		}
	}
}

// checkKeys refuses keyless records on a compacted topic, as Kafka does:
// compaction keeps the latest value per key, so a record without one has
// no place there.
func checkKeys(records []byte, hdrs []wlog.BatchHeader, topic string, partition int32) error {
	pos := 0
	for _, h := range hdrs {
		b := records[pos : pos+h.TotalSize()]
		pos += h.TotalSize()
		if err := wlog.CheckKeys(b, h); errors.Is(err, wlog.ErrNoKey) {
			return fmt.Errorf("%w: Compacted topic cannot accept message without key in topic partition %s-%d", err, topic, partition)
		} else if err != nil {
			return err
		}
	}
	return nil
}
