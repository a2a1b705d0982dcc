package group

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The consumer rebalance protocol (KIP-848): members heartbeat with
// ConsumerGroupHeartbeat, the coordinator assigns partitions itself
// (assignor.go) and hands them out by epoch-based reconciliation
// (reconcile.go).
//
// Epochs: the group epoch is bumped by every change of membership,
// subscriptions or the subscribed topics' metadata; the target assignment
// is computed for a group epoch (its assignment epoch, always caught up
// here before a group lock is released); each member's epoch is the
// target epoch it has reconciled to.
//
// Durability: kmsg has no schemas for Kafka's KIP-848 records
// (ConsumerGroupMetadata, ConsumerGroupMemberMetadata,
// ConsumerGroupTargetAssignment…, ConsumerGroupCurrentMemberAssignment),
// so only committed offsets are stored. After a coordinator moves or
// restarts the group comes back as an empty group holding its offsets;
// members' heartbeats then get UNKNOWN_MEMBER_ID and they rejoin with
// epoch 0, which converts it back.

// consumerGroup is the state of a group using the consumer protocol,
// guarded by its Group's mu.
type consumerGroup struct {
	epoch           int32 // the group epoch
	assignmentEpoch int32 // the group epoch target was computed for
	members         map[string]*consumerMember
	static          map[string]string     // group.instance.id → member id
	target          map[string]topicParts // member id → target assignment
	topics          map[string]topicMeta  // subscribed topics that exist
	holders         map[tp]string         // partition → member assigned it or revoking it
	resolved        map[string][]string   // regex → topics it matched at the last refresh (regex.go)
	regexRefreshed  time.Time             // the last refresh; zero: never
}

type topicMeta struct {
	id         [16]byte
	partitions int32
}

type consumerMember struct {
	id               string
	instanceID       *string
	rackID           *string
	clientID         string
	clientHost       string
	topics           []string // subscribed by name, sorted
	regex            string   // SubscribedTopicRegex; "" none
	assignor         string   // the ServerAssignor it asked for; "" none
	rebalanceTimeout time.Duration
	reconciled
	sessionDeadline time.Time
	revokeDeadline  time.Time // while memberUnrevoked
}

// leftStaticEpoch is the epoch of a static member that left temporarily
// (MemberEpoch -2): it keeps its assignment until its session expires or
// its instance rejoins.
const leftStaticEpoch = -2

func newConsumerGroup() *consumerGroup {
	return &consumerGroup{
		members: map[string]*consumerMember{}, static: map[string]string{},
		target: map[string]topicParts{}, topics: map[string]topicMeta{}, holders: map[tp]string{},
		resolved: map[string][]string{},
	}
}

// hbError is a heartbeat's failure: the code and Kafka's kind of message.
type hbError struct {
	code *kerr.Error
	msg  string
}

func fail(code *kerr.Error, format string, args ...any) *hbError {
	return &hbError{code: code, msg: fmt.Sprintf(format, args...)}
}

// ConsumerGroupHeartbeat handles a ConsumerGroupHeartbeat request: a join
// (MemberEpoch 0), a heartbeat that reports the partitions the member
// owns and gets its next assignment, or a leave (-1, or -2 for a static
// member leaving temporarily).
func (c *Coordinator) ConsumerGroupHeartbeat(r *kmsg.ConsumerGroupHeartbeatRequest, cl Client) *kmsg.ConsumerGroupHeartbeatResponse {
	resp := r.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	if e := c.consumerHeartbeat(r, cl, resp); e != nil {
		resp.ErrorCode, resp.MemberID, resp.MemberEpoch, resp.Assignment = e.code.Code, nil, 0, nil
		if e.msg != "" {
			resp.ErrorMessage = strPtr(e.msg)
		}
	}
	return resp
}

