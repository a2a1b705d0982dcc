package server

import (
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/protocol"
	"github.com/weirhq/weir/broker/quorum"
	"github.com/weirhq/weir/broker/txn"
)

// The transaction coordinator's wiring (docs/TRANSACTIONS.md):
// __transaction_state (created on first use, like __consumer_offsets), the
// txn.Storage over its partition logs, loading with leadership
// (reconcile.go), and the MarkerWriter that sends WriteTxnMarkers to the
// leaders of a transaction's partitions (or writes its own partitions'
// markers here).

const txnTopic = "__transaction_state"

// txnState is the broker's transaction wiring state.
type txnState struct {
	topicMu sync.Mutex // held while creating __transaction_state

	peersMu sync.Mutex
	peers   map[peerKey]*markerPeer // connections to other brokers, by use and broker id
	dialed  []*protocol.Peer        // every connection dialed, closed at shutdown
}

// peerKey names a connection: markers and KIP-890 verifications use
// separate ones, so a produce's verification never queues behind a marker
// request (which may wait seconds for its ISR).
type peerKey struct {
	verify bool
	id     int32
}

// markerPeer is one connection to another broker; a Peer serves one
// request at a time.
type markerPeer struct {
	mu   sync.Mutex
	peer *protocol.Peer
}

// rawInt reads an integer key the config keeps only raw.
func rawInt(raw map[string]string, key string, def int64) int64 {
	if v, err := strconv.ParseInt(raw[key], 10, 64); err == nil && v > 0 {
		return v
	}
	return def
}

func (b *Broker) txnPartitions() int32 {
	return int32(rawInt(b.cfg.Raw, "transaction.state.log.num.partitions", 50))
}

// newTxnCoordinator builds the transaction coordinator; like the group
// coordinator, the partitions it serves follow leadership.
func (b *Broker) newTxnCoordinator() *txn.Coordinator {
	cfg := txn.Config{
		Now: b.now, Logger: b.logger.With("component", "txn-coordinator"),
		NumPartitions:       b.txnPartitions(),
		OffsetsPartitions:   b.cfg.OffsetsTopicNumPartitions,
		MaxTimeout:          rawMs(b.cfg.Raw, "transaction.max.timeout.ms", 900000),
		AbortCheckInterval:  rawMs(b.cfg.Raw, "transaction.abort.timed.out.transaction.cleanup.interval.ms", 10000),
		IDExpiration:        b.cfg.TransactionalIDExpiration,
		ExpireCheckInterval: rawMs(b.cfg.Raw, "transaction.remove.expired.transaction.cleanup.interval.ms", 3600000),
		NewProducerID:       b.nextProducerID,
		FinalizedTransactionVersion: func() int16 {
			return b.node.Image().FeatureLevel(quorum.TransactionVersion)
		},
		PartitionExists: func(topic string, p int32) bool {
			_, ok := b.node.Image().Partition(topic, p)
			return ok
		},
	}
	return txn.New(cfg, txnStorage(b), markerWriter{b})
}

// ensureTxnTopic asks the controller for __transaction_state on first use:
// transaction.state.log.num.partitions partitions, replication factor
// transaction.state.log.replication.factor clamped to the live brokers,
// min.insync.replicas transaction.state.log.min.isr (at most the
// replication factor), compacted, uncompressed.
func (b *Broker) ensureTxnTopic() error {
	img := b.node.Image()
	if _, ok := img.Topic(txnTopic); ok {
		return nil
	}
	b.txnState.topicMu.Lock()
	defer b.txnState.topicMu.Unlock()
	rf := max(min(int(rawInt(b.cfg.Raw, "transaction.state.log.replication.factor", 3)), len(img.LiveBrokers())), 1)
	minISR := min(int(rawInt(b.cfg.Raw, "transaction.state.log.min.isr", 2)), rf)
	configs := map[string]string{
		"cleanup.policy": "compact", "compression.type": "uncompressed",
		"segment.bytes":       strconv.FormatInt(rawInt(b.cfg.Raw, "transaction.state.log.segment.bytes", 104857600), 10),
		"min.insync.replicas": strconv.Itoa(minISR),
	}
	if err := b.requestTopic(txnTopic, b.txnPartitions(), int16(rf), configs); err != nil {
		return fmt.Errorf("creating %s: %w", txnTopic, err)
	}
	if _, ok := b.node.Image().Topic(txnTopic); !ok {
		return fmt.Errorf("%s is being created", txnTopic)
	}
	return nil
}

