package group

import (
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetCommit handles an OffsetCommit request. The answer comes after the
// offsets are appended to __consumer_offsets. A commit with generation -1
// to an empty or unknown group (a simple consumer's) is allowed and creates
// the group.
func (c *Coordinator) OffsetCommit(r *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	resp := r.ResponseKind().(*kmsg.OffsetCommitResponse)
	for _, rt := range r.Topics {
		st := kmsg.NewOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetCommitResponseTopicPartition()
			sp.Partition = rp.Partition
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	g, code := c.lock(r.Group, r.Generation < 0)
	if code == nil && g == nil {
		code = kerr.IllegalGeneration
	}
	if code == nil {
		defer c.unlock(g)
		code = g.checkCommit(r)
	}
	if code != nil {
		setCommitCodes(resp, func(string, int32) int16 { return code.Code })
		return resp
	}
	g.commit(r, resp)
	return resp
}

func setCommitCodes(resp *kmsg.OffsetCommitResponse, code func(topic string, p int32) int16) {
	for i := range resp.Topics {
		st := &resp.Topics[i]
		for j := range st.Partitions {
			st.Partitions[j].ErrorCode = code(st.Topic, st.Partitions[j].Partition)
		}
	}
}

func (g *Group) checkCommit(r *kmsg.OffsetCommitRequest) *kerr.Error {
	if g.consumer != nil {
		return g.checkConsumerCommit(r)
	}
	if r.InstanceID != nil {
		if cur, ok := g.static[*r.InstanceID]; ok && cur != r.MemberID {
			return kerr.FencedInstanceID
		}
	}
	if r.Generation < 0 && g.state == Empty {
		return nil
	}
	m := g.members[r.MemberID]
	switch {
	case m == nil:
		return kerr.UnknownMemberID
	case r.Generation != g.generation:
		return kerr.IllegalGeneration
	case g.state == CompletingRebalance:
		return kerr.RebalanceInProgress
	}
	m.deadline = g.now().Add(m.sessionTimeout)
	return nil
}

// commit appends the acceptable offsets in one batch and applies them once
// the append succeeds.
func (g *Group) commit(r *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse) {
	now := g.now()
	type pending struct {
		topic string
		part  int32
		o     offset
	}
	var recs []record
	var apply []pending
	codes := map[string]map[int32]int16{}
	setCode := func(t string, p int32, code int16) {
		if codes[t] == nil {
			codes[t] = map[int32]int16{}
		}
		codes[t][p] = code
	}
	for _, rt := range r.Topics {
		for _, rp := range rt.Partitions {
			switch {
			case !g.c.partitionExists(rt.Topic, rp.Partition):
				setCode(rt.Topic, rp.Partition, kerr.UnknownTopicOrPartition.Code)
			case rp.Metadata != nil && len(*rp.Metadata) > g.c.cfg.MaxMetadataBytes:
				setCode(rt.Topic, rp.Partition, kerr.OffsetMetadataTooLarge.Code)
			default:
				o := offset{offset: rp.Offset, leaderEpoch: rp.LeaderEpoch, committed: commitTime(r.Version, rp, now)}
				if rp.Metadata != nil {
					o.metadata = *rp.Metadata
				}
				recs = append(recs, offsetRecord(g.id, rt.Topic, rp.Partition, &o))
				apply = append(apply, pending{rt.Topic, rp.Partition, o})
			}
		}
	}
	if len(recs) > 0 {
		if err := g.append(recs); err != nil {
			code := storeErrorCode(err).Code
			for _, a := range apply {
				setCode(a.topic, a.part, code)
			}
			apply = nil
		}
	}
	for _, a := range apply {
		g.setOffset(a.topic, a.part, a.o)
	}
	setCommitCodes(resp, func(t string, p int32) int16 { return codes[t][p] })
}

// commitTime is when an offset counts as committed: the client's
// timestamp on a v1 commit that sets one (Kafka's OffsetAndMetadata
// fromRequest keeps it, and retention counts from it), else now.
func commitTime(version int16, rp kmsg.OffsetCommitRequestTopicPartition, now time.Time) time.Time {
	if version == 1 && rp.Timestamp != -1 {
		return time.UnixMilli(rp.Timestamp)
	}
	return now
}

func (g *Group) setOffset(topic string, p int32, o offset) {
	if g.offsets[topic] == nil {
		g.offsets[topic] = map[int32]offset{}
	}
	g.offsets[topic][p] = o
}

func (g *Group) deleteOffset(topic string, p int32) {
	delete(g.offsets[topic], p)
	if len(g.offsets[topic]) == 0 {
		delete(g.offsets, topic)
	}
}

func (c *Coordinator) partitionExists(topic string, p int32) bool {
	return c.cfg.PartitionExists == nil || c.cfg.PartitionExists(topic, p)
}

// OffsetFetch handles an OffsetFetch request: one group (v0–v7) or many
// (v8). Unknown groups and partitions have offset -1. With RequireStable
// (v7+), a partition whose offset a transaction holds pending is
// UNSTABLE_OFFSET_COMMIT (txn.go).
func (c *Coordinator) OffsetFetch(r *kmsg.OffsetFetchRequest) *kmsg.OffsetFetchResponse {
	resp := r.ResponseKind().(*kmsg.OffsetFetchResponse)
	if r.Version >= 8 {
		for _, rg := range r.Groups {
			sg := kmsg.NewOffsetFetchResponseGroup()
			sg.Group = rg.Group
			var want []kmsg.OffsetFetchRequestTopic
			for _, t := range rg.Topics {
				rt := kmsg.NewOffsetFetchRequestTopic()
				rt.Topic, rt.Partitions = t.Topic, t.Partitions
				want = append(want, rt)
			}
			code, topics := c.fetchOffsets(rg.Group, fetchMember{rg.MemberID, rg.MemberEpoch}, want, rg.Topics == nil)
			if r.RequireStable && code == 0 {
				c.markUnstable(rg.Group, topics)
			}
			sg.ErrorCode = code
			for _, t := range topics {
				gt := kmsg.NewOffsetFetchResponseGroupTopic()
				gt.Topic = t.Topic
				for _, p := range t.Partitions {
					gp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
					gp.Partition, gp.Offset, gp.LeaderEpoch, gp.Metadata, gp.ErrorCode = p.Partition, p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode
					gt.Partitions = append(gt.Partitions, gp)
				}
				sg.Topics = append(sg.Topics, gt)
			}
			resp.Groups = append(resp.Groups, sg)
		}
		return resp
	}
	code, topics := c.fetchOffsets(r.Group, fetchMember{epoch: -1}, r.Topics, r.Topics == nil && r.Version >= 2)
	if r.Version >= 7 && r.RequireStable && code == 0 {
		c.markUnstable(r.Group, topics)
	}
	resp.ErrorCode, resp.Topics = code, topics
	if r.Version < 2 && code != 0 {
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				resp.Topics[i].Partitions[j].ErrorCode = code
			}
		}
	}
	return resp
}