func (c *Coordinator) consumerHeartbeat(r *kmsg.ConsumerGroupHeartbeatRequest, cl Client, resp *kmsg.ConsumerGroupHeartbeatResponse) *hbError {
	if e := validateHeartbeat(r); e != nil {
		return e
	}
	g, code := c.lock(r.Group, r.MemberEpoch == 0)
	switch {
	case code != nil:
		return fail(code, "")
	case g == nil && r.MemberEpoch < 0:
		return fail(kerr.GroupIDNotFound, "Consumer group %s not found.", r.Group)
	case g == nil:
		return fail(kerr.UnknownMemberID, "Consumer group %s has no member %s.", r.Group, r.MemberID)
	}
	defer c.unlock(g)
	if r.MemberEpoch < 0 {
		return g.consumerLeave(r, resp)
	}
	return g.consumerHeartbeat(r, cl, resp)
}

// validateHeartbeat is Kafka's check of a heartbeat's fields.
func validateHeartbeat(r *kmsg.ConsumerGroupHeartbeatRequest) *hbError {
	bad := func(msg string) *hbError { return fail(kerr.InvalidRequest, "%s", msg) }
	switch {
	case r.Group == "":
		return bad("GroupId can't be empty.")
	case r.MemberID == "" && (r.Version >= 1 || r.MemberEpoch != 0):
		return bad("MemberId can't be empty.")
	case r.InstanceID != nil && *r.InstanceID == "":
		return bad("InstanceId can't be empty.")
	case r.RackID != nil && *r.RackID == "":
		return bad("RackId can't be empty.")
	case r.MemberEpoch < leftStaticEpoch:
		return bad("MemberEpoch is invalid.")
	case r.MemberEpoch == leftStaticEpoch && r.InstanceID == nil:
		return bad("InstanceId can't be null.")
	case r.MemberEpoch == 0:
		if e := validateJoin(r); e != nil {
			return e
		}
	}
	if r.SubscribedTopicRegex != nil && *r.SubscribedTopicRegex != "" {
		if _, e := compileTopicRegex(*r.SubscribedTopicRegex); e != nil {
			return e
		}
	}
	if r.ServerAssignor != nil && assignors[*r.ServerAssignor] == nil {
		return fail(kerr.UnsupportedAssignor, "ServerAssignor %s is not supported. Supported assignors: range, uniform.", *r.ServerAssignor)
	}
	return nil
}

func validateJoin(r *kmsg.ConsumerGroupHeartbeatRequest) *hbError {
	switch {
	case r.RebalanceTimeoutMillis == -1:
		return fail(kerr.InvalidRequest, "RebalanceTimeoutMs must be provided in first request.")
	case r.Topics == nil || len(r.Topics) > 0:
		return fail(kerr.InvalidRequest, "TopicPartitions must be empty when (re-)joining.")
	case len(r.SubscribedTopicNames) == 0 && (r.SubscribedTopicRegex == nil || *r.SubscribedTopicRegex == ""):
		return fail(kerr.InvalidRequest, "SubscribedTopicNames or SubscribedTopicRegex must be set in first request.")
	}
	return nil
}

// consumerGroupFor returns the group's consumer state. An empty classic
// group (one holding only offsets, or none at all) becomes a consumer
// group on a join; a classic group with members is not a consumer group.
func (g *Group) consumerGroupFor(join bool) (*consumerGroup, *hbError) {
	switch {
	case g.consumer != nil:
		return g.consumer, nil
	case !g.empty():
		return nil, fail(kerr.GroupIDNotFound, "Group %s is not a consumer group.", g.id)
	case !join:
		return nil, fail(kerr.UnknownMemberID, "Consumer group %s has no members.", g.id)
	}
	g.generation, g.protocolType, g.protocol, g.leader = 0, "", "", ""
	g.setState(Empty)
	g.consumer = newConsumerGroup()
	return g.consumer, nil
}

// empty reports whether the group has no members of either protocol.
func (g *Group) empty() bool {
	if g.consumer != nil {
		return len(g.consumer.members) == 0
	}
	return len(g.members) == 0 && len(g.pending) == 0
}

