package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// JoinGroup handles a JoinGroup request. reply is called once: at once
// for errors and settled groups, else when the rebalance completes (from
// another member's request or from Tick).
func (c *Coordinator) JoinGroup(r *kmsg.JoinGroupRequest, cl Client, reply func(*kmsg.JoinGroupResponse)) {
	if code := c.checkJoin(r); code != nil {
		reply(joinError(r, r.MemberID, code))
		return
	}
	g, code := c.lock(r.Group, r.MemberID == "")
	if code == nil && g == nil {
		code = kerr.UnknownMemberID
	}
	if code != nil {
		reply(joinError(r, r.MemberID, code))
		return
	}
	defer c.unlock(g)
	g.join(r, cl, reply)
}

func (c *Coordinator) checkJoin(r *kmsg.JoinGroupRequest) *kerr.Error {
	session := time.Duration(r.SessionTimeoutMillis) * time.Millisecond
	switch {
	case r.Group == "":
		return kerr.InvalidGroupID
	case session < c.cfg.MinSessionTimeout || session > c.cfg.MaxSessionTimeout:
		return kerr.InvalidSessionTimeout
	case r.ProtocolType == "" || len(r.Protocols) == 0:
		return kerr.InconsistentGroupProtocol
	}
	return nil
}

func joinError(r *kmsg.JoinGroupRequest, memberID string, code *kerr.Error) *kmsg.JoinGroupResponse {
	resp := r.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.ErrorCode = code.Code
	resp.Generation = -1
	resp.MemberID = memberID
	if r.Version < 7 {
		resp.Protocol = new(string)
	}
	return resp
}

func (g *Group) join(r *kmsg.JoinGroupRequest, cl Client, reply func(*kmsg.JoinGroupResponse)) {
	if g.consumer != nil {
		if !g.empty() {
			// A consumer-protocol group takes no classic members.
			reply(joinError(r, r.MemberID, kerr.InconsistentGroupProtocol))
			return
		}
		g.consumer = nil // an empty consumer group becomes a classic one
	}
	if !g.supports(r.ProtocolType, r.Protocols) {
		reply(joinError(r, r.MemberID, kerr.InconsistentGroupProtocol))
		return
	}
	if r.MemberID == "" {
		g.joinUnknown(r, cl, reply)
		return
	}
	g.joinKnown(r, cl, reply)
}

// joinUnknown is a first join: a static member replacing its old id, a
// v4+ dynamic member told its id (KIP-394), or an older one added.
func (g *Group) joinUnknown(r *kmsg.JoinGroupRequest, cl Client, reply func(*kmsg.JoinGroupResponse)) {
	prefix := cl.ID
	if r.InstanceID != nil {
		prefix = *r.InstanceID
	}
	id := prefix + "-" + g.c.cfg.NewID()
	if r.InstanceID != nil {
		if old, ok := g.static[*r.InstanceID]; ok && g.members[old] != nil {
			g.replaceStatic(g.members[old], id, r, cl, reply)
			return
		}
		g.addAndRebalance(id, r, cl, reply)
		return
	}
	if r.Version >= 4 {
		g.pending[id] = g.now().Add(time.Duration(r.SessionTimeoutMillis) * time.Millisecond)
		reply(joinError(r, id, kerr.MemberIDRequired))
		return
	}
	g.addAndRebalance(id, r, cl, reply)
}

func (g *Group) joinKnown(r *kmsg.JoinGroupRequest, cl Client, reply func(*kmsg.JoinGroupResponse)) {
	if _, ok := g.pending[r.MemberID]; ok && r.InstanceID == nil {
		delete(g.pending, r.MemberID)
		g.addAndRebalance(r.MemberID, r, cl, reply)
		return
	}
	if code := g.checkMember(r.MemberID, r.InstanceID); code != nil {
		reply(joinError(r, r.MemberID, code))
		return
	}
	m := g.members[r.MemberID]
	switch g.state {
	case PreparingRebalance:
		g.updateAndRebalance(m, r, reply)
	case CompletingRebalance:
		if m.sameProtocols(r.Protocols) {
			reply(g.joinResult(m, r)) // a retry of a join that already completed
			return
		}
		g.updateAndRebalance(m, r, reply)
	case Stable:
		if m.id == g.leader || !m.sameProtocols(r.Protocols) {
			g.updateAndRebalance(m, r, reply)
			return
		}
		resp := g.joinResult(m, r)
		resp.Members = nil
		reply(resp)
	default:
		reply(joinError(r, r.MemberID, kerr.UnknownMemberID))
	}
}

