package group

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/internaltopic"
)

// Transactional offset commits (KIP-98, KIP-447): TxnOffsetCommit stores
// the offsets in __consumer_offsets in a transactional batch of the
// producer, and holds them pending, invisible to OffsetFetch, until the
// transaction's marker reaches the group's partition: CompleteTxn (called
// by the broker's WriteTxnMarkers) makes them the group's offsets on
// commit and drops them on abort. Loading replays the same: transactional
// batches are pending until their producer's marker.

// TxnOffsetCommit handles a TxnOffsetCommit request (v0–v4; v3+ with the
// KIP-447 member checks of a classic group).
func (c *Coordinator) TxnOffsetCommit(r *kmsg.TxnOffsetCommitRequest) *kmsg.TxnOffsetCommitResponse {
	resp := r.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	setAll := func(code int16) {
		resp.Topics = nil
		for _, rt := range r.Topics {
			st := kmsg.NewTxnOffsetCommitResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
	}
	g, code := c.lock(r.Group, true)
	if code != nil {
		setAll(code.Code)
		return resp
	}
	defer c.unlock(g)
	if code := g.checkTxnCommit(r); code != nil {
		setAll(code.Code)
		return resp
	}
	now := g.now()
	var recs []record
	type staged struct {
		topic string
		part  int32
		o     offset
	}
	var apply []staged
	codes := map[string]map[int32]int16{}
	for _, rt := range r.Topics {
		for _, rp := range rt.Partitions {
			var code int16
			switch {
			case !c.partitionExists(rt.Topic, rp.Partition):
				code = kerr.UnknownTopicOrPartition.Code
			case rp.Metadata != nil && len(*rp.Metadata) > c.cfg.MaxMetadataBytes:
				code = kerr.OffsetMetadataTooLarge.Code
			default:
				o := offset{offset: rp.Offset, leaderEpoch: rp.LeaderEpoch, committed: now}
				if rp.Metadata != nil {
					o.metadata = *rp.Metadata
				}
				recs = append(recs, offsetRecord(g.id, rt.Topic, rp.Partition, &o))
				apply = append(apply, staged{rt.Topic, rp.Partition, o})
			}
			if codes[rt.Topic] == nil {
				codes[rt.Topic] = map[int32]int16{}
			}
			codes[rt.Topic][rp.Partition] = code
		}
	}
	if len(recs) > 0 {
		b := encodeTxnBatch(recs, now, r.ProducerID, r.ProducerEpoch)
		if err := c.store.Append(g.partition, b); err != nil {
			code := storeErrorCode(fmt.Errorf("append to __consumer_offsets-%d: %w", g.partition, err)).Code
			for _, a := range apply {
				codes[a.topic][a.part] = code
			}
			apply = nil
		}
	}
	for _, a := range apply {
		g.setPending(r.ProducerID, a.topic, a.part, a.o)
	}
	setAll(0)
	for i := range resp.Topics {
		st := &resp.Topics[i]
		for j := range st.Partitions {
			st.Partitions[j].ErrorCode = codes[st.Topic][st.Partitions[j].Partition]
		}
	}
	return resp
}

// checkTxnCommit is KIP-447's check (v3+): a member id or generation
// given must be the group's; a classic group only.
func (g *Group) checkTxnCommit(r *kmsg.TxnOffsetCommitRequest) *kerr.Error {
	if r.Version < 3 || g.consumer != nil {
		return nil
	}
	if r.InstanceID != nil {
		if cur, ok := g.static[*r.InstanceID]; ok && cur != r.MemberID {
			return kerr.FencedInstanceID
		}
	}
	if r.MemberID != "" && g.members[r.MemberID] == nil {
		return kerr.UnknownMemberID
	}
	if r.Generation >= 0 && r.Generation != g.generation {
		return kerr.IllegalGeneration
	}
	return nil
}

func (g *Group) setPending(pid int64, topic string, p int32, o offset) {
	if g.txnOffsets == nil {
		g.txnOffsets = map[int64]map[string]map[int32]offset{}
	}
	byTopic := g.txnOffsets[pid]
	if byTopic == nil {
		byTopic = map[string]map[int32]offset{}
		g.txnOffsets[pid] = byTopic
	}
	if byTopic[topic] == nil {
		byTopic[topic] = map[int32]offset{}
	}
	byTopic[topic][p] = o
}

// completeTxn applies or drops the producer's pending offsets.
func (g *Group) completeTxn(pid int64, commit bool) {
	pending, ok := g.txnOffsets[pid]
	if !ok {
		return
	}
	delete(g.txnOffsets, pid)
	if !commit {
		return
	}
	for topic, parts := range pending {
		for p, o := range parts {
			g.setOffset(topic, p, o)
		}
	}
}

// hasPending reports whether a transaction holds an offset of topic-p.
func (g *Group) hasPending(topic string, p int32) bool {
	for _, byTopic := range g.txnOffsets {
		if _, ok := byTopic[topic][p]; ok {
			return true
		}
	}
	return false
}

// CompleteTxn is told that the marker of producer pid's transaction was
// written to __consumer_offsets partition p: the pending offsets of its
// groups there become committed (commit) or are dropped.
//
// A marker written while p loads may land after the point the load reads
// to: it is kept and applied to the loaded groups before they are served.
func (c *Coordinator) CompleteTxn(p int32, pid int64, commit bool) {
	c.mu.Lock()
	if c.mu.partitions.Loading(p) {
		if c.mu.loadingTxns == nil {
			c.mu.loadingTxns = map[int32][]txnEnd{}
		}
		c.mu.loadingTxns[p] = append(c.mu.loadingTxns[p], txnEnd{pid, commit})
	}
	var gs []*Group
	for _, g := range c.mu.groups {
		if g.partition == p {
			gs = append(gs, g)
		}
	}
	c.mu.Unlock()
	for _, g := range gs {
		g.mu.Lock()
		g.completeTxn(pid, commit)
		g.mu.Unlock()
	}
}

// txnEnd is a transaction marker for the loader (CompleteTxn).
type txnEnd struct {
	pid    int64
	commit bool
}

// applyLoadingTxnsLocked applies the markers that arrived while p loaded
// to its freshly loaded groups (not yet served, so unlocked). Caller
// holds c.mu.
func (c *Coordinator) applyLoadingTxnsLocked(p int32, groups map[string]*Group) {
	for _, e := range c.mu.loadingTxns[p] {
		for _, g := range groups {
			g.completeTxn(e.pid, e.commit)
		}
	}
	delete(c.mu.loadingTxns, p)
}

// markUnstable sets UNSTABLE_OFFSET_COMMIT on the partitions of topics
// whose offsets a transaction still holds (OffsetFetch RequireStable).
func (c *Coordinator) markUnstable(id string, topics []kmsg.OffsetFetchResponseTopic) {
	g, code := c.lock(id, false)
	if code != nil || g == nil {
		return
	}
	defer c.unlock(g)
	if len(g.txnOffsets) == 0 {
		return
	}
	for i := range topics {
		for j := range topics[i].Partitions {
			sp := &topics[i].Partitions[j]
			if sp.ErrorCode == 0 && g.hasPending(topics[i].Topic, sp.Partition) {
				sp.ErrorCode, sp.Offset = kerr.UnstableOffsetCommit.Code, -1
			}
		}
	}
}

// encodeTxnBatch is internaltopic.EncodeBatch as a transactional batch of the producer
// (Kafka writes TxnOffsetCommit's records so, with no sequence).
func encodeTxnBatch(recs []record, now time.Time, pid int64, epoch int16) []byte {
	out := internaltopic.EncodeBatch(recs, now)
	binary.BigEndian.PutUint16(out[21:], binary.BigEndian.Uint16(out[21:])|0x10)
	binary.BigEndian.PutUint64(out[43:], uint64(pid))
	binary.BigEndian.PutUint16(out[51:], uint16(epoch))
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], internaltopic.Castagnoli))
	return out
}