func (g *Group) consumerHeartbeat(r *kmsg.ConsumerGroupHeartbeatRequest, cl Client, resp *kmsg.ConsumerGroupHeartbeatResponse) *hbError {
	cg, e := g.consumerGroupFor(r.MemberEpoch == 0)
	if e != nil {
		return e
	}
	m, isNew, e := g.heartbeatMember(cg, r)
	if e != nil {
		return e
	}
	before := m.assigned
	changed := m.update(r, cl) || isNew
	regexChanged := g.refreshRegexes(cg)
	if g.refreshTopics(cg) || changed || regexChanged {
		cg.epoch++
	}
	g.assignTarget(cg)
	owned := g.ownedParts(cg, r.Topics)
	g.reconcileMember(cg, m, owned)
	m.sessionDeadline = g.now().Add(g.c.cfg.ConsumerSessionTimeout)

	resp.MemberID, resp.MemberEpoch = strPtr(m.id), m.epoch
	resp.HeartbeatIntervalMillis = int32(g.c.cfg.ConsumerHeartbeatInterval.Milliseconds())
	if isFullRequest(r) || !before.equal(m.assigned) {
		resp.Assignment = g.responseAssignment(cg, m.assigned)
	}
	return nil
}

// isFullRequest is a heartbeat carrying every field: a join, or one a
// client sends after an error. It always gets the assignment back.
func isFullRequest(r *kmsg.ConsumerGroupHeartbeatRequest) bool {
	return r.MemberEpoch == 0 || (r.RebalanceTimeoutMillis != -1 && (r.SubscribedTopicNames != nil || r.SubscribedTopicRegex != nil) && r.Topics != nil)
}

// heartbeatMember finds, creates or (for a static member's new
// incarnation) replaces the member, and checks its epoch.
func (g *Group) heartbeatMember(cg *consumerGroup, r *kmsg.ConsumerGroupHeartbeatRequest) (*consumerMember, bool, *hbError) {
	id := r.MemberID
	if id == "" { // v0: the coordinator names the member
		id = g.c.cfg.NewID()
	}
	if cg.members[id] == nil && len(cg.members) >= g.c.cfg.ConsumerMaxSize {
		return nil, false, fail(kerr.GroupMaxSizeReached, "The consumer group has reached its maximum capacity of %d members.", g.c.cfg.ConsumerMaxSize)
	}
	if r.InstanceID != nil {
		return g.staticMember(cg, id, r)
	}
	m := cg.members[id]
	switch {
	case m == nil && r.MemberEpoch != 0:
		return nil, false, fail(kerr.UnknownMemberID, "Member %s is not a member of group %s.", id, g.id)
	case m == nil:
		return g.addConsumerMember(cg, id, nil), true, nil
	}
	return m, false, g.checkEpoch(cg, m, r)
}

func (g *Group) staticMember(cg *consumerGroup, id string, r *kmsg.ConsumerGroupHeartbeatRequest) (*consumerMember, bool, *hbError) {
	inst := *r.InstanceID
	cur := cg.members[cg.static[inst]]
	switch {
	case cur == nil && r.MemberEpoch != 0:
		return nil, false, fail(kerr.UnknownMemberID, "Instance id %s is unknown.", inst)
	case cur == nil:
		return g.addConsumerMember(cg, id, &inst), true, nil
	case cur.id == id:
		return cur, false, g.checkEpoch(cg, cur, r)
	case r.MemberEpoch != 0:
		return nil, false, fail(kerr.FencedInstanceID, "Static member %s with instance id %s was fenced by member %s.", id, inst, cur.id)
	case cur.epoch != leftStaticEpoch:
		return nil, false, fail(kerr.UnreleasedInstanceID, "Static member %s with instance id %s cannot join the group because the instance id is owned by member %s.", id, inst, cur.id)
	}
	return g.replaceStaticMember(cg, cur, id), false, nil
}