// txnStorage is txn.Storage over the __transaction_state logs, acks=all
// (internalStorage, groups.go).
func txnStorage(b *Broker) internalStorage {
	return internalStorage{b: b, topic: txnTopic, appendErr: txnAppendErr}
}

func txnAppendErr(err error) error {
	if errors.Is(err, wlog.ErrMessageTooLarge) {
		return fmt.Errorf("%w: %w", kerr.UnknownServerError, err)
	}
	return fmt.Errorf("%w: %w", kerr.NotCoordinator, err)
}

// txnLeadershipChanged loads or unloads the transactional ids of a
// __transaction_state partition whose leadership moved; the coordinator
// epoch is the partition's leader epoch.
func (b *Broker) txnLeadershipChanged(p *partition, leader bool) {
	if b.txns == nil {
		return
	}
	if !leader {
		b.txns.UnloadPartition(p.index)
		return
	}
	b.txns.MarkLoading(p.index)
	idx, epoch := p.index, p.leaderEpoch()
	b.goroutine(func() {
		if err := b.txns.LoadPartition(idx, epoch); err != nil {
			b.logger.Error("loading transaction state failed; its ids get NOT_COORDINATOR", "partition", idx, "err", err)
		}
	})
}

// markerWriter is txn.MarkerWriter: each transaction's markers are sent
// on a tracked goroutine, grouped by partition leader; this broker's own
// partitions are written directly. Retries are the coordinator's.
type markerWriter struct{ b *Broker }

func (w markerWriter) WriteMarkers(m txn.Markers, done func(failed map[txn.TopicPartition]error)) {
	w.b.goroutine(func() { done(w.b.sendMarkers(m)) })
}

// errNoLeader is a marker's partition without a live leader.
var errNoLeader = errors.New("the partition has no live leader")

func (b *Broker) sendMarkers(m txn.Markers) map[txn.TopicPartition]error {
	failed := map[txn.TopicPartition]error{}
	byLeader := map[int32][]txn.TopicPartition{}
	img := b.node.Image()
	for _, tp := range m.Partitions {
		ip, ok := img.Partition(tp.Topic, tp.Partition)
		if !ok {
			failed[tp] = kerr.UnknownTopicOrPartition
			continue
		}
		if ip.Leader < 0 {
			failed[tp] = errNoLeader
			continue
		}
		byLeader[ip.Leader] = append(byLeader[ip.Leader], tp)
	}
	// Every leader's markers at once: each waits for its ISR, so one
	// after another they cost a replication round trip per leader.
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for leader, tps := range byLeader {
		wg.Add(1)
		b.goroutine(func() {
			defer wg.Done()
			f := b.sendLeaderMarkers(leader, m, tps)
			mu.Lock()
			defer mu.Unlock()
			maps.Copy(failed, f)
		})
	}
	wg.Wait()
	return failed
}

// sendLeaderMarkers writes m's markers to partitions tps, all led by
// leader: this broker's directly, another's with WriteTxnMarkers.
func (b *Broker) sendLeaderMarkers(leader int32, m txn.Markers, tps []txn.TopicPartition) map[txn.TopicPartition]error {
	if leader != b.cfg.NodeID {
		return b.sendRemoteMarkers(leader, m, tps)
	}
	failed := map[txn.TopicPartition]error{}
	ws := make([]markerWrite, len(tps))
	for i, tp := range tps {
		ws[i] = markerWrite{tp.Topic, tp.Partition, m.ProducerID, m.ProducerEpoch, m.Commit, m.CoordinatorEpoch}
	}
	for i, code := range b.writeTxnMarkers(ws) {
		if code != 0 {
			failed[tps[i]] = kerr.ErrorForCode(code)
		}
	}
	return failed
}

