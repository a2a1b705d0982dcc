package quorum

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// This file holds the controller's decisions: pure functions of an image
// (and of time passed in) that the raft leader uses before proposing, and
// that apply uses where a decision must be atomic with a command.

// ElectLeader picks a leader for p among brokers isLive accepts: the
// current leader while it stays live and in the ISR, else the first
// replica (in replica order, so the preferred one first) that is live and
// in the ISR. With unclean set and no such replica, it picks the first
// live replica and reports unclean (the caller resets the ISR to it).
// NoLeader when no replica qualifies.
func ElectLeader(p Partition, isLive func(int32) bool, unclean bool) (leader int32, isUnclean bool) {
	if p.Leader != NoLeader && isLive(p.Leader) && slices.Contains(p.ISR, p.Leader) {
		return p.Leader, false
	}
	for _, r := range p.Replicas {
		if isLive(r) && slices.Contains(p.ISR, r) {
			return r, false
		}
	}
	if unclean {
		for _, r := range p.Replicas {
			if isLive(r) {
				return r, true
			}
		}
	}
	return NoLeader, false
}

// PartitionChange is one partition's state before and after a decision.
type PartitionChange struct {
	Topic     string
	Partition int32
	Old, New  Partition
}

// OnBrokerFenced returns the partition changes fencing broker id makes,
// KRaft's way: id leaves every ISR it is not the last member of; where it
// led, leadership moves to the first live ISR replica (or, when the
// topic allows unclean election, any live replica, whose ISR becomes just
// itself), else to NoLeader; leader epochs grow with every leader change.
// FenceBroker's apply makes exactly these changes in the same log entry,
// so no image ever names a fenced broker as a leader.
func OnBrokerFenced(img *Image, id int32) []PartitionChange {
	return partitionChangesOnFence(img, id)
}

func partitionChangesOnFence(img *Image, id int32) []PartitionChange {
	isLive := func(b int32) bool { return b != id && img.IsLive(b) }
	var out []PartitionChange
	for _, name := range img.TopicNames() {
		for i, p := range img.Topics[name].Partitions {
			inISR := slices.Contains(p.ISR, id)
			if !inISR && p.Leader != id {
				continue
			}
			np := p.clone()
			if inISR && len(p.ISR) > 1 {
				np.ISR = without(p.ISR, []int32{id})
			}
			if p.Leader == id {
				leader, unclean := ElectLeader(np, isLive, uncleanEnabled(img, name))
				if unclean {
					np.ISR = []int32{leader}
				}
				setLeader(&np, leader)
			} else if len(np.ISR) != len(p.ISR) {
				np.PartitionEpoch++
			} else {
				continue
			}
			out = append(out, PartitionChange{Topic: name, Partition: int32(i), Old: p, New: np})
		}
	}
	return out
}

// ValidateReplicas checks a replica list for a new partition or a
// reassignment target: not empty, rf long when rf > 0, no duplicates,
// every broker registered and, with requireLive, unfenced. The error
// wraps INVALID_REPLICA_ASSIGNMENT.
func ValidateReplicas(img *Image, replicas []int32, rf int, requireLive bool) error {
	if len(replicas) == 0 {
		return kafkaErr(kerr.InvalidReplicaAssignment, "empty replica list")
	}
	if rf > 0 && len(replicas) != rf {
		return kafkaErr(kerr.InvalidReplicaAssignment, "replicas %v: want %d replicas", replicas, rf)
	}
	for i, r := range replicas {
		if slices.Contains(replicas[:i], r) {
			return kafkaErr(kerr.InvalidReplicaAssignment, "replicas %v: broker %d twice", replicas, r)
		}
		b, ok := img.Brokers[r]
		if !ok {
			return kafkaErr(kerr.InvalidReplicaAssignment, "replicas %v: broker %d is not registered", replicas, r)
		}
		if requireLive && b.Fenced {
			return kafkaErr(kerr.InvalidReplicaAssignment, "replicas %v: broker %d is fenced", replicas, r)
		}
	}
	return nil
}

// ReassignmentSteps says how a partition moves from current to target
// replicas: while moving, its replicas are target followed by the
// current replicas not in target; adding = target − current,
// removing = current − target. The move completes when every target
// replica is in the ISR: then replicas become target.
func ReassignmentSteps(current, target []int32) (replicas, adding, removing []int32) {
	removing = without(current, target)
	adding = without(target, current)
	replicas = append(slices.Clone(target), removing...)
	return replicas, adding, removing
}