// replaceStaticMember hands a static member that left temporarily over to
// its new incarnation: same assignment, same target, no rebalance.
func (g *Group) replaceStaticMember(cg *consumerGroup, old *consumerMember, id string) *consumerMember {
	cg.release(old)
	delete(cg.members, old.id)
	m := *old
	m.id = id
	m.epoch = 0
	cg.members[id] = &m
	cg.static[*m.instanceID] = id
	if t, ok := cg.target[old.id]; ok {
		cg.target[id] = t
		delete(cg.target, old.id)
	}
	cg.hold(&m)
	g.c.logger.Info("static member replaced", "group", g.id, "instance", *m.instanceID, "old", old.id, "member", id)
	return &m
}

func (g *Group) addConsumerMember(cg *consumerGroup, id string, instanceID *string) *consumerMember {
	m := &consumerMember{id: id, instanceID: instanceID, reconciled: reconciled{assigned: topicParts{}, revoking: topicParts{}}}
	cg.members[id] = m
	if instanceID != nil {
		cg.static[*instanceID] = id
	}
	g.c.logger.Info("member joins the consumer group", "group", g.id, "member", id)
	return m
}

// checkEpoch fences a member whose epoch is ahead of ours, or behind it
// unless it is the previous epoch and the member owns only what it is
// assigned (the answer that moved it on was lost). Epoch 0 is a rejoin:
// the member gave up its partitions and gets its assignment again.
func (g *Group) checkEpoch(cg *consumerGroup, m *consumerMember, r *kmsg.ConsumerGroupHeartbeatRequest) *hbError {
	got := r.MemberEpoch
	switch {
	case got == 0 || got == m.epoch:
		return nil
	case got > m.epoch:
		return fail(kerr.FencedMemberEpoch, "The consumer group member has a greater member epoch (%d) than the one known by the group coordinator (%d). The member must abandon all its partitions and rejoin.", got, m.epoch)
	case got == m.prevEpoch && r.Topics != nil && g.ownsOnlyAssigned(cg, m, r.Topics):
		return nil
	}
	return fail(kerr.FencedMemberEpoch, "The consumer group member has a smaller member epoch (%d) than the one known by the group coordinator (%d). The member must abandon all its partitions and rejoin.", got, m.epoch)
}

func (g *Group) ownsOnlyAssigned(cg *consumerGroup, m *consumerMember, topics []kmsg.ConsumerGroupHeartbeatRequestTopic) bool {
	for _, t := range topics {
		name, ok := g.topicName(cg, t.TopicID)
		for _, p := range t.Partitions {
			if !ok || !m.assigned.has(name, p) {
				return false
			}
		}
	}
	return true
}

// update applies the heartbeat's optional fields and reports whether the
// change needs a new target assignment.
func (m *consumerMember) update(r *kmsg.ConsumerGroupHeartbeatRequest, cl Client) bool {
	changed := false
	if r.SubscribedTopicNames != nil {
		topics := sortedUnique(r.SubscribedTopicNames)
		changed = changed || !slices.Equal(topics, m.topics)
		m.topics = topics
	}
	if r.SubscribedTopicRegex != nil && *r.SubscribedTopicRegex != m.regex {
		m.regex, changed = *r.SubscribedTopicRegex, true // "" unsubscribes
	}
	if r.ServerAssignor != nil && *r.ServerAssignor != m.assignor {
		m.assignor, changed = *r.ServerAssignor, true
	}
	if r.RackID != nil && (m.rackID == nil || *m.rackID != *r.RackID) {
		m.rackID, changed = strPtr(*r.RackID), true
	}
	if r.RebalanceTimeoutMillis != -1 {
		m.rebalanceTimeout = time.Duration(r.RebalanceTimeoutMillis) * time.Millisecond
	}
	m.clientID, m.clientHost = cl.ID, cl.Host
	return changed
}

// refreshTopics recomputes the subscribed topics' ids and partition
// counts and reports whether they changed (a topic created, deleted,
// grown, or newly subscribed or unsubscribed).
func (g *Group) refreshTopics(cg *consumerGroup) bool {
	now := map[string]topicMeta{}
	for _, m := range cg.members {
		for _, t := range cg.subscription(m) {
			if id, n, ok := g.c.topicByName(t); ok {
				now[t] = topicMeta{id: id, partitions: n}
			}
		}
	}
	if maps.Equal(now, cg.topics) {
		return false
	}
	cg.topics = now
	return true
}