// sendRemoteMarkers sends WriteTxnMarkers v1 to another broker.
func (b *Broker) sendRemoteMarkers(leader int32, m txn.Markers, tps []txn.TopicPartition) map[txn.TopicPartition]error {
	failed := map[txn.TopicPartition]error{}
	failAll := func(err error) map[txn.TopicPartition]error {
		for _, tp := range tps {
			failed[tp] = err
		}
		return failed
	}
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	req.Version = 1
	mk := kmsg.NewWriteTxnMarkersRequestMarker()
	mk.ProducerID, mk.ProducerEpoch, mk.Committed, mk.CoordinatorEpoch = m.ProducerID, m.ProducerEpoch, m.Commit, m.CoordinatorEpoch
	byTopic := map[string]int{}
	for _, tp := range tps {
		i, ok := byTopic[tp.Topic]
		if !ok {
			i = len(mk.Topics)
			byTopic[tp.Topic] = i
			t := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
			t.Topic = tp.Topic
			mk.Topics = append(mk.Topics, t)
		}
		mk.Topics[i].Partitions = append(mk.Topics[i].Partitions, tp.Partition)
	}
	req.Markers = append(req.Markers, mk)

	mp := b.markerPeer(peerKey{id: leader})
	mp.mu.Lock()
	defer mp.mu.Unlock()
	if mp.peer == nil {
		addr, ok := b.peerAddr(leader)
		if !ok {
			return failAll(errNoLeader)
		}
		p, err := protocol.DialPeerWith(b.ctx, b.peerDial, addr, "weir-txn-markers-"+strconv.Itoa(int(b.cfg.NodeID)))
		if err != nil {
			return failAll(err)
		}
		mp.peer = p
		b.txnState.peersMu.Lock()
		b.txnState.dialed = append(b.txnState.dialed, p)
		b.txnState.peersMu.Unlock()
	}
	raw, err := mp.peer.Request(req, 10*time.Second)
	if err != nil {
		mp.peer.Close()
		mp.peer = nil
		return failAll(err)
	}
	resp := raw.(*kmsg.WriteTxnMarkersResponse)
	answered := map[txn.TopicPartition]bool{}
	for _, rm := range resp.Markers {
		for _, rt := range rm.Topics {
			for _, rp := range rt.Partitions {
				tp := txn.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}
				answered[tp] = true
				if rp.ErrorCode != 0 {
					failed[tp] = kerr.ErrorForCode(rp.ErrorCode)
				}
			}
		}
	}
	for _, tp := range tps {
		if !answered[tp] {
			failed[tp] = kerr.UnknownServerError
		}
	}
	return failed
}

func (b *Broker) markerPeer(k peerKey) *markerPeer {
	b.txnState.peersMu.Lock()
	defer b.txnState.peersMu.Unlock()
	if b.txnState.peers == nil {
		b.txnState.peers = map[peerKey]*markerPeer{}
	}
	mp := b.txnState.peers[k]
	if mp == nil {
		mp = &markerPeer{}
		b.txnState.peers[k] = mp
	}
	return mp
}

// closeMarkerPeers closes the marker connections at shutdown, so a send
// under way returns at once (closing a connection is safe while it is in
// use; its sender then sees an error).
func (b *Broker) closeMarkerPeers() {
	b.txnState.peersMu.Lock()
	dialed := b.txnState.dialed
	b.txnState.dialed = nil
	b.txnState.peersMu.Unlock()
	for _, p := range dialed {
		p.Close()
	}
}

// concurrentTxnHold bounds how long a request the coordinator answers
// CONCURRENT_TRANSACTIONS (the id's previous transaction still writing
// its markers) is held for them before that answer goes out. Kafka
// answers at once and the client retries after a backoff (franz-go's and
// the Java producer's: 20 ms), which cost every back-to-back transaction
// that wait, while its markers take a few milliseconds; held, the request
// is answered as soon as they are written. A connection serves one
// request at a time, so the hold stays short: a broker's KIP-890
// verifications of other ids share its connection to the coordinator.
// A variable only so that a test can lengthen it.
var concurrentTxnHold = 100 * time.Millisecond