// startReassignment moves p towards target (validated by the caller).
// A running reassignment is replaced, measured from its original replicas.
func startReassignment(p Partition, target []int32, isLive func(int32) bool) (Partition, error) {
	orig := without(p.Replicas, p.AddingReplicas)
	if slices.Equal(target, orig) {
		if p.Reassigning() {
			return cancelReassignment(p, isLive)
		}
		return p, nil
	}
	np := p.clone()
	np.Replicas, np.AddingReplicas, np.RemovingReplicas = ReassignmentSteps(orig, target)
	np.ISR = intersect(p.ISR, np.Replicas)
	if len(np.ISR) == 0 {
		return p, kafkaErr(kerr.InvalidReplicaAssignment, "no in-sync replica of %v would remain", target)
	}
	np.PartitionEpoch++
	if len(np.AddingReplicas) == 0 {
		np.AddingReplicas = nil
	}
	if len(np.RemovingReplicas) == 0 {
		np.RemovingReplicas = nil
	}
	completeReassignment(&np, isLive)
	if !slices.Contains(np.ISR, np.Leader) {
		leader, _ := ElectLeader(np, isLive, false)
		np.Leader, np.LeaderEpoch = leader, np.LeaderEpoch+1
	}
	return np, nil
}

// cancelReassignment returns p to its original replicas.
func cancelReassignment(p Partition, isLive func(int32) bool) (Partition, error) {
	if !p.Reassigning() {
		return p, kafkaErr(kerr.NoReassignmentInProgress, "cancel")
	}
	np := p.clone()
	np.Replicas = without(p.Replicas, p.AddingReplicas)
	np.ISR = without(p.ISR, p.AddingReplicas)
	if len(np.ISR) == 0 {
		return p, kafkaErr(kerr.InvalidReplicaAssignment, "cancelling would leave no in-sync replica")
	}
	np.AddingReplicas, np.RemovingReplicas = nil, nil
	np.PartitionEpoch++
	if !slices.Contains(np.ISR, np.Leader) {
		leader, _ := ElectLeader(np, isLive, false)
		np.Leader, np.LeaderEpoch = leader, np.LeaderEpoch+1
	}
	return np, nil
}

// completeReassignment finishes p's reassignment when every target
// replica is in the ISR, moving leadership off a removed leader. It does
// not bump the partition epoch (the caller's change does).
func completeReassignment(p *Partition, isLive func(int32) bool) bool {
	if !p.Reassigning() {
		return false
	}
	target := p.TargetReplicas()
	for _, r := range target {
		if !slices.Contains(p.ISR, r) {
			return false
		}
	}
	p.Replicas = target
	p.ISR = intersect(p.ISR, target)
	p.AddingReplicas, p.RemovingReplicas = nil, nil
	if !slices.Contains(target, p.Leader) {
		leader, _ := ElectLeader(*p, isLive, false)
		p.Leader, p.LeaderEpoch = leader, p.LeaderEpoch+1
	}
	return true
}

