package server

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/metrics"
	"github.com/weirhq/weir/broker/msgset"
	"github.com/weirhq/weir/broker/protocol"
	"github.com/weirhq/weir/broker/quorum"
	"github.com/weirhq/weir/broker/replication"
)

// Fetch, versions 0–17.
//
// v0–v3 are answered in the old message formats, as Kafka 3.9 answers
// them: stored v2 batches are down-converted (broker/msgset) to magic 0
// for v0–v1 and magic 1 for v2–v3, records before the fetch offset and
// control batches left out, and counted as conversions. A topic with
// message.downconversion.enable=false answers such a fetch from a
// consumer with UNSUPPORTED_VERSION; zstd batches, which the old formats
// cannot carry, with UNSUPPORTED_COMPRESSION_TYPE. v1 adds the throttle
// time, v3 the request's MaxBytes. As in Kafka, versions up to 5 get
// NOT_LEADER_OR_FOLLOWER instead of KAFKA_STORAGE_ERROR, which they
// predate.
//
// v4 adds isolation level and the last stable offset (v2 batches); v5 the
// log start offset; v7 fetch sessions (KIP-227); v9 CurrentLeaderEpoch
// (KIP-320); v11 rack-aware fetching (KIP-392: PreferredReadReplica, always
// -1 here); v12 is flexible; v13 names topics by id (KIP-516); v15 moves the
// replica id into ReplicaState; v16 adds KIP-951 leader hints; v17 a replica's directory id (KIP-853, a
// tagged field, ignored).
//
// Fetch sessions are declined: every response carries SessionID 0, which
// tells the client to keep sending full fetch requests (the protocol's
// documented fallback). As in Kafka (FetchMetadata.isFull), a request is a
// full fetch when its SessionEpoch is 0 (INITIAL) or -1 (FINAL), whatever
// SessionID it names (Kafka would close that session; segmentio/kafka-go's
// Client.Fetch sends -1/-1); an incremental one (any other epoch) names a
// session this broker never created and gets FETCH_SESSION_ID_NOT_FOUND.
//
// A fetch with a replica id (ReplicaID before v15, ReplicaState from v15)
// is a follower replicating: it reads up to the log end offset rather than
// the high watermark, and its fetch offset is its log end offset, which the
// leader records to advance the high watermark and manage the ISR.
// Consumers and followers alike get NOT_LEADER_OR_FOLLOWER from a broker
// that does not lead the partition.
//
// MinBytes/MaxWait is a real long poll: when the first pass returns fewer
// than MinBytes, the request parks on every partition it names and is woken
// by the next append to any of them, by MaxWait, or by shutdown. Without
// transactions the last stable offset equals the high watermark, so both
// isolation levels read up to it.

func (b *Broker) handleFetch(r *kmsg.FetchRequest, files *fetchFiles) kmsg.Response {
	resp := r.ResponseKind().(*kmsg.FetchResponse)
	if r.SessionEpoch != 0 && r.SessionEpoch != -1 {
		resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
		return resp
	}
	maxWait := time.Duration(r.MaxWaitMillis) * time.Millisecond
	deadline := time.Now().Add(maxWait) // a real wait (a timer): the wall clock
	parts := b.resolveFetch(r)
	w := make(chan struct{}, 1)
	registered := false
	var parkedFor time.Duration // the whole long poll, recorded once
	defer func() {
		if parkedFor > 0 {
			b.metrics.Parked("Fetch", fetchKind(r), parkedFor)
		}
		if registered {
			for _, fp := range parts {
				if fp.p != nil {
					fp.p.unwatch(w)
				}
			}
		}
	}()
	for {
		if !registered && maxWait > 0 {
			// Register before reading, so an append between the read and
			// the wait is not missed.
			follower := replicaID(r) >= 0
			for _, fp := range parts {
				switch {
				case fp.p == nil:
				case follower:
					fp.p.watchAppends(w)
				default:
					fp.p.watch(w)
				}
			}
			registered = true
		}
		resp.Topics = resp.Topics[:0]
		files.release() // a previous pass's
		n, hasErr := b.fetchOnce(r, parts, resp, files)
		remaining := time.Until(deadline)
		if n >= int(r.MinBytes) || hasErr || remaining <= 0 || b.ctx.Err() != nil {
			b.countFetchBytes(resp, replicaID(r) >= 0, files)
			b.hintFetch(resp)
			return resp
		}
		t := time.NewTimer(remaining)
		parked := time.Now() // wall latency, for the metric
		replication.Trace("park", "", -1, 0, 0, replicaID(r))
		b.metrics.Purgatory(metrics.PurgatoryFetch, 1)
		select {
		case <-w:
		case <-t.C:
		case <-b.ctx.Done():
		}
		t.Stop()
		b.metrics.Purgatory(metrics.PurgatoryFetch, -1)
		replication.Trace("wake", "", -1, 0, 0, replicaID(r))
		parkedFor += time.Since(parked)
	}
}