// awaitMarkers waits until the markers of id's Prepare state are settled
// (txn.Coordinator.MarkersSettled) and reports whether asking again may
// now get another answer: false when there is nothing to wait for, at
// the deadline, or at shutdown.
func (b *Broker) awaitMarkers(id string, deadline time.Time) bool {
	ch := b.txns.MarkersSettled(id)
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	default:
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	case <-b.ctx.Done():
		return false
	}
}

// markerTimeout bounds the wait for a marker to reach the ISR.
const markerTimeout = 5 * time.Second

// markerWrite is one marker for writeTxnMarkers.
type markerWrite struct {
	topic     string
	partition int32
	pid       int64
	epoch     int16
	commit    bool
	coord     int32
}

// writeTxnMarkers appends markers to partitions this broker leads, then
// waits for the ISR to have each (all appended first, so the waits
// overlap), and for __consumer_offsets tells the group coordinator to
// commit or drop the producer's pending offsets. It returns each marker's
// error code.
func (b *Broker) writeTxnMarkers(ms []markerWrite) []int16 {
	codes := make([]int16, len(ms))
	parts := make([]*partition, len(ms))
	offs := make([]int64, len(ms))
	for i, m := range ms {
		p := b.lookup(m.topic, m.partition)
		if p == nil {
			codes[i] = b.notHostedCode(m.topic, m.partition)
			continue
		}
		if !p.isLeader() {
			codes[i] = kerr.NotLeaderForPartition.Code
			continue
		}
		off, err := p.log.AppendMarker(m.pid, m.epoch, wlog.Marker{Commit: m.commit, CoordinatorEpoch: m.coord},
			wlog.AppendOptions{LeaderEpoch: p.leaderEpoch(), Now: b.now()})
		switch {
		case errors.Is(err, wlog.ErrTransactionCoordinatorFenced):
			codes[i] = kerr.TransactionCoordinatorFenced.Code
		case errors.Is(err, wlog.ErrInvalidProducerEpoch):
			codes[i] = kerr.InvalidProducerEpoch.Code
		case err != nil:
			b.logger.Warn("writing a transaction marker failed", "topic", m.topic, "partition", m.partition, "err", err)
			codes[i] = logErrorCode(err)
		default:
			p.appended()
			parts[i], offs[i] = p, off
		}
	}
	for i, p := range parts {
		if p == nil {
			continue
		}
		if err := b.awaitHighWatermark(p, offs[i]+1, markerTimeout); err != nil {
			codes[i] = kerr.RequestTimedOut.Code
			if errors.Is(err, kerr.NotCoordinator) {
				codes[i] = kerr.NotLeaderForPartition.Code
			}
			continue
		}
		if m := ms[i]; m.topic == offsetsTopic && b.groups != nil {
			b.groups.CompleteTxn(m.partition, m.pid, m.commit)
		}
	}
	return codes
}

