package replication

import (
	"context"
	"errors"
	"hash/fnv"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/protocol"
)

// Follower replication, as Kafka's ReplicaFetcherThread: one fetcher per
// leader broker pulls every partition this broker follows there, with
// Fetch requests carrying this broker's replica id. A partition that just
// got a new leader first truncates (KIP-101, KIP-279): it asks the leader
// with OffsetForLeaderEpoch where its own latest epoch ended and cuts its
// log there, so no replica keeps records the leader does not have.
//
// A response is applied only to a partition still followed as the request
// was sent: same follow entry (so the same leader and leader epoch) and a
// log end offset still at the fetch offset, as Kafka's fetcher thread
// checks its partition states under partitionMapLock
// (AbstractFetcherThread.processFetchRequest). The fetcher holds its mu
// while applying, and remove and add take it, so once reconcile has
// unfollowed a partition (it now leads, or follows another leader and
// truncates for it) no response to an earlier request touches its log.
// Without this, a late response appended the old leader's records to a new
// leader's log, or after a follower's truncation for a new leader at the
// offset it fetched from before, leaving a hole below a log end offset
// that the follower then reported as its fetch offset: the new leader
// counted records the follower did not have toward the high watermark.
//
// Lock order: fetchers.mu, then replicaFetcher.mu, then the partition's
// log locks and Replica.mu (a response is applied under replicaFetcher.mu).

// How a follower waits (issue 14, where an acks=all produce's time went):
// a partition's error backs off from replicaFetchMinBackoff doubling to
// replicaFetchBackoff, and a long poll never outlasts the earliest such
// retry, so a partition whose leader had not yet applied the metadata that
// made it leader (a new topic, a leadership move) is fetched again within
// milliseconds, not after a fixed 200 ms plus a 500 ms poll on the
// fetcher's other partitions.
//
// A partition added while the fetcher's request is parked at the leader
// waits for that request (up to replica.fetch.wait.max.ms), as in Kafka: the
// parked request names only the partitions followed when it was sent.
// Interrupting it (closing its connection) was tried and dropped: while
// reconcile applies thousands of new partitions, each add closed the
// connection again, the close waited for the fetcher's read to return,
// and every reconnect sent a fetch naming all the followed partitions,
// which slowed creating 20,000 replicas to a crawl.
const (
	defaultReplicaFetchMaxWait  = 500 * time.Millisecond // replica.fetch.wait.max.ms
	defaultReplicaSocketTimeout = 30 * time.Second       // replica.socket.timeout.ms
	replicaFetchBackoff         = 200 * time.Millisecond
	replicaFetchMinBackoff      = 10 * time.Millisecond
	replicaFetchVersion         = 12 // flexible, topics by name: served by every Weir broker
	replicaOFLEVersion          = 4
)

// follow is one partition's follower state inside a fetcher.
type follow struct {
	p        Partition
	r        *Replica // p.Replica()
	epoch    int32    // the leader epoch this broker follows under
	truncate bool     // truncate by leader epoch before fetching
	retryAt  time.Time
	backoff  time.Duration // the last error's backoff, doubled by the next (0 after a success)

	// In a snapshot: the fetcher's entry it was taken from, and the fetch
	// offset a request sent for it.
	entry       *follow
	fetchOffset int64
}

// fetchers owns the per-leader fetchers: num.replica.fetchers of them per
// leader broker, a partition's chosen by hashing its topic and index (as
// Kafka's AbstractFetcherManager.getFetcherId), so the partitions a broker
// follows on one leader are fetched on that many connections at once.
type fetchers struct {
	m  *Manager
	mu struct {
		sync.Mutex
		byKey map[fetcherKey]*replicaFetcher
	}
}

// fetcherKey names one fetcher: its leader and its index among that
// leader's fetchers.
type fetcherKey struct {
	leader int32
	id     int
}

// fetcherID is the fetcher a partition is fetched by, among n per leader.
func fetcherID(topic string, index int32, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(topic))
	return int((uint64(h.Sum32())*31 + uint64(uint32(index))) % uint64(n))
}

// follow makes p fetch from leader under epoch, moving it from any other
// fetcher; it truncates first.
func (f *fetchers) follow(p Partition, leader, epoch int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := p.Replica()
	key := fetcherKey{leader, fetcherID(r.topic, r.index, f.m.numFetchers)}
	for k, rf := range f.mu.byKey {
		if k != key {
			rf.remove(p)
		}
	}
	rf := f.mu.byKey[key]
	if rf == nil {
		rf = newReplicaFetcher(f.m, leader, key.id)
		f.mu.byKey[key] = rf
		f.m.goroutine(rf.run)
	}
	rf.add(p, epoch)
}

