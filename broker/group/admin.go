package group

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupOperations are the ACL operations a group allows, as a bit field
// (READ 3, DELETE 6, DESCRIBE 8): all of them, there are no ACLs yet.
const groupOperations = 1<<3 | 1<<6 | 1<<8

// DescribeGroups handles a DescribeGroups request. An unknown group is
// described as Dead, as Kafka does before v6. Member metadata and
// assignments are shown only in a Stable group.
func (c *Coordinator) DescribeGroups(r *kmsg.DescribeGroupsRequest) *kmsg.DescribeGroupsResponse {
	resp := r.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, id := range r.Groups {
		sg := kmsg.NewDescribeGroupsResponseGroup()
		sg.Group, sg.State = id, Dead.String()
		sg.AuthorizedOperations = -2147483648
		if r.IncludeAuthorizedOperations {
			sg.AuthorizedOperations = groupOperations
		}
		g, code := c.lock(id, false)
		switch {
		case code != nil:
			sg.ErrorCode = code.Code
		case g != nil && g.consumer != nil:
			c.unlock(g) // not a classic group: described as Dead, as Kafka does before v6
		case g != nil:
			g.describe(&sg)
			c.unlock(g)
		}
		resp.Groups = append(resp.Groups, sg)
	}
	return resp
}

func (g *Group) describe(sg *kmsg.DescribeGroupsResponseGroup) {
	sg.State, sg.ProtocolType = g.state.String(), g.protocolType
	if g.state == Stable {
		sg.Protocol = g.protocol
	}
	for _, m := range g.sortedMembers() {
		sm := kmsg.NewDescribeGroupsResponseGroupMember()
		sm.MemberID, sm.InstanceID, sm.ClientID, sm.ClientHost = m.id, m.instanceID, m.clientID, m.clientHost
		sm.ProtocolMetadata, sm.MemberAssignment = []byte{}, []byte{}
		if g.state == Stable {
			sm.ProtocolMetadata = m.metadataFor(g.protocol)
			if m.assignment != nil {
				sm.MemberAssignment = m.assignment
			}
		}
		sg.Members = append(sg.Members, sm)
	}
}

// ListGroups handles a ListGroups request (v4: filtered by state, case
// insensitively). While a partition loads, its groups are left out and
// the answer carries COORDINATOR_LOAD_IN_PROGRESS.
func (c *Coordinator) ListGroups(r *kmsg.ListGroupsRequest) *kmsg.ListGroupsResponse {
	resp := r.ResponseKind().(*kmsg.ListGroupsResponse)
	c.mu.RLock()
	if c.mu.partitions.AnyLoading() {
		resp.ErrorCode = kerr.CoordinatorLoadInProgress.Code
	}
	c.mu.RUnlock()
	for _, g := range c.snapshot() {
		g.mu.Lock()
		dead, state, ptype, gtype := g.dead.Load(), g.state.String(), g.protocolType, "classic"
		if g.consumer != nil {
			state, ptype, gtype = g.consumer.state(), "consumer", "consumer"
		}
		g.mu.Unlock()
		if dead || !stateWanted(r.StatesFilter, state) || !stateWanted(r.TypesFilter, gtype) {
			continue
		}
		sg := kmsg.NewListGroupsResponseGroup()
		sg.Group, sg.ProtocolType, sg.GroupState, sg.GroupType = g.id, ptype, state, gtype
		resp.Groups = append(resp.Groups, sg)
	}
	return resp
}

func stateWanted(filter []string, state string) bool {
	if len(filter) == 0 {
		return true
	}
	for _, f := range filter {
		if strings.EqualFold(f, state) {
			return true
		}
	}
	return false
}

// DeleteGroups handles a DeleteGroups request: an empty group's offsets
// and metadata are tombstoned; a group with members is NON_EMPTY_GROUP.
func (c *Coordinator) DeleteGroups(r *kmsg.DeleteGroupsRequest) *kmsg.DeleteGroupsResponse {
	resp := r.ResponseKind().(*kmsg.DeleteGroupsResponse)
	for _, id := range r.Groups {
		sg := kmsg.NewDeleteGroupsResponseGroup()
		sg.Group = id
		sg.ErrorCode = c.deleteGroup(id).Code
		resp.Groups = append(resp.Groups, sg)
	}
	return resp
}

func (c *Coordinator) deleteGroup(id string) *kerr.Error {
	g, code := c.lock(id, false)
	if code != nil {
		return code
	}
	if g == nil {
		return kerr.GroupIDNotFound
	}
	defer c.unlock(g)
	if g.state != Empty || !g.empty() {
		return kerr.NonEmptyGroup
	}
	var recs []record
	for _, t := range sortedKeys(g.offsets) {
		for _, p := range sortedKeys(g.offsets[t]) {
			recs = append(recs, offsetRecord(g.id, t, p, nil))
		}
	}
	if err := g.deleteOffsets(recs); err != nil {
		return storeErrorCode(err)
	}
	g.failWaiters(kerr.UnknownMemberID)
	clear(g.pending)
	if err := g.deleteGroup(); err != nil {
		return storeErrorCode(err)
	}
	return noError
}