// verifyTxnProduce is KIP-890 on the partition leader: before the first
// transactional batch of a producer's transaction in a partition (for
// v12, at its epoch), ask the coordinator (directly when it is this broker). Part
// 1, Produce v0–v11: whether the partition was added to the transaction
// (AddPartitionsToTxn v4 VerifyOnly); a partition not in it is
// INVALID_TXN_STATE (the client aborts). Part 2, Produce v12 (transaction
// version 2, whose clients send no AddPartitionsToTxn): add it
// (AddPartitionsToTxn v5 from the broker). A coordinator that cannot
// answer, or one still completing the previous transaction
// (CONCURRENT_TRANSACTIONS), is NOT_ENOUGH_REPLICAS, which clients retry,
// as Kafka maps it. It returns false with sp's error set.
func (b *Broker) verifyTxnProduce(id, topic string, version int16, rp kmsg.ProduceRequestTopicPartition, sp *kmsg.ProduceResponseTopicPartition) bool {
	h, err := wlog.ParseBatchHeader(rp.Records)
	if err != nil || !h.Transactional() || h.ProducerID < 0 {
		return true // not transactional, or bad: the append's checks answer
	}
	add := version >= 12
	p := b.lookup(topic, rp.Partition)
	if p == nil || p.log.InTransaction(h.ProducerID) && (!add || sameEpoch(p.log, h.ProducerID, h.ProducerEpoch)) {
		return true
	}
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version = 4
	if add {
		req.Version = 5
	}
	tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
	tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, tx.VerifyOnly = id, h.ProducerID, h.ProducerEpoch, !add
	rt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
	rt.Topic, rt.Partitions = topic, []int32{rp.Partition}
	tx.Topics = append(tx.Topics, rt)
	req.Transactions = append(req.Transactions, tx)

	code := b.askTxnCoordinator(id, req)
	if add {
		code = b.retryConcurrentAdd(id, req, code)
	}
	switch code {
	case 0:
		return true
	case kerr.InvalidTxnState.Code, kerr.InvalidProducerEpoch.Code, kerr.ProducerFenced.Code, kerr.InvalidProducerIDMapping.Code:
		if code == kerr.ProducerFenced.Code || code == kerr.InvalidProducerIDMapping.Code {
			code = kerr.InvalidProducerEpoch.Code
		}
		if code == kerr.InvalidProducerEpoch.Code {
			sp.ErrorCode = code
		} else {
			sp.ErrorCode = kerr.InvalidTxnState.Code
		}
		sp.ErrorMessage = strPtr("the partition is not in the producer's transaction")
	default:
		sp.ErrorCode = kerr.NotEnoughReplicas.Code
		sp.ErrorMessage = strPtr("the transaction coordinator could not verify the transaction: " + kerr.ErrorForCode(code).Error())
	}
	b.metrics.Errors.WithLabelValues("Produce", errName(sp.ErrorCode)).Inc()
	return false
}

// retryConcurrentAdd asks again while the coordinator answers
// CONCURRENT_TRANSACTIONS (the previous transaction's markers are still
// being written), every add.partitions.to.txn.retry.backoff.ms (20) for
// at most add.partitions.to.txn.retry.backoff.max.ms (100), as Kafka's
// broker retries a TV2 produce's add before answering the client, whose
// own retry backs off far longer.
func (b *Broker) retryConcurrentAdd(id string, req *kmsg.AddPartitionsToTxnRequest, code int16) int16 {
	backoff := rawMs(b.cfg.Raw, "add.partitions.to.txn.retry.backoff.ms", 20)
	deadline := time.Now().Add(rawMs(b.cfg.Raw, "add.partitions.to.txn.retry.backoff.max.ms", 100))
	for code == kerr.ConcurrentTransactions.Code && time.Now().Add(backoff).Before(deadline) {
		select {
		case <-b.ctx.Done():
			return code
		case <-time.After(backoff):
		}
		code = b.askTxnCoordinator(id, req)
	}
	return code
}

// sameEpoch reports whether the log's latest epoch of pid is epoch: under
// transaction version 2 the next transaction comes at a bumped epoch, and
// its first batch must reach the coordinator even while the previous
// one's marker is still on its way here.
func sameEpoch(l *wlog.Log, pid int64, epoch int16) bool {
	e, ok := l.ProducerEpoch(pid)
	return ok && e == epoch
}