func (g *Group) newMember(id string, r *kmsg.JoinGroupRequest, cl Client) *member {
	m := &member{id: id, clientID: cl.ID, clientHost: cl.Host, isNew: true}
	if r.InstanceID != nil {
		inst := *r.InstanceID
		m.instanceID = &inst
	}
	m.update(r)
	return m
}

func (m *member) update(r *kmsg.JoinGroupRequest) {
	m.sessionTimeout = time.Duration(r.SessionTimeoutMillis) * time.Millisecond
	m.rebalanceTimeout = time.Duration(r.RebalanceTimeoutMillis) * time.Millisecond
	if r.Version == 0 || r.RebalanceTimeoutMillis <= 0 {
		m.rebalanceTimeout = m.sessionTimeout
	}
	m.protocols = m.protocols[:0]
	for _, p := range r.Protocols {
		m.protocols = append(m.protocols, protocol{name: p.Name, metadata: p.Metadata})
	}
}

// setJoin parks m's join; an earlier one still parked (the client gave up
// and retried) is answered first.
func (g *Group) setJoin(m *member, r *kmsg.JoinGroupRequest, reply func(*kmsg.JoinGroupResponse)) {
	g.replyJoinError(m, kerr.RebalanceInProgress)
	m.join = &pendingJoin{req: r, reply: reply}
}

func (g *Group) addAndRebalance(id string, r *kmsg.JoinGroupRequest, cl Client, reply func(*kmsg.JoinGroupResponse)) {
	m := g.newMember(id, r, cl)
	if len(g.members) == 0 {
		g.protocolType = r.ProtocolType
	}
	g.members[id] = m
	if m.instanceID != nil {
		g.static[*m.instanceID] = id
	}
	if g.leader == "" {
		g.leader = id
	}
	g.setJoin(m, r, reply)
	if g.state == PreparingRebalance && g.delayed {
		g.newMemberAdded = true
	}
	if g.state != PreparingRebalance {
		g.prepareRebalance()
	}
	g.maybeCompleteJoin()
}

func (g *Group) updateAndRebalance(m *member, r *kmsg.JoinGroupRequest, reply func(*kmsg.JoinGroupResponse)) {
	m.update(r)
	g.setJoin(m, r, reply)
	if g.state != PreparingRebalance {
		g.prepareRebalance()
	}
	g.maybeCompleteJoin()
}

// replaceStatic gives a rejoining static member a new member id (KIP-345):
// the old id is fenced. A settled group whose chosen protocol stays the
// same does not rebalance: the member gets the current generation back.
func (g *Group) replaceStatic(old *member, id string, r *kmsg.JoinGroupRequest, cl Client, reply func(*kmsg.JoinGroupResponse)) {
	oldID := old.id
	g.replyJoinError(old, kerr.FencedInstanceID)
	g.replySyncError(old, kerr.FencedInstanceID)
	delete(g.members, old.id)
	delete(g.pendingSync, old.id)
	oldLeader := g.leader
	// m is old itself, renamed: compare the leader with the id it had.
	m := old
	m.id, m.clientID, m.clientHost = id, cl.ID, cl.Host
	unchanged := m.sameProtocols(r.Protocols)
	m.update(r)
	g.members[id] = m
	g.static[*m.instanceID] = id
	if oldLeader == oldID {
		g.leader = id
	}
	switch g.state {
	case Stable:
		if unchanged || g.selectProtocol() == g.protocol {
			g.rejoinStable(m, oldLeader, r, reply)
			return
		}
		g.setJoin(m, r, reply)
		g.prepareRebalance()
	case CompletingRebalance:
		g.setJoin(m, r, reply)
		g.prepareRebalance()
	default:
		g.setJoin(m, r, reply)
	}
	g.maybeCompleteJoin()
}