type fetchPartition struct {
	topic   string
	id      quorum.TopicID
	p       *partition
	missing bool
}

// resolveFetch looks up every requested partition once.
func (b *Broker) resolveFetch(r *kmsg.FetchRequest) []fetchPartition {
	var out []fetchPartition
	for _, rt := range r.Topics {
		for _, rp := range rt.Partitions {
			fp := fetchPartition{topic: rt.Topic, id: rt.TopicID}
			if r.Version >= 13 {
				fp.p = b.lookupID(rt.TopicID, rp.Partition)
			} else {
				fp.p = b.lookup(rt.Topic, rp.Partition)
			}
			fp.missing = fp.p == nil
			out = append(out, fp)
		}
	}
	return out
}

// fetchOnce reads every partition once into resp; it returns the record
// bytes gathered and whether any partition has an error (which ends a long
// poll at once, as in Kafka).
func (b *Broker) fetchOnce(r *kmsg.FetchRequest, parts []fetchPartition, resp *kmsg.FetchResponse, files *fetchFiles) (int, bool) {
	budget := math.MaxInt32
	if r.Version >= 3 && r.MaxBytes > 0 {
		budget = int(r.MaxBytes)
	}
	total, hasErr, i := 0, false, 0
	for _, rt := range r.Topics {
		st := kmsg.NewFetchResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		for _, rp := range rt.Partitions {
			fp := parts[i]
			i++
			sp := b.fetchPartition(r, rp, fp, budget-total, total == 0, files)
			if sp.ErrorCode != 0 {
				hasErr = true
			}
			total += files.size(sp.RecordBatches)
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return total, hasErr
}

// replicaID is the fetching follower's broker id, or -1 for a consumer.
func replicaID(r *kmsg.FetchRequest) int32 {
	if r.Version >= 15 {
		return r.ReplicaState.ID
	}
	return r.ReplicaID
}

func (b *Broker) fetchPartition(r *kmsg.FetchRequest, rp kmsg.FetchRequestTopicPartition, fp fetchPartition, budget int, first bool, files *fetchFiles) kmsg.FetchResponseTopicPartition {
	sp := kmsg.NewFetchResponseTopicPartition()
	sp.Partition = rp.Partition
	// Never a null record set: librdkafka treats a negative size as a
	// parse failure, even on an error or an empty read.
	sp.RecordBatches = []byte{}
	sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = -1, -1, -1
	sp.PreferredReadReplica = -1
	if fp.p == nil {
		// As produce: a partition that exists but is not hosted here is
		// NOT_LEADER_OR_FOLLOWER (with a leader hint), so the client
		// refreshes its metadata instead of giving the partition up.
		name := fp.topic
		if r.Version >= 13 {
			t := b.topicByID(fp.id)
			if t == nil {
				sp.ErrorCode = kerr.UnknownTopicID.Code
				return sp
			}
			name = t.name
		}
		sp.ErrorCode = b.notHostedCode(name, rp.Partition)
		return sp
	}
	p := fp.p
	if code := epochCode(rp.CurrentLeaderEpoch, p.leaderEpoch()); code != 0 {
		sp.ErrorCode = code
		return sp
	}
	if !p.isLeader() {
		sp.ErrorCode = kerr.NotLeaderForPartition.Code
		return sp
	}
	follower := replicaID(r)
	readTo := p.highWatermark()
	now := b.now()
	if follower >= 0 {
		p.followerFetched(follower, rp.FetchOffset, now)
		readTo = math.MaxInt64
		if b.repl.LeaderHolds(p, follower, now) {
			sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = p.highWatermark(), p.highWatermark(), p.log.LogStartOffset()
			return sp
		}
	}
	hw := p.highWatermark()
	lso := p.log.LastStableOffset(hw)
	sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = hw, lso, p.log.LogStartOffset()
	readCommitted := r.IsolationLevel == 1 && follower < 0 && r.Version >= 4
	if readCommitted {
		// read_committed stops at the last stable offset.
		readTo = lso
		sp.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
	}
	max := int(rp.PartitionMaxBytes)
	if budget < max {
		max = budget
	}
	if max <= 0 && !first {
		return sp
	}
	if r.Version <= 3 && follower < 0 && !p.settings().MessageDownconversion {
		sp.ErrorCode = kerr.UnsupportedVersion.Code
		return sp
	}
	downConvert := r.Version <= 3 && follower < 0
	var data []byte
	var sl *wlog.FileSlice
	err := wlog.ErrNoSlice
	if files != nil && !downConvert {
		sl, err = p.log.ReadSlice(rp.FetchOffset, max, readTo, first)
	}
	if errors.Is(err, wlog.ErrNoSlice) {
		data, err = p.log.Read(rp.FetchOffset, max, readTo, first)
	}
	if err == nil && downConvert && len(data) > 0 {
		data, err = b.downConvert(p.name(), data, r.Version, rp.FetchOffset)
	}
	n := len(data)
	if sl != nil {
		n = sl.Len()
	}
	if err != nil {
		sp.ErrorCode = logErrorCode(err)
		if errors.Is(err, msgset.ErrCorrupt) || errors.Is(err, msgset.ErrUnsupportedCodec) {
			sp.ErrorCode = legacyErrorCode(err)
		}
		if sp.ErrorCode == kerr.KafkaStorageError.Code && r.Version <= 5 {
			sp.ErrorCode = kerr.NotLeaderForPartition.Code
		}
		b.metrics.FailedFetch.WithLabelValues(p.name()).Inc()
		return sp
	}
	if readCommitted && n > 0 {
		// The aborted transactions the client must drop from what it
		// reads: those overlapping [fetch offset, LSO).
		for _, a := range p.log.AbortedTransactions(rp.FetchOffset, lso) {
			at := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
			at.ProducerID, at.FirstOffset = a.ProducerID, a.FirstOffset
			sp.AbortedTransactions = append(sp.AbortedTransactions, at)
		}
	}
	if sl != nil {
		sp.RecordBatches = files.add(sl)
	} else if data != nil {
		sp.RecordBatches = data
	}
	if sl != nil || data != nil {
		if follower >= 0 {
			b.repl.LeaderSent(p, follower, n, now)
			replication.Trace("fetch_out", p.name(), rp.Partition, rp.FetchOffset, p.log.LogEndOffset(), follower)
		} else {
			replication.Trace("cfetch_out", p.name(), rp.Partition, rp.FetchOffset, readTo, -1)
		}
	}
	return sp
}

// downConvert turns stored batches into a message set of the format a
// Fetch of version v reads: magic 0 for v0–v1, magic 1 for v2–v3.
func (b *Broker) downConvert(topic string, data []byte, v int16, from int64) ([]byte, error) {
	magic := msgset.MagicV1
	if v <= 1 {
		magic = msgset.MagicV0
	}
	start := time.Now()
	set, n, err := msgset.Down(data, magic, from, legacyDecompressor)
	if err != nil {
		return nil, fmt.Errorf("down-converting %s from offset %d to magic %d: %w", topic, from, magic, err)
	}
	b.metrics.Conversions.Fetch(topic, n, time.Since(start))
	return set, nil
}

// countFetchBytes counts a fetch's record bytes: a consumer's as bytes out
// of their topic, a follower's as replication bytes out (Kafka counts them
// apart: BytesOutPerSec is what clients read).
func (b *Broker) countFetchBytes(resp *kmsg.FetchResponse, follower bool, files *fetchFiles) {
	for _, t := range resp.Topics {
		name := t.Topic
		if name == "" {
			if tp := b.topicByID(t.TopicID); tp != nil {
				name = tp.name
			}
		}
		if name == "" {
			continue
		}
		b.metrics.TotalFetchRequests.WithLabelValues(name).Inc()
		n := 0
		for _, p := range t.Partitions {
			n += files.size(p.RecordBatches)
			if p.ErrorCode != 0 {
				b.metrics.Errors.WithLabelValues("Fetch", errName(p.ErrorCode)).Inc()
			}
		}
		switch {
		case n > 0 && follower:
			b.metrics.ReplicationBytesOut.Add(float64(n))
		case n > 0:
			b.metrics.BytesOut.WithLabelValues(name).Add(float64(n))
		}
	}
}

// fetchFiles holds the record sets of the Fetch response a plaintext TCP
// connection is answering that stay in their segment files (zero copy,
// issue 14): the response carries protocol.FileMarker(i) for slices[i],
// and protocol.WriteFetch sends them with sendfile(2). TLS connections,
// and answers down-converted for Fetch v0–v3 consumers, read into memory
// instead (Log.Read). Each slice pins its segment file until release,
// which the connection calls once the response is written (or dropped).
// A nil *fetchFiles is the in-memory path.
type fetchFiles struct {
	slices []*wlog.FileSlice
}

// add keeps sl and returns the marker that stands for it.
func (f *fetchFiles) add(sl *wlog.FileSlice) []byte {
	f.slices = append(f.slices, sl)
	return protocol.FileMarker(len(f.slices) - 1)
}

// size is the number of record bytes b stands for.
func (f *fetchFiles) size(b []byte) int {
	if f != nil {
		if i, ok := protocol.FileMarkerIndex(b); ok && i < len(f.slices) {
			return f.slices[i].Len()
		}
	}
	return len(b)
}

// records returns the slices as WriteFetch takes them.
func (f *fetchFiles) records() []protocol.FileRecords {
	out := make([]protocol.FileRecords, len(f.slices))
	for i, sl := range f.slices {
		out[i] = sl
	}
	return out
}

// release unpins every slice.
func (f *fetchFiles) release() {
	if f == nil {
		return
	}
	for _, sl := range f.slices {
		sl.Release()
	}
	clear(f.slices)
	f.slices = f.slices[:0]
}