// unfollow stops fetching p from anyone.
func (f *fetchers) unfollow(p Partition) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, rf := range f.mu.byKey {
		rf.remove(p)
	}
}

// replicaFetcher pulls from one leader until the broker stops.
type replicaFetcher struct {
	m      *Manager
	leader int32
	id     int // among the leader's fetchers
	wake   chan struct{}
	mu     struct {
		sync.Mutex
		parts map[Partition]*follow
	}
}

func newReplicaFetcher(m *Manager, leader int32, id int) *replicaFetcher {
	rf := &replicaFetcher{m: m, leader: leader, id: id, wake: make(chan struct{}, 1)}
	rf.mu.parts = map[Partition]*follow{}
	return rf
}

func (rf *replicaFetcher) add(p Partition, epoch int32) {
	rf.mu.Lock()
	if cur := rf.mu.parts[p]; cur == nil || cur.epoch != epoch {
		rf.mu.parts[p] = &follow{p: p, r: p.Replica(), epoch: epoch, truncate: true}
	}
	rf.mu.Unlock()
	select {
	case rf.wake <- struct{}{}:
	default:
	}
}

func (rf *replicaFetcher) remove(p Partition) {
	rf.mu.Lock()
	delete(rf.mu.parts, p)
	rf.mu.Unlock()
}

// snapshot copies the partitions due for a request, and says how long
// until the earliest of the others is (replica.fetch.wait.max.ms if none).
func (rf *replicaFetcher) snapshot() ([]*follow, time.Duration) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	now := rf.m.now()
	out := make([]*follow, 0, len(rf.mu.parts))
	next := rf.m.fetchMaxWait
	for _, f := range rf.mu.parts {
		if now.Before(f.retryAt) {
			next = min(next, f.retryAt.Sub(now))
			continue
		}
		c := *f
		c.entry = f
		out = append(out, &c)
	}
	return out, next
}

// retryLater backs a partition off after an error: replicaFetchMinBackoff,
// doubling with each error in a row up to replicaFetchBackoff.
func (rf *replicaFetcher) retryLater(f *follow) {
	f.backoff = min(max(2*f.backoff, replicaFetchMinBackoff), replicaFetchBackoff)
	f.retryAt = rf.m.now().Add(f.backoff)
}

// update writes back a follow's state if it is still current.
func (rf *replicaFetcher) update(f *follow) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	rf.updateLocked(f)
}

func (rf *replicaFetcher) updateLocked(f *follow) {
	if rf.currentLocked(f) {
		*f.entry = *f
		f.entry.entry = nil
	}
}

// currentLocked reports whether the snapshot f is of the entry this
// fetcher still follows its partition with. Caller holds rf.mu.
func (rf *replicaFetcher) currentLocked(f *follow) bool {
	return f.entry != nil && rf.mu.parts[f.p] == f.entry
}

// apply runs fn on a partition's part of a response, under rf.mu, if f is
// still current, and writes f back afterwards; a response for a partition
// removed or re-added since the request went out is dropped.
func (rf *replicaFetcher) apply(f *follow, fn func(*follow)) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if !rf.currentLocked(f) {
		rf.m.logger.Debug("dropped a replica response for a partition no longer followed as requested",
			"partition", f.r.topic, "index", f.r.index, "leader", rf.leader, "leader_epoch", f.epoch)
		return
	}
	fn(f)
	rf.updateLocked(f)
}

func (rf *replicaFetcher) run() {
	var conn *protocol.Peer
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for rf.m.ctx.Err() == nil {
		parts, next := rf.snapshot()
		if len(parts) == 0 {
			rf.idle(next)
			continue
		}
		if conn == nil {
			c, err := rf.connect()
			if err != nil {
				rf.m.logger.Debug("replica fetcher cannot reach its leader", "leader", rf.leader, "err", err)
				rf.sleep(replicaFetchBackoff)
				continue
			}
			conn = c
		}
		if err := rf.round(conn, parts, next); err != nil {
			rf.m.logger.Debug("replica fetch failed", "leader", rf.leader, "err", err)
			conn.Close()
			conn = nil
			rf.sleep(replicaFetchBackoff)
		}
	}
}

// idle waits for a partition to be added or d, the next retry, to pass.
func (rf *replicaFetcher) idle(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-rf.wake:
	case <-t.C:
	case <-rf.m.ctx.Done():
	}
}

func (rf *replicaFetcher) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-rf.m.ctx.Done():
	}
}

func (rf *replicaFetcher) connect() (*protocol.Peer, error) {
	addr, ok := rf.m.addr(rf.leader)
	if !ok {
		return nil, errors.New("leader is not a registered broker")
	}
	ctx, cancel := context.WithTimeout(rf.m.ctx, rf.m.socketTimeout)
	defer cancel()
	return protocol.DialPeerWith(ctx, rf.m.dial, addr, "weir-replica-fetcher-"+strconv.Itoa(int(rf.m.self)))
}