// assignTarget computes the target assignment for the group epoch, with
// the assignor most members asked for.
func (g *Group) assignTarget(cg *consumerGroup) {
	if cg.assignmentEpoch == cg.epoch {
		return
	}
	spec := assignSpec{topics: map[string]int32{}}
	for t, meta := range cg.topics {
		spec.topics[t] = meta.partitions
	}
	for _, m := range cg.sortedMembers() {
		spec.members = append(spec.members, assignMember{id: m.id, topics: cg.subscription(m), current: cg.target[m.id]})
	}
	cg.target = assignors[cg.assignor()](spec)
	cg.assignmentEpoch = cg.epoch
}

// assignor is the server assignor most members ask for (ties to the
// name first in order), else the default.
func (cg *consumerGroup) assignor() string {
	votes := map[string]int{}
	for _, m := range cg.members {
		if m.assignor != "" {
			votes[m.assignor]++
		}
	}
	best := defaultAssignor
	for _, name := range sortedKeys(votes) {
		if votes[name] > votes[best] {
			best = name
		}
	}
	return best
}

// reconcileMember moves m one step toward its target (reconcile.go) and
// keeps the partition holders current.
func (g *Group) reconcileMember(cg *consumerGroup, m *consumerMember, owned topicParts) {
	wasUnrevoked := m.state == memberUnrevoked
	next := reconcile(reconcileInput{
		cur: m.reconciled, targetEpoch: cg.assignmentEpoch, target: cg.target[m.id], owned: owned,
		heldElsewhere: func(t string, p int32) bool {
			h, ok := cg.holders[tp{t, p}]
			return ok && h != m.id
		},
	})
	cg.release(m)
	m.reconciled = next
	cg.hold(m)
	switch {
	case m.state != memberUnrevoked:
		m.revokeDeadline = time.Time{}
	case !wasUnrevoked:
		m.revokeDeadline = g.now().Add(m.rebalanceTimeout)
	}
}

func (cg *consumerGroup) release(m *consumerMember) {
	drop := func(t string, p int32) {
		if cg.holders[tp{t, p}] == m.id {
			delete(cg.holders, tp{t, p})
		}
	}
	m.assigned.each(drop)
	m.revoking.each(drop)
}

func (cg *consumerGroup) hold(m *consumerMember) {
	set := func(t string, p int32) { cg.holders[tp{t, p}] = m.id }
	m.assigned.each(set)
	m.revoking.each(set)
}

// ownedParts converts the partitions a heartbeat reports owning; nil
// stays nil (not reported). Topics the coordinator cannot name are
// skipped: nothing of theirs can be pending revocation.
func (g *Group) ownedParts(cg *consumerGroup, topics []kmsg.ConsumerGroupHeartbeatRequestTopic) topicParts {
	if topics == nil {
		return nil
	}
	out := topicParts{}
	for _, t := range topics {
		if name, ok := g.topicName(cg, t.TopicID); ok {
			for _, p := range t.Partitions {
				out.add(name, p)
			}
		}
	}
	return out
}

func (g *Group) topicName(cg *consumerGroup, id [16]byte) (string, bool) {
	for name, meta := range cg.topics {
		if meta.id == id {
			return name, true
		}
	}
	return g.c.topicByID(id)
}

func (g *Group) topicID(cg *consumerGroup, name string) ([16]byte, bool) {
	if meta, ok := cg.topics[name]; ok {
		return meta.id, true
	}
	id, _, ok := g.c.topicByName(name)
	return id, ok
}

