package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Heartbeat handles a Heartbeat request: it keeps the member's session
// alive and tells it about a rebalance in progress.
func (c *Coordinator) Heartbeat(r *kmsg.HeartbeatRequest) *kmsg.HeartbeatResponse {
	resp := r.ResponseKind().(*kmsg.HeartbeatResponse)
	resp.ErrorCode = c.heartbeat(r).Code
	return resp
}

func (c *Coordinator) heartbeat(r *kmsg.HeartbeatRequest) *kerr.Error {
	if r.Group == "" {
		return kerr.InvalidGroupID
	}
	g, code := c.lock(r.Group, false)
	if code != nil {
		return code
	}
	if g == nil {
		return kerr.UnknownMemberID
	}
	defer c.unlock(g)
	if code := g.checkMember(r.MemberID, r.InstanceID); code != nil {
		return code
	}
	if r.Generation != g.generation {
		return kerr.IllegalGeneration
	}
	m := g.members[r.MemberID]
	m.deadline = g.now().Add(m.sessionTimeout)
	if g.state == PreparingRebalance {
		return kerr.RebalanceInProgress
	}
	return noError
}

// noError is the zero code: kerr has no entry for success.
var noError = &kerr.Error{Message: "NONE", Code: 0}

// LeaveGroup handles a LeaveGroup request: one member (v0–v2) or a batch
// identified by member id or group.instance.id (v3+).
func (c *Coordinator) LeaveGroup(r *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse {
	resp := r.ResponseKind().(*kmsg.LeaveGroupResponse)
	leaving := r.Members
	if r.Version < 3 {
		lm := kmsg.NewLeaveGroupRequestMember()
		lm.MemberID = r.MemberID
		leaving = []kmsg.LeaveGroupRequestMember{lm}
	}
	codes, top := c.leave(r.Group, leaving)
	if r.Version < 3 {
		if top == nil {
			top = codes[0]
		}
		resp.ErrorCode = top.Code
		return resp
	}
	if top != nil {
		resp.ErrorCode = top.Code
		return resp
	}
	for i, lm := range leaving {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID, rm.ErrorCode = lm.MemberID, lm.InstanceID, codes[i].Code
		resp.Members = append(resp.Members, rm)
	}
	return resp
}

// leave returns one code per leaving member, or a group-level error.
func (c *Coordinator) leave(id string, leaving []kmsg.LeaveGroupRequestMember) ([]*kerr.Error, *kerr.Error) {
	if id == "" {
		return nil, kerr.InvalidGroupID
	}
	g, code := c.lock(id, false)
	if code != nil {
		return nil, code
	}
	codes := make([]*kerr.Error, len(leaving))
	if g == nil {
		for i := range codes {
			codes[i] = kerr.UnknownMemberID
		}
		return codes, nil
	}
	defer c.unlock(g)
	for i, lm := range leaving {
		codes[i] = g.leaveOne(lm)
	}
	return codes, nil
}

func (g *Group) leaveOne(lm kmsg.LeaveGroupRequestMember) *kerr.Error {
	id := lm.MemberID
	if lm.InstanceID != nil {
		cur, ok := g.static[*lm.InstanceID]
		switch {
		case !ok:
			return kerr.UnknownMemberID
		case id != "" && id != cur:
			return kerr.FencedInstanceID
		}
		id = cur
	}
	if _, ok := g.pending[id]; ok {
		delete(g.pending, id)
		g.maybeCompleteJoin()
		return noError
	}
	m := g.members[id]
	if m == nil {
		return kerr.UnknownMemberID
	}
	g.removeAndUpdate(m)
	return noError
}

// tick fires the group's passed deadlines.
func (g *Group) tick(now time.Time) {
	if g.consumer != nil {
		g.consumerTick(now)
		return
	}
	for id, exp := range g.pending {
		if !now.Before(exp) {
			delete(g.pending, id)
			g.maybeCompleteJoin()
		}
	}
	for _, m := range g.sortedMembers() {
		if m.join == nil && m.sync == nil && !now.Before(m.deadline) && g.members[m.id] == m {
			g.c.logger.Info("member session expired", "group", g.id, "member", m.id)
			g.removeAndUpdate(m)
		}
	}
	if g.state == PreparingRebalance && !now.Before(g.rebalanceDeadline) {
		g.rebalanceExpired(now)
	}
	if (g.state == CompletingRebalance || g.state == Stable) && len(g.pendingSync) > 0 && !now.Before(g.syncDeadline) {
		g.syncExpired()
	}
}

// rebalanceExpired ends the join phase's wait: the initial delay extends
// itself while new members keep arriving (up to the rebalance timeout);
// otherwise the join completes with whoever rejoined.
func (g *Group) rebalanceExpired(now time.Time) {
	if g.delayed && g.newMemberAdded && g.delayRemaining > 0 {
		step := min(g.c.cfg.InitialRebalanceDelay, g.delayRemaining)
		g.newMemberAdded = false
		g.delayRemaining -= step
		g.rebalanceDeadline = now.Add(step)
		return
	}
	g.delayed = false
	g.completeJoin()
}

// syncExpired removes members that joined but never synced, and
// rebalances without them.
func (g *Group) syncExpired() {
	for _, m := range g.sortedMembers() {
		if _, ok := g.pendingSync[m.id]; ok {
			g.c.logger.Info("member did not sync within the rebalance timeout", "group", g.id, "member", m.id)
			g.removeAndUpdate(m)
		}
	}
}