// round truncates whatever needs it, then fetches once, waiting at most
// maxWait at the leader.
func (rf *replicaFetcher) round(conn *protocol.Peer, parts []*follow, maxWait time.Duration) error {
	var trunc, fetch []*follow
	for _, f := range parts {
		if f.truncate {
			trunc = append(trunc, f)
		} else {
			fetch = append(fetch, f)
		}
	}
	if len(trunc) > 0 {
		return rf.truncate(conn, trunc)
	}
	return rf.fetch(conn, fetch, maxWait)
}

// truncate asks the leader where each partition's latest local epoch ended
// and truncates there (KIP-279: to the smaller of the leader's and our own
// end offset for the epoch the leader answers with).
func (rf *replicaFetcher) truncate(conn *protocol.Peer, parts []*follow) error {
	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	req.SetVersion(replicaOFLEVersion)
	req.ReplicaID = rf.m.self
	byKey := map[string]map[int32]*follow{}
	var asking []*follow
	for _, f := range parts {
		latest, ok := f.r.log.LatestEpoch()
		if !ok {
			f.truncate = false // an empty log has nothing to diverge
			rf.update(f)
			continue
		}
		name := f.r.topic
		if byKey[name] == nil {
			byKey[name] = map[int32]*follow{}
			rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
			rt.Topic = name
			req.Topics = append(req.Topics, rt)
		}
		byKey[name][f.r.index] = f
		rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = f.r.index, f.epoch, latest
		for i := range req.Topics {
			if req.Topics[i].Topic == name {
				req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
			}
		}
		asking = append(asking, f)
	}
	if len(asking) == 0 {
		return nil
	}
	raw, err := conn.Request(req, rf.m.socketTimeout)
	if err != nil {
		return err
	}
	for _, rt := range raw.(*kmsg.OffsetForLeaderEpochResponse).Topics {
		for _, rp := range rt.Partitions {
			if f := byKey[rt.Topic][rp.Partition]; f != nil {
				rf.apply(f, func(f *follow) { rf.applyTruncation(f, rp) })
			}
		}
	}
	return nil
}

// applyTruncation runs under rf.apply.
func (rf *replicaFetcher) applyTruncation(f *follow, rp kmsg.OffsetForLeaderEpochResponseTopicPartition) {
	if rp.ErrorCode != 0 {
		rf.retryLater(f)
		return
	}
	leo := f.r.log.LogEndOffset()
	to := leo
	switch {
	case rp.EndOffset < 0:
		to = f.r.HighWatermark() // the leader knows no such epoch: keep what is committed
	default:
		_, localEnd := f.r.log.EndOffsetForEpoch(rp.LeaderEpoch)
		if localEnd < 0 {
			localEnd = leo
		}
		to = min(rp.EndOffset, localEnd, leo)
	}
	if to < leo {
		if err := f.r.log.Truncate(to); err != nil {
			rf.m.logger.Error("truncating a follower log failed", "partition", f.r.topic, "index", f.r.index, "to", to, "err", err)
			rf.retryLater(f)
			return
		}
		rf.m.logger.Info("truncated follower log to the leader's epoch end", "partition", f.r.topic, "index", f.r.index,
			"from", leo, "to", to, "leader", rf.leader, "leader_epoch", f.epoch)
		f.r.Truncated()
	}
	f.truncate = false
}