func (g *Group) responseAssignment(cg *consumerGroup, a topicParts) *kmsg.ConsumerGroupHeartbeatResponseAssignment {
	out := kmsg.NewConsumerGroupHeartbeatResponseAssignment()
	out.Topics = []kmsg.ConsumerGroupHeartbeatResponseAssignmentTopic{}
	for _, t := range sortedKeys(a) {
		id, ok := g.topicID(cg, t)
		if !ok {
			continue
		}
		at := kmsg.NewConsumerGroupHeartbeatResponseAssignmentTopic()
		at.TopicID, at.Partitions = id, append([]int32{}, a[t]...)
		out.Topics = append(out.Topics, at)
	}
	return &out
}

// consumerLeave handles MemberEpoch -1 (the member leaves; its partitions
// go to the others) and -2 (a static member leaves for now and keeps its
// partitions until its session expires or its instance rejoins).
func (g *Group) consumerLeave(r *kmsg.ConsumerGroupHeartbeatRequest, resp *kmsg.ConsumerGroupHeartbeatResponse) *hbError {
	cg := g.consumer
	if cg == nil {
		return fail(kerr.GroupIDNotFound, "Group %s is not a consumer group.", g.id)
	}
	m := cg.members[r.MemberID]
	if r.InstanceID != nil {
		m = cg.members[cg.static[*r.InstanceID]]
		if m != nil && m.id != r.MemberID {
			return fail(kerr.FencedInstanceID, "Static member %s with instance id %s was fenced by member %s.", r.MemberID, *r.InstanceID, m.id)
		}
	}
	if m == nil {
		return fail(kerr.UnknownMemberID, "Member %s is not a member of group %s.", r.MemberID, g.id)
	}
	resp.MemberID, resp.MemberEpoch = strPtr(m.id), r.MemberEpoch
	if r.MemberEpoch == leftStaticEpoch {
		m.epoch = leftStaticEpoch
		g.c.logger.Info("static member leaves for now", "group", g.id, "member", m.id)
		return nil
	}
	g.removeConsumerMember(cg, m, "left")
	return nil
}

// removeConsumerMember drops m (left, session expired, or did not revoke
// in time) and computes the next target assignment for the rest.
func (g *Group) removeConsumerMember(cg *consumerGroup, m *consumerMember, why string) {
	g.c.logger.Info("member removed from the consumer group", "group", g.id, "member", m.id, "why", why)
	cg.release(m)
	delete(cg.members, m.id)
	delete(cg.target, m.id)
	if m.instanceID != nil && cg.static[*m.instanceID] == m.id {
		delete(cg.static, *m.instanceID)
	}
	g.refreshRegexes(cg)
	g.refreshTopics(cg)
	cg.epoch++
	g.assignTarget(cg)
	if len(cg.members) == 0 {
		g.setState(Empty) // offsets retention counts from here
	}
}

// consumerTick removes members whose session expired and those that did
// not revoke partitions within their rebalance timeout.
func (g *Group) consumerTick(now time.Time) {
	cg := g.consumer
	for _, m := range cg.sortedMembers() {
		switch {
		case !now.Before(m.sessionDeadline):
			g.removeConsumerMember(cg, m, "session expired")
		case m.state == memberUnrevoked && !now.Before(m.revokeDeadline):
			g.removeConsumerMember(cg, m, "partitions not revoked within the rebalance timeout")
		}
	}
}

func (cg *consumerGroup) sortedMembers() []*consumerMember {
	out := make([]*consumerMember, 0, len(cg.members))
	for _, m := range cg.members {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// state is the group's state as Kafka names it.
func (cg *consumerGroup) state() string {
	switch {
	case len(cg.members) == 0:
		return "Empty"
	case cg.epoch > cg.assignmentEpoch:
		return "Assigning"
	}
	for _, m := range cg.members {
		if m.epoch != cg.assignmentEpoch || m.state != memberStable {
			return "Reconciling"
		}
	}
	return "Stable"
}

// subscribed is the union of the members' subscriptions.
func (cg *consumerGroup) subscribed() map[string]bool {
	out := map[string]bool{}
	for _, m := range cg.members {
		for _, t := range cg.subscription(m) {
			out[t] = true
		}
	}
	return out
}

func sortedUnique(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}