// fetchMember is who fetches (OffsetFetch v9+): a consumer-protocol
// member names itself and its epoch; others send no id and epoch -1.
type fetchMember struct {
	id    *string
	epoch int32
}

// fetchOffsets returns a group-level error code and the offsets asked
// for (every committed one when all).
func (c *Coordinator) fetchOffsets(id string, member fetchMember, want []kmsg.OffsetFetchRequestTopic, all bool) (int16, []kmsg.OffsetFetchResponseTopic) {
	g, code := c.lock(id, false)
	if code != nil {
		return code.Code, fetchAnswer(nil, want)
	}
	if g == nil {
		return 0, fetchAnswer(nil, want)
	}
	defer c.unlock(g)
	if code := g.checkConsumerFetch(member); code != nil {
		return code.Code, nil
	}
	if all {
		want = nil
		for _, t := range sortedKeys(g.offsets) {
			rt := kmsg.NewOffsetFetchRequestTopic()
			rt.Topic, rt.Partitions = t, sortedKeys(g.offsets[t])
			want = append(want, rt)
		}
	}
	return 0, fetchAnswer(g.offsets, want)
}

func fetchAnswer(offsets map[string]map[int32]offset, want []kmsg.OffsetFetchRequestTopic) []kmsg.OffsetFetchResponseTopic {
	var out []kmsg.OffsetFetchResponseTopic
	for _, rt := range want {
		st := kmsg.NewOffsetFetchResponseTopic()
		st.Topic = rt.Topic
		for _, p := range rt.Partitions {
			sp := kmsg.NewOffsetFetchResponseTopicPartition()
			sp.Partition, sp.Offset, sp.LeaderEpoch, sp.Metadata = p, -1, -1, strPtr("")
			if o, ok := offsets[rt.Topic][p]; ok {
				sp.Offset, sp.LeaderEpoch, sp.Metadata = o.offset, o.leaderEpoch, strPtr(o.metadata)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		out = append(out, st)
	}
	return out
}

func sortedKeys[K string | int32, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// OffsetDelete handles an OffsetDelete request: offsets of an empty group
// go; a live consumer group keeps those of topics it subscribes to.
func (c *Coordinator) OffsetDelete(r *kmsg.OffsetDeleteRequest) *kmsg.OffsetDeleteResponse {
	resp := r.ResponseKind().(*kmsg.OffsetDeleteResponse)
	code := kerr.InvalidGroupID
	var g *Group
	if r.Group != "" {
		g, code = c.lock(r.Group, false)
		if code == nil && g == nil {
			code = kerr.GroupIDNotFound
		}
	}
	if code != nil {
		resp.ErrorCode = code.Code
		return resp
	}
	defer c.unlock(g)
	subscribed, live := g.subscribedTopics()
	if live && g.protocolType != "consumer" && g.consumer == nil {
		resp.ErrorCode = kerr.NonEmptyGroup.Code
		return resp
	}
	var recs []record
	for _, rt := range r.Topics {
		st := kmsg.NewOffsetDeleteResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetDeleteResponseTopicPartition()
			sp.Partition = rp.Partition
			switch {
			case !c.partitionExists(rt.Topic, rp.Partition):
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case live && (subscribed == nil || subscribed[rt.Topic]):
				sp.ErrorCode = kerr.GroupSubscribedToTopic.Code
			default:
				if _, ok := g.offsets[rt.Topic][rp.Partition]; ok {
					recs = append(recs, offsetRecord(g.id, rt.Topic, rp.Partition, nil))
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if err := g.deleteOffsets(recs); err != nil {
		resp.Topics = nil
		resp.ErrorCode = storeErrorCode(err).Code
	}
	return resp
}

// deleteOffsets appends offset tombstones and applies them.
func (g *Group) deleteOffsets(recs []record) error {
	if len(recs) == 0 {
		return nil
	}
	if err := g.append(recs); err != nil {
		return err
	}
	for _, rec := range recs {
		g.deleteOffset(rec.topic, rec.partition)
	}
	return nil
}

// subscribedTopics returns the topics the members subscribe to (nil if
// some member's subscription cannot be read) and whether the group has
// members at all.
func (g *Group) subscribedTopics() (map[string]bool, bool) {
	if g.consumer != nil {
		return g.consumer.subscribed(), len(g.consumer.members) > 0
	}
	if len(g.members) == 0 {
		return nil, false
	}
	if g.protocolType != "consumer" || g.protocol == "" {
		return nil, true
	}
	topics := map[string]bool{}
	for _, m := range g.members {
		var meta kmsg.ConsumerMemberMetadata
		if err := meta.ReadFrom(m.metadataFor(g.protocol)); err != nil {
			return nil, true
		}
		for _, t := range meta.Topics {
			topics[t] = true
		}
	}
	return topics, true
}

// expireOffsets drops offsets past offsets.retention.minutes (KIP-211):
// all of an empty group's once it has been empty that long (or, with no
// record of when it emptied, each by its commit time); a simple consumer
// group's by commit time; a stable consumer group's only for topics it no
// longer subscribes to. An empty group with no offsets left is deleted.
func (g *Group) expireOffsets(now time.Time) {
	retention := g.c.cfg.OffsetsRetention
	if retention <= 0 {
		return
	}
	base := func(o offset) time.Time { return o.committed }
	var keep map[string]bool
	switch {
	case g.consumer != nil && !g.empty():
		keep, _ = g.subscribedTopics()
	case g.consumer != nil:
		if !g.stateSince.IsZero() {
			base = func(offset) time.Time { return g.stateSince }
		}
	case g.protocolType == "":
	case g.state == Empty:
		if !g.stateSince.IsZero() {
			base = func(offset) time.Time { return g.stateSince }
		}
	case g.state == Stable && g.protocolType == "consumer":
		var live bool
		if keep, live = g.subscribedTopics(); keep == nil && live {
			return
		}
	default:
		return
	}
	var recs []record
	for _, t := range sortedKeys(g.offsets) {
		if keep[t] {
			continue
		}
		for _, p := range sortedKeys(g.offsets[t]) {
			if !now.Before(base(g.offsets[t][p]).Add(retention)) {
				recs = append(recs, offsetRecord(g.id, t, p, nil))
			}
		}
	}
	if err := g.deleteOffsets(recs); err != nil {
		g.c.logger.Warn("expiring offsets failed", "group", g.id, "err", err)
		return
	}
	if len(recs) > 0 {
		g.c.logger.Info("expired committed offsets", "group", g.id, "partitions", len(recs))
	}
	if g.state == Empty && len(g.offsets) == 0 && g.empty() {
		g.deleteGroup()
	}
}

// deleteGroup writes the group's tombstone (for one that was ever
// stored) and marks it dead.
func (g *Group) deleteGroup() error {
	if g.generation > 0 || g.protocolType != "" {
		if err := g.append([]record{groupRecord(g.id, nil)}); err != nil {
			return err
		}
	}
	g.setState(Dead)
	g.dead.Store(true)
	return nil
}

// checkConsumerCommit is a consumer-protocol group's commit check: with
// no members anyone may commit (generation -1); else the member must
// exist, commit with OffsetCommit v9+ and carry its current epoch.
func (g *Group) checkConsumerCommit(r *kmsg.OffsetCommitRequest) *kerr.Error {
	cg := g.consumer
	if r.Generation < 0 && len(cg.members) == 0 {
		return nil
	}
	m := cg.members[r.MemberID]
	switch {
	case m == nil:
		return kerr.UnknownMemberID
	case r.Version < 9:
		return kerr.UnsupportedVersion
	case r.Generation != m.epoch:
		return kerr.StaleMemberEpoch
	}
	return nil
}

// checkConsumerFetch checks an OffsetFetch v9 member of a
// consumer-protocol group: it must exist and fetch at its current epoch.
// Fetches without a member (admin tools) are always answered.
func (g *Group) checkConsumerFetch(f fetchMember) *kerr.Error {
	if g.consumer == nil || (f.id == nil && f.epoch < 0) {
		return nil
	}
	m := g.consumer.members[deref(f.id)]
	switch {
	case m == nil:
		return kerr.UnknownMemberID
	case f.epoch != m.epoch:
		return kerr.StaleMemberEpoch
	}
	return nil
}