// intersect returns the members of a also in b, in a's order.
func intersect(a, b []int32) []int32 {
	out := make([]int32, 0, len(a))
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// PlaceReplicas assigns rf replicas to each of n new partitions over the
// live brokers, rack-aware like Kafka's rack-aware assignment: brokers are
// arranged alternating racks (a1 b1 c1 a2 b2 …); partition i's leader is
// the (start+i)th of that list, so leaders spread over racks and brokers;
// followers are taken at a shift that grows every len(brokers)
// partitions, skipping brokers whose rack already holds a replica until
// every rack does. start picks the rotation (the leader passes a random or
// a per-topic value; CreatePartitions passes the existing partition count
// plus that value). Fenced brokers are never chosen. Errors wrap
// INVALID_PARTITIONS or INVALID_REPLICATION_FACTOR.
func PlaceReplicas(img *Image, n, rf, start int) ([][]int32, error) {
	if n <= 0 {
		return nil, kafkaErr(kerr.InvalidPartitions, "place %d partitions", n)
	}
	live := img.LiveBrokers()
	if rf <= 0 || rf > len(live) {
		return nil, kafkaErr(kerr.InvalidReplicationFactor,
			"replication factor %d: only %d broker(s) are live", rf, len(live))
	}
	arranged, rackOf := rackAlternated(live)
	nb, nr := len(arranged), len(distinct(rackOf))
	if start < 0 {
		start = -start
	}
	startIndex, shift := start%nb, start%nb
	out := make([][]int32, 0, n)
	for i := range n {
		if i > 0 && i%nb == 0 {
			shift++
		}
		first := (i + startIndex) % nb
		out = append(out, placeOne(arranged, rackOf, first, shift*nr, rf))
	}
	return out, nil
}

// placeOne picks one partition's replicas, the leader at first.
func placeOne(arranged []int32, rackOf map[int32]string, first, shift, rf int) []int32 {
	nb := len(arranged)
	replicas := []int32{arranged[first]}
	racks := map[string]bool{rackOf[arranged[first]]: true}
	nr := len(distinct(rackOf))
	for k := 0; len(replicas) < rf; k++ {
		b := arranged[(first+1+(shift+k)%(nb-1))%nb]
		rackOK := !racks[rackOf[b]] || len(racks) == nr
		if rackOK && !slices.Contains(replicas, b) {
			replicas = append(replicas, b)
			racks[rackOf[b]] = true
		}
		if k > 2*nb*nb {
			panic(fmt.Sprintf("quorum: placement of %d replicas over %d brokers does not terminate", rf, nb))
		}
	}
	return replicas
}

// rackAlternated lists brokers alternating racks (racks sorted, brokers
// by id within a rack); brokers without a rack share the rack "".
func rackAlternated(brokers []Broker) ([]int32, map[int32]string) {
	rackOf := map[int32]string{}
	byRack := map[string][]int32{}
	for _, b := range brokers {
		rackOf[b.ID] = b.Rack
		byRack[b.Rack] = append(byRack[b.Rack], b.ID)
	}
	racks := distinct(rackOf)
	var out []int32
	for i := 0; len(out) < len(brokers); i++ {
		for _, r := range racks {
			if i < len(byRack[r]) {
				out = append(out, byRack[r][i])
			}
		}
	}
	return out, rackOf
}

func distinct(rackOf map[int32]string) []string {
	set := map[string]bool{}
	for _, r := range rackOf {
		set[r] = true
	}
	out := make([]string, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// HeartbeatTracker remembers when each broker last heartbeated, for the
// leader to fence brokers after broker.session.timeout.ms. It is a plain
// value owned by one goroutine (the controller loop), not safe for
// concurrent use. Time is passed in. A new leader calls Beat for every
// registered broker when it takes over, so brokers get a full session
// before it fences them (KRaft does the same).
type HeartbeatTracker struct {
	last map[int32]time.Time
}

// NewHeartbeatTracker returns an empty tracker.
func NewHeartbeatTracker() *HeartbeatTracker {
	return &HeartbeatTracker{last: map[int32]time.Time{}}
}

// Beat records a heartbeat from id at now.
func (h *HeartbeatTracker) Beat(id int32, now time.Time) { h.last[id] = now }

// Admit tracks id as last heard from at since, unless it is tracked
// already.
func (h *HeartbeatTracker) Admit(id int32, since time.Time) {
	if _, ok := h.last[id]; !ok {
		h.last[id] = since
	}
}

// Forget stops tracking id (it was unregistered).
func (h *HeartbeatTracker) Forget(id int32) { delete(h.last, id) }

// Expired returns the brokers whose last heartbeat is more than
// sessionTimeout before now, sorted.
func (h *HeartbeatTracker) Expired(now time.Time, sessionTimeout time.Duration) []int32 {
	var out []int32
	for id, t := range h.last {
		if now.Sub(t) > sessionTimeout {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// FenceExpired returns the FenceBroker commands for live brokers whose
// session expired at now. Each names the broker's epoch, so a broker that
// re-registered meanwhile is not fenced by a stale decision.
func FenceExpired(img *Image, h *HeartbeatTracker, now time.Time, sessionTimeout time.Duration) []Command {
	var out []Command
	for _, id := range h.Expired(now, sessionTimeout) {
		if b, ok := img.Brokers[id]; ok && !b.Fenced {
			out = append(out, FenceBroker{ID: id, Epoch: b.Epoch})
		}
	}
	return out
}

// OnHeartbeat decides what a broker heartbeat means: an error for an
// unknown broker or a stale epoch; an UnfenceBroker command when a fenced
// broker reports it has caught up with the metadata log; else nil.
func OnHeartbeat(img *Image, id int32, epoch int64, caughtUp bool) (Command, error) {
	b, err := checkBrokerEpoch(img, id, epoch, "heartbeat")
	if err != nil {
		return nil, err
	}
	if b.Fenced && caughtUp {
		return UnfenceBroker{ID: id, Epoch: b.Epoch}, nil
	}
	return nil, nil
}