// fetch sends one Fetch for every partition and appends what comes back;
// the leader holds it at most maxWait for records.
func (rf *replicaFetcher) fetch(conn *protocol.Peer, parts []*follow, maxWait time.Duration) error {
	if len(parts) == 0 {
		rf.sleep(replicaFetchBackoff)
		return nil
	}
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(replicaFetchVersion)
	req.ReplicaID = rf.m.self
	req.MaxWaitMillis = int32(max(maxWait, time.Millisecond) / time.Millisecond)
	req.MinBytes = 1
	req.MaxBytes = max(rf.m.fetchMaxBytes*8, 10<<20)
	req.SessionEpoch = -1 // no fetch session
	byKey := map[string]map[int32]*follow{}
	topicIdx := map[string]int{}
	now := rf.m.now()
	overQuota := rf.m.throttles.follower.Exceeded(now)
	for _, f := range parts {
		if overQuota && rf.m.followerThrottled(f.p) {
			continue // follower quota spent: throttled replicas wait
		}
		name := f.r.topic
		i, ok := topicIdx[name]
		if !ok {
			i = len(req.Topics)
			topicIdx[name] = i
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic = name
			req.Topics = append(req.Topics, rt)
			byKey[name] = map[int32]*follow{}
		}
		byKey[name][f.r.index] = f
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch = f.r.index, f.epoch
		f.fetchOffset = f.r.log.LogEndOffset()
		rp.FetchOffset, rp.LogStartOffset = f.fetchOffset, f.r.log.LogStartOffset()
		rp.PartitionMaxBytes = rf.m.fetchMaxBytes
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
		Trace("fetch_send", name, f.r.index, f.fetchOffset, 0, rf.leader)
	}
	if len(req.Topics) == 0 {
		rf.sleep(replicaFetchBackoff) // everything is throttled for now
		return nil
	}
	// replica.socket.timeout.ms bounds the whole exchange, as Kafka's
	// fetcher (BrokerBlockingSender): a fetch lost in a partition costs at
	// most that before the connection is dropped and dialled again.
	raw, err := conn.RequestReused(req, rf.m.socketTimeout) // applied before the next request
	if err != nil {
		return err
	}
	Trace("resp", "", -1, 0, 0, rf.leader)
	resp := raw.(*kmsg.FetchResponse)
	if resp.ErrorCode != 0 {
		return kerr.ErrorForCode(resp.ErrorCode)
	}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if f := byKey[rt.Topic][rp.Partition]; f != nil {
				rf.apply(f, func(f *follow) { rf.applyFetch(f, rp) })
			}
		}
	}
	return nil
}

// applyFetch runs under rf.apply.
func (rf *replicaFetcher) applyFetch(f *follow, rp kmsg.FetchResponseTopicPartition) {
	p := f.r
	switch rp.ErrorCode {
	case 0:
	case kerr.OffsetOutOfRange.Code:
		rf.outOfRange(f, rp)
		return
	default:
		// Not leader, fenced or unknown epoch, unknown partition: metadata
		// will move us (or the leader has yet to apply what we did); until
		// then, back off.
		rf.retryLater(f)
		return
	}
	f.backoff = 0
	if p.log.LogEndOffset() != f.fetchOffset {
		return // the log moved since the request (cannot happen while followed): fetch again from its end
	}
	if len(rp.RecordBatches) > 0 {
		Trace("recv", p.topic, p.index, f.fetchOffset, 0, rf.leader)
		if rf.m.followerThrottled(f.p) {
			rf.m.throttles.follower.Record(int64(len(rp.RecordBatches)), rf.m.now())
		}
		if err := rf.appendFetched(p, rp.RecordBatches); err != nil {
			rf.m.logger.Error("appending replicated batches failed", "partition", p.topic, "index", p.index, "err", err)
			rf.retryLater(f)
			f.truncate = true
			return
		}
		rf.m.bytesIn.Add(float64(len(rp.RecordBatches)))
		Trace("appended", p.topic, p.index, p.log.LogEndOffset(), 0, rf.leader)
	}
	if rp.LogStartOffset > p.log.LogStartOffset() {
		if _, err := p.log.DeleteRecordsBefore(min(rp.LogStartOffset, p.log.LogEndOffset())); err != nil {
			rf.m.logger.Warn("following the leader's log start failed", "partition", p.topic, "index", p.index, "err", err)
		}
	}
	p.FollowerHighWatermark(rp.HighWatermark)
}

// appendFetched appends whole batches the leader sent, skipping any that
// start below the log end (a batch containing the fetch offset).
func (rf *replicaFetcher) appendFetched(p *Replica, data []byte) error {
	hdrs, err := wlog.ValidateBatches(data, math.MaxInt32)
	if err != nil {
		return err
	}
	leo, pos := p.log.LogEndOffset(), 0
	for len(hdrs) > 0 && hdrs[0].BaseOffset < leo {
		pos += hdrs[0].TotalSize()
		hdrs = hdrs[1:]
	}
	if len(hdrs) == 0 {
		return nil
	}
	return p.log.AppendReplica(data[pos:], hdrs)
}

// outOfRange handles a fetch offset the leader does not have: below its
// log start the follower starts over at the leader's start; above its end
// (cannot happen after epoch truncation) it truncates again.
func (rf *replicaFetcher) outOfRange(f *follow, rp kmsg.FetchResponseTopicPartition) {
	p := f.r
	if leo := p.log.LogEndOffset(); rp.LogStartOffset >= 0 && leo < rp.LogStartOffset {
		if err := p.log.TruncateFullyAndStartAt(rp.LogStartOffset); err != nil {
			rf.m.logger.Error("restarting a follower log at the leader's start failed", "partition", p.topic, "index", p.index, "err", err)
		} else {
			rf.m.logger.Info("follower log restarted at the leader's log start", "partition", p.topic, "index", p.index, "start", rp.LogStartOffset)
			p.Truncated()
		}
	} else {
		f.truncate = true
	}
	rf.retryLater(f)
}