// rejoinStable answers a replaced static member without a rebalance. The
// old leader id is returned so a replaced leader does not assign.
func (g *Group) rejoinStable(m *member, oldLeader string, r *kmsg.JoinGroupRequest, reply func(*kmsg.JoinGroupResponse)) {
	m.deadline = g.now().Add(m.sessionTimeout)
	if err := g.storeGroup(); err != nil {
		reply(joinError(r, "", storeErrorCode(err)))
		return
	}
	resp := g.joinResult(m, r)
	resp.LeaderID = oldLeader
	resp.Members = nil
	reply(resp)
}

// joinResult is the successful JoinGroup answer for m in the current
// generation; the leader gets every member's metadata.
func (g *Group) joinResult(m *member, r *kmsg.JoinGroupRequest) *kmsg.JoinGroupResponse {
	resp := r.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.Generation = g.generation
	resp.ProtocolType = strPtr(g.protocolType)
	resp.Protocol = strPtr(g.protocol)
	resp.LeaderID = g.leader
	resp.MemberID = m.id
	if m.id != g.leader {
		return resp
	}
	for _, o := range g.sortedMembers() {
		rm := kmsg.NewJoinGroupResponseMember()
		rm.MemberID, rm.InstanceID, rm.ProtocolMetadata = o.id, o.instanceID, o.metadataFor(g.protocol)
		resp.Members = append(resp.Members, rm)
	}
	return resp
}

// prepareRebalance starts a rebalance: assignments of an unfinished one
// are dropped, and the join phase gets the largest rebalance timeout, or
// the initial delay for an empty group.
func (g *Group) prepareRebalance() {
	if g.state == CompletingRebalance {
		for _, m := range g.members {
			m.assignment = nil
			g.replySyncError(m, kerr.RebalanceInProgress)
		}
	}
	clear(g.pendingSync)
	timeout := g.maxRebalanceTimeout()
	g.delayed = g.state == Empty && g.c.cfg.InitialRebalanceDelay > 0
	if g.delayed {
		step := min(g.c.cfg.InitialRebalanceDelay, timeout)
		g.newMemberAdded = false
		g.delayRemaining = timeout - step
		timeout = step
	}
	g.rebalanceDeadline = g.now().Add(timeout)
	g.setState(PreparingRebalance)
}

// maybeCompleteJoin completes the join phase once every member (and every
// member told its id) has joined, unless the initial delay holds it.
func (g *Group) maybeCompleteJoin() {
	if g.state != PreparingRebalance || g.delayed || len(g.pending) > 0 {
		return
	}
	for _, m := range g.members {
		if m.join == nil {
			return
		}
	}
	g.completeJoin()
}

// completeJoin ends the join phase: dynamic members that did not rejoin
// are dropped, the next generation starts and every joined member gets
// its answer.
func (g *Group) completeJoin() {
	for _, m := range g.sortedMembers() {
		if m.join == nil && !m.static() {
			g.removeMember(m, kerr.UnknownMemberID)
		}
	}
	if len(g.members) > 0 && !g.electJoinedLeader() {
		// Only static members that have not rejoined: wait another round.
		g.rebalanceDeadline = g.now().Add(g.maxRebalanceTimeout())
		return
	}
	g.generation++
	clear(g.pendingSync)
	if len(g.members) == 0 {
		g.protocol, g.leader = "", ""
		g.setState(Empty)
		if err := g.storeGroup(); err != nil {
			g.c.logger.Warn("storing an empty group failed", "group", g.id, "err", err)
		}
		return
	}
	g.protocol = g.selectProtocol()
	g.setState(CompletingRebalance)
	now := g.now()
	for _, m := range g.sortedMembers() {
		if m.join != nil {
			pj := m.join
			m.join = nil
			pj.reply(g.joinResult(m, pj.req))
		}
		m.isNew = false
		m.deadline = now.Add(m.sessionTimeout)
		g.pendingSync[m.id] = struct{}{}
	}
	g.syncDeadline = now.Add(g.maxRebalanceTimeout())
}

// electJoinedLeader keeps the leader if it rejoined, else picks a member
// that did; false if none did.
func (g *Group) electJoinedLeader() bool {
	if l := g.members[g.leader]; l != nil && l.join != nil {
		return true
	}
	for _, m := range g.sortedMembers() {
		if m.join != nil {
			g.leader = m.id
			return true
		}
	}
	return false
}

func strPtr(s string) *string { return &s }
