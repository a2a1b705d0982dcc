package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SyncGroup handles a SyncGroup request. reply is called once: at once in
// a settled group or on error, else when the leader's assignment is stored.
func (c *Coordinator) SyncGroup(r *kmsg.SyncGroupRequest, reply func(*kmsg.SyncGroupResponse)) {
	if r.Group == "" {
		reply(syncError(r, kerr.InvalidGroupID))
		return
	}
	g, code := c.lock(r.Group, false)
	if code == nil && g == nil {
		code = kerr.UnknownMemberID
	}
	if code != nil {
		reply(syncError(r, code))
		return
	}
	defer c.unlock(g)
	g.sync(r, reply)
}

func syncError(r *kmsg.SyncGroupRequest, code *kerr.Error) *kmsg.SyncGroupResponse {
	resp := r.ResponseKind().(*kmsg.SyncGroupResponse)
	resp.ErrorCode = code.Code
	resp.MemberAssignment = []byte{}
	return resp
}

func (g *Group) checkSync(r *kmsg.SyncGroupRequest) *kerr.Error {
	if code := g.checkMember(r.MemberID, r.InstanceID); code != nil {
		return code
	}
	switch {
	case r.Generation != g.generation:
		return kerr.IllegalGeneration
	case r.ProtocolType != nil && *r.ProtocolType != g.protocolType,
		r.Protocol != nil && *r.Protocol != g.protocol:
		return kerr.InconsistentGroupProtocol
	case g.state == PreparingRebalance:
		return kerr.RebalanceInProgress
	case g.state != CompletingRebalance && g.state != Stable:
		return kerr.UnknownMemberID
	}
	return nil
}

func (g *Group) sync(r *kmsg.SyncGroupRequest, reply func(*kmsg.SyncGroupResponse)) {
	if code := g.checkSync(r); code != nil {
		reply(syncError(r, code))
		return
	}
	m := g.members[r.MemberID]
	delete(g.pendingSync, m.id)
	m.deadline = g.now().Add(m.sessionTimeout)
	if g.state == Stable {
		reply(g.syncResult(m, r))
		return
	}
	g.replySyncError(m, kerr.RebalanceInProgress)
	m.sync = &pendingSync{req: r, reply: reply}
	if m.id == g.leader {
		g.applyAssignment(r)
	}
}

func (g *Group) syncResult(m *member, r *kmsg.SyncGroupRequest) *kmsg.SyncGroupResponse {
	resp := r.ResponseKind().(*kmsg.SyncGroupResponse)
	resp.ProtocolType = strPtr(g.protocolType)
	resp.Protocol = strPtr(g.protocol)
	resp.MemberAssignment = m.assignment
	if resp.MemberAssignment == nil {
		resp.MemberAssignment = []byte{}
	}
	return resp
}

// applyAssignment takes the leader's assignment (members it leaves out get
// none), stores the group and, once stored, answers every waiting sync and
// settles the group. A failed store restarts the rebalance.
func (g *Group) applyAssignment(r *kmsg.SyncGroupRequest) {
	given := map[string][]byte{}
	for _, a := range r.GroupAssignment {
		given[a.MemberID] = a.MemberAssignment
	}
	for _, m := range g.members {
		m.assignment = given[m.id]
	}
	if err := g.storeGroup(); err != nil {
		code := storeErrorCode(err)
		for _, m := range g.members {
			m.assignment = nil
			g.replySyncError(m, code)
		}
		g.prepareRebalance()
		return
	}
	g.setState(Stable)
	for _, m := range g.sortedMembers() {
		if m.sync != nil {
			ps := m.sync
			m.sync = nil
			m.deadline = g.now().Add(m.sessionTimeout)
			ps.reply(g.syncResult(m, ps.req))
		}
	}
}
