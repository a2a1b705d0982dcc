package group

import (
	"bytes"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// State is a classic group's state, named as Kafka names it.
type State int8

// The classic group states.
const (
	Empty State = iota
	PreparingRebalance
	CompletingRebalance
	Stable
	Dead
)

func (s State) String() string {
	switch s {
	case Empty:
		return "Empty"
	case PreparingRebalance:
		return "PreparingRebalance"
	case CompletingRebalance:
		return "CompletingRebalance"
	case Stable:
		return "Stable"
	}
	return "Dead"
}

// Group is one group: its members, generation and committed offsets.
type Group struct {
	c         *Coordinator
	id        string
	partition int32
	dead      atomic.Bool // set under mu; read without it to skip dead groups

	// mu guards everything below.
	mu                sync.Mutex
	state             State
	stateSince        time.Time // zero: unknown (loaded from an old record)
	protocolType      string
	protocol          string
	generation        int32
	leader            string
	members           map[string]*member
	static            map[string]string    // group.instance.id → member id
	pending           map[string]time.Time // MEMBER_ID_REQUIRED member ids → expiry
	pendingSync       map[string]struct{}  // members that must SyncGroup by syncDeadline
	syncDeadline      time.Time
	rebalanceDeadline time.Time
	delayed           bool          // in group.initial.rebalance.delay
	delayRemaining    time.Duration // of the rebalance timeout, after this delay
	newMemberAdded    bool          // during the initial delay
	offsets           map[string]map[int32]offset
	consumer          *consumerGroup // non-nil: the group uses the consumer protocol (consumer.go)

	// producer id → its transaction's pending offsets (txn.go)
	txnOffsets map[int64]map[string]map[int32]offset
}

type offset struct {
	offset      int64
	leaderEpoch int32
	metadata    string
	committed   time.Time
}

type protocol struct {
	name     string
	metadata []byte
}

type member struct {
	id               string
	instanceID       *string
	clientID         string
	clientHost       string
	rebalanceTimeout time.Duration
	sessionTimeout   time.Duration
	protocols        []protocol
	assignment       []byte
	deadline         time.Time // session expiry, while not waiting in join or sync
	isNew            bool

	join *pendingJoin
	sync *pendingSync
}

type pendingJoin struct {
	req   *kmsg.JoinGroupRequest
	reply func(*kmsg.JoinGroupResponse)
}

type pendingSync struct {
	req   *kmsg.SyncGroupRequest
	reply func(*kmsg.SyncGroupResponse)
}

func newGroup(c *Coordinator, id string, p int32) *Group {
	return &Group{
		c: c, id: id, partition: p, stateSince: c.now(),
		members: map[string]*member{}, static: map[string]string{},
		pending: map[string]time.Time{}, pendingSync: map[string]struct{}{},
		offsets: map[string]map[int32]offset{},
	}
}

func (g *Group) now() time.Time { return g.c.now() }

func (g *Group) setState(s State) {
	g.state = s
	g.stateSince = g.now()
}

func (m *member) metadataFor(name string) []byte {
	for _, p := range m.protocols {
		if p.name == name {
			return p.metadata
		}
	}
	return nil
}

func (m *member) sameProtocols(ps []kmsg.JoinGroupRequestProtocol) bool {
	if len(ps) != len(m.protocols) {
		return false
	}
	for i, p := range ps {
		if p.Name != m.protocols[i].name || !bytes.Equal(p.Metadata, m.protocols[i].metadata) {
			return false
		}
	}
	return true
}

func (m *member) static() bool { return m.instanceID != nil }

// sortedMembers returns the members in id order, so every walk is
// deterministic.
func (g *Group) sortedMembers() []*member {
	out := make([]*member, 0, len(g.members))
	for _, m := range g.members {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// supports reports whether a member with this protocol type and these
// protocols may join: any non-empty set when the group has no members,
// else the same type and at least one protocol every member supports.
func (g *Group) supports(protocolType string, ps []kmsg.JoinGroupRequestProtocol) bool {
	if len(g.members) == 0 {
		return protocolType != "" && len(ps) > 0
	}
	if protocolType != g.protocolType {
		return false
	}
	counts := g.protocolCounts()
	for _, p := range ps {
		if counts[p.Name] == len(g.members) {
			return true
		}
	}
	return false
}

func (g *Group) protocolCounts() map[string]int {
	counts := map[string]int{}
	for _, m := range g.members {
		for _, p := range m.protocols {
			counts[p.name]++
		}
	}
	return counts
}

// selectProtocol picks the protocol all members support that most members
// prefer (each votes for its first supported one); ties go to the leader's
// preference order.
func (g *Group) selectProtocol() string {
	counts := g.protocolCounts()
	votes := map[string]int{}
	for _, m := range g.members {
		for _, p := range m.protocols {
			if counts[p.name] == len(g.members) {
				votes[p.name]++
				break
			}
		}
	}
	best, bestVotes := "", -1
	order := g.sortedMembers()
	if l := g.members[g.leader]; l != nil {
		order = append([]*member{l}, order...)
	}
	for _, m := range order {
		for _, p := range m.protocols {
			if v, ok := votes[p.name]; ok && v > bestVotes {
				best, bestVotes = p.name, v
			}
		}
	}
	return best
}

func (g *Group) maxRebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

// checkMember is Kafka's validation of a request's member: a static
// member's instance id that maps to another member id is fenced; an
// unknown member id is unknown.
func (g *Group) checkMember(memberID string, instanceID *string) *kerr.Error {
	if instanceID != nil {
		if cur, ok := g.static[*instanceID]; ok && cur != memberID {
			return kerr.FencedInstanceID
		}
	}
	if g.members[memberID] == nil {
		return kerr.UnknownMemberID
	}
	return nil
}

// failWaiters answers every waiting join and sync with code.
func (g *Group) failWaiters(code *kerr.Error) {
	for _, m := range g.sortedMembers() {
		g.replyJoinError(m, code)
		g.replySyncError(m, code)
	}
}

func (g *Group) replyJoinError(m *member, code *kerr.Error) {
	if m.join == nil {
		return
	}
	pj := m.join
	m.join = nil
	m.deadline = g.now().Add(m.sessionTimeout)
	pj.reply(joinError(pj.req, m.id, code))
}

func (g *Group) replySyncError(m *member, code *kerr.Error) {
	if m.sync == nil {
		return
	}
	ps := m.sync
	m.sync = nil
	m.deadline = g.now().Add(m.sessionTimeout)
	ps.reply(syncError(ps.req, code))
}

// removeMember drops m, answering anything it waits on, and moves the
// leadership if it led.
func (g *Group) removeMember(m *member, code *kerr.Error) {
	g.replyJoinError(m, code)
	g.replySyncError(m, code)
	delete(g.members, m.id)
	delete(g.pendingSync, m.id)
	if m.instanceID != nil && g.static[*m.instanceID] == m.id {
		delete(g.static, *m.instanceID)
	}
	if g.leader == m.id {
		g.leader = ""
		if ms := g.sortedMembers(); len(ms) > 0 {
			g.leader = ms[0].id
		}
	}
}

// removeAndUpdate removes m and moves the group on: a rebalance when it
// was settled, a join that may now complete when one is in progress.
func (g *Group) removeAndUpdate(m *member) {
	g.removeMember(m, kerr.UnknownMemberID)
	switch g.state {
	case Stable, CompletingRebalance:
		g.prepareRebalance()
		g.maybeCompleteJoin()
	case PreparingRebalance:
		g.maybeCompleteJoin()
	}
}