// askTxnCoordinator sends a one-partition AddPartitionsToTxn request to
// the id's coordinator and returns the partition's error code.
func (b *Broker) askTxnCoordinator(id string, req *kmsg.AddPartitionsToTxnRequest) int16 {
	img := b.node.Image()
	t, ok := img.Topic(txnTopic)
	if !ok {
		return kerr.CoordinatorNotAvailable.Code
	}
	leader := t.Partitions[txn.PartitionFor(id, int32(len(t.Partitions)))].Leader
	var resp *kmsg.AddPartitionsToTxnResponse
	switch {
	case leader < 0:
		return kerr.CoordinatorNotAvailable.Code
	case leader == b.cfg.NodeID:
		resp = b.addPartitionsToTxn(req)
	default:
		mp := b.markerPeer(peerKey{verify: true, id: leader})
		mp.mu.Lock()
		defer mp.mu.Unlock()
		if mp.peer == nil {
			addr, ok := b.peerAddr(leader)
			if !ok {
				return kerr.CoordinatorNotAvailable.Code
			}
			p, err := protocol.DialPeerWith(b.ctx, b.peerDial, addr, "weir-txn-markers-"+strconv.Itoa(int(b.cfg.NodeID)))
			if err != nil {
				return kerr.CoordinatorNotAvailable.Code
			}
			mp.peer = p
			b.txnState.peersMu.Lock()
			b.txnState.dialed = append(b.txnState.dialed, p)
			b.txnState.peersMu.Unlock()
		}
		raw, err := mp.peer.Request(req, 10*time.Second)
		if err != nil {
			mp.peer.Close()
			mp.peer = nil
			return kerr.CoordinatorNotAvailable.Code
		}
		resp = raw.(*kmsg.AddPartitionsToTxnResponse)
	}
	if resp.ErrorCode != 0 {
		return resp.ErrorCode
	}
	for _, rt := range resp.Transactions {
		for _, t := range rt.Topics {
			for _, p := range t.Partitions {
				return p.ErrorCode
			}
		}
	}
	return kerr.UnknownServerError.Code
}

// txnCollector reports the transaction coordinator's figures at scrape
// time (txn.Coordinator.Stats): Kafka has no broker-side counterparts for
// most of them, so they carry weir_ names.
type txnCollector struct {
	b                                   *Broker
	ids, committed, aborted, loads, lms *prometheus.Desc
}

func newTxnCollector(b *Broker) *txnCollector {
	d := prometheus.NewDesc
	return &txnCollector{
		b:         b,
		ids:       d("weir_txn_coordinator_transactional_ids", "Transactional ids this broker coordinates, per state (Ongoing: open transactions).", []string{"state"}, nil),
		committed: d("weir_txn_coordinator_committed_total", "Transactions this broker's coordinator completed with a commit (CompleteCommit stored).", nil, nil),
		aborted:   d("weir_txn_coordinator_aborted_total", "Transactions this broker's coordinator completed with an abort (CompleteAbort stored; client aborts, fencing and timeouts).", nil, nil),
		loads:     d("weir_txn_coordinator_partition_loads_total", "__transaction_state partitions loaded on becoming their leader.", nil, nil),
		lms:       d("weir_txn_coordinator_partition_load_time_ms_total", "Milliseconds spent loading __transaction_state partitions (Kafka's partition-load-time, summed).", nil, nil),
	}
}

func (c *txnCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.ids, c.committed, c.aborted, c.loads, c.lms} {
		ch <- d
	}
}

func (c *txnCollector) Collect(ch chan<- prometheus.Metric) {
	if c.b.txns == nil {
		return
	}
	st := c.b.txns.Stats()
	for _, s := range []txn.State{txn.Empty, txn.Ongoing, txn.PrepareCommit, txn.PrepareAbort, txn.CompleteCommit, txn.CompleteAbort, txn.Dead} {
		ch <- prometheus.MustNewConstMetric(c.ids, prometheus.GaugeValue, float64(st.States[s]), s.String())
	}
	ch <- prometheus.MustNewConstMetric(c.committed, prometheus.CounterValue, float64(st.Committed))
	ch <- prometheus.MustNewConstMetric(c.aborted, prometheus.CounterValue, float64(st.Aborted))
	ch <- prometheus.MustNewConstMetric(c.loads, prometheus.CounterValue, float64(st.Loads))
	ch <- prometheus.MustNewConstMetric(c.lms, prometheus.CounterValue, float64(st.LoadTime.Milliseconds()))
}
