// Package replica is a partition's replication state on one broker: its
// role (leader or follower), leader epoch, replica set and ISR, and, on the
// leader, each follower's log end offset, the high watermark and the ISR
// changes to ask the controller for.
//
// It is a deterministic core: no I/O, no goroutines, time passed in. The
// server feeds it (metadata changes, follower fetches, local appends) and
// acts on what it returns (wake parked requests when the high watermark
// moves, send AlterPartition for ISR changes). Kafka's rules, as in its
// Partition class:
//
//   - The high watermark is the smallest log end offset over the maximal
//     ISR: the committed ISR plus any member whose addition is pending at
//     the controller (KIP-497), so a pending change never lets the
//     watermark run ahead of a replica that may count toward it.
//   - A follower is caught up as of now when it fetches at or past the
//     leader's log end offset, and as of its previous fetch when it fetches
//     at or past what the leader had then; it leaves the ISR after
//     replica.lag.time.max.ms without catching up.
//   - A follower joins the ISR once its log end offset reaches the high
//     watermark and the start of the current leader epoch.
//   - Only one ISR change is in flight at a time.
//   - The controller's answer to an ISR change is applied only if it is for
//     the current leader epoch and not older than the partition epoch
//     known; otherwise the change stays pending (its additions still count)
//     until metadata says what happened (Kafka's handleAlterPartitionUpdate).
//   - Metadata older than what the leader already knows (a partition epoch
//     below the one an ISR change answer carried) is ignored, as Kafka's
//     makeLeader skips a partition epoch below its own: the metadata a
//     broker applies may lag the controller's answer, and applying it would
//     roll the ISR back and drop a pending addition, letting the high
//     watermark pass a replica the controller already counts (or has
//     already made leader).
package replica

import (
	"cmp"
	"slices"
	"time"
)

// Role is what this broker is for a partition.
type Role int8

const (
	None Role = iota
	Leader
	Follower
)

func (r Role) String() string {
	return [...]string{"none", "leader", "follower"}[r]
}

// Assignment is the controller's view of a partition, from metadata.
type Assignment struct {
	Leader         int32
	LeaderEpoch    int32
	PartitionEpoch int32
	Replicas       []int32
	ISR            []int32
}

// follower is the leader's view of one follower replica.
type follower struct {
	leo            int64
	lastFetchLEO   int64     // leader LEO at this follower's previous fetch
	lastCaughtUp   time.Time // last time it fetched at or past lastFetchLEO
	lastFetch      time.Time
	fetchedSinceUp bool
}

// Partition is one partition's replication state. It is not safe for
// concurrent use: the caller holds its lock (broker/replication.Replica).
type Partition struct {
	self   int32
	role   Role
	assign Assignment
	hw     int64

	// Leader only.
	followers   map[int32]*follower
	epochStart  int64     // log end offset when this leader epoch began
	pendingISR  []int32   // proposed ISR awaiting the controller, nil if none
	pendingFrom int32     // partition epoch the proposal was based on
	retryAt     time.Time // no new ISR proposal before this (after a failure)
	resend      bool      // the pending change's outcome is unknown: send it again at retryAt
	settled     int       // TakeSettled: -1 a change of ours shrank the ISR, +1 expanded it
}

// New returns the state of a partition this broker hosts but does not yet
// serve.
func New(self int32) *Partition {
	return &Partition{self: self, role: None, hw: 0}
}

// SetHighWatermark sets the starting high watermark of a partition not
// yet serving (from the checkpoint written before a restart).
func (p *Partition) SetHighWatermark(hw int64) {
	if p.role == None {
		p.hw = hw
	}
}

// Role is this broker's role.
func (p *Partition) Role() Role { return p.role }

// Assignment is the last assignment applied.
func (p *Partition) Assignment() Assignment { return p.assign }

// LeaderEpoch is the current leader epoch.
func (p *Partition) LeaderEpoch() int32 { return p.assign.LeaderEpoch }

// HighWatermark is the offset below which records are committed.
func (p *Partition) HighWatermark() int64 { return p.hw }

// ISR is the committed ISR.
func (p *Partition) ISR() []int32 { return p.assign.ISR }

// HighWatermarkKnown reports whether a leader's high watermark has reached
// the start of its leader epoch (its log end offset when elected). Until
// then it may be below records the previous leader committed: a new
// leader's high watermark is the one it had as a follower, which lags the
// old leader's by a fetch, and moves up only once its followers have
// fetched from it. Kafka answers ListOffsets with OFFSET_NOT_AVAILABLE
// meanwhile (KIP-207), so no client takes that stale value for the end of
// the log. Always true for a broker that does not lead.
func (p *Partition) HighWatermarkKnown() bool {
	return p.role != Leader || p.hw >= p.epochStart
}

// MaximalISR is the ISR the leader counts for the high watermark and
// acks=all: committed members plus pending additions.
func (p *Partition) MaximalISR() []int32 {
	if p.pendingISR == nil {
		return p.assign.ISR
	}
	out := slices.Clone(p.assign.ISR)
	for _, r := range p.pendingISR {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// Stale reports whether a is older than the assignment already applied:
// an earlier leader epoch, or the same one with an earlier partition epoch
// (metadata lagging behind an ISR change answer). Stale assignments must
// not be applied.
func (p *Partition) Stale(a Assignment) bool {
	if p.role == None {
		return false
	}
	cur := p.assign
	return a.LeaderEpoch < cur.LeaderEpoch || a.LeaderEpoch == cur.LeaderEpoch && a.PartitionEpoch < cur.PartitionEpoch
}

// BecomeLeader applies an assignment naming this broker leader. leo is the
// local log end offset; hw the checkpointed high watermark (clamped).
// Followers' log end offsets start unknown, as after a Kafka election.
func (p *Partition) BecomeLeader(a Assignment, leo, hw int64, now time.Time) {
	cur := p.assign
	newEpoch := p.role != Leader || a.LeaderEpoch != p.assign.LeaderEpoch
	if !newEpoch {
		for r, f := range p.followers {
			if slices.Contains(p.assign.ISR, r) && !slices.Contains(a.ISR, r) {
				p.forget(f, now) // left the ISR: it must fetch afresh to rejoin
			}
		}
	}
	p.role, p.assign = Leader, cloneAssignment(a)
	if newEpoch {
		p.epochStart = leo
		p.followers = map[int32]*follower{}
		p.pendingISR, p.resend = nil, false
	}
	for _, r := range a.Replicas {
		if r != p.self && p.followers[r] == nil {
			// A follower in the ISR is presumed caught up as of now, so the
			// lag clock starts at the election, not at zero.
			p.followers[r] = &follower{leo: -1, lastCaughtUp: now}
		}
	}
	for r := range p.followers {
		if !slices.Contains(a.Replicas, r) {
			delete(p.followers, r)
		}
	}
	if p.pendingISR != nil && a.PartitionEpoch != p.pendingFrom {
		// The controller decided; this is the result. When it is the
		// change proposed (its answer was lost, or came after metadata),
		// it counts as this leader's, as ISRCommitted does.
		if slices.Equal(sortedClone(a.ISR), p.pendingISR) {
			p.settled = cmp.Compare(len(a.ISR), len(cur.ISR))
		}
		p.pendingISR, p.resend = nil, false
	}
	p.hw = min(max(hw, p.hw), leo)
	p.advance(leo) // a leader alone in its ISR has committed everything
}

// BecomeFollower applies an assignment naming another broker leader.
func (p *Partition) BecomeFollower(a Assignment, leo int64) {
	p.role, p.assign = Follower, cloneAssignment(a)
	p.followers, p.pendingISR = nil, nil
	p.hw = min(p.hw, leo)
}

// Stop drops the role (the partition left this broker or went offline).
func (p *Partition) Stop() {
	p.role = None
	p.followers, p.pendingISR = nil, nil
}

// FollowerFetch records a follower's fetch at fetchOffset (its log end
// offset) while the leader's log end offset is leaderLEO. It returns
// whether the high watermark advanced.
func (p *Partition) FollowerFetch(replica int32, fetchOffset, leaderLEO int64, now time.Time) bool {
	f := p.followers[replica]
	if p.role != Leader || f == nil {
		return false
	}
	switch {
	case fetchOffset >= leaderLEO:
		f.lastCaughtUp = maxTime(f.lastCaughtUp, now)
	case f.fetchedSinceUp && fetchOffset >= f.lastFetchLEO:
		// It has everything the leader had at its previous fetch: it was
		// caught up as of then (Kafka's Replica.updateFetchState).
		f.lastCaughtUp = maxTime(f.lastCaughtUp, f.lastFetch)
	}
	f.leo, f.lastFetchLEO, f.lastFetch, f.fetchedSinceUp = fetchOffset, leaderLEO, now, true
	return p.advance(leaderLEO)
}

// LocalAppend tells the leader its log end offset moved (an append). With
// no followers in the ISR the high watermark follows at once.
func (p *Partition) LocalAppend(leaderLEO int64) bool {
	if p.role != Leader {
		return false
	}
	return p.advance(leaderLEO)
}

// advance recomputes the high watermark: the minimum log end offset over
// the maximal ISR. It never moves backwards.
func (p *Partition) advance(leaderLEO int64) bool {
	hw := leaderLEO
	for _, r := range p.MaximalISR() {
		if r == p.self {
			continue
		}
		f := p.followers[r]
		if f == nil || f.leo < 0 {
			return false // an ISR member we have not heard from holds it back
		}
		hw = min(hw, f.leo)
	}
	if hw > p.hw {
		p.hw = hw
		return true
	}
	return false
}

// FollowerHighWatermark sets a follower's high watermark from the leader's
// fetch response, never past the local log end offset.
func (p *Partition) FollowerHighWatermark(leaderHW, leo int64) {
	if p.role == Follower {
		p.hw = max(p.hw, min(leaderHW, leo))
	}
}

// Truncated tells the partition its log was truncated to leo.
func (p *Partition) Truncated(leo int64) { p.hw = min(p.hw, leo) }

// ISRChange is an ISR the leader wants the controller to commit.
type ISRChange struct {
	ISR            []int32
	LeaderEpoch    int32
	PartitionEpoch int32
}

// NextISRChange returns the ISR change the leader should propose now, if
// any and if none is in flight: first removing followers that have not
// caught up within lagMax, else adding one eligible follower (a live,
// unfenced broker, as the controller requires) that has caught up. The
// change is recorded as pending until the controller's answer arrives
// through BecomeLeader (or ISRChangeFailed).
func (p *Partition) NextISRChange(now time.Time, lagMax time.Duration, eligible func(int32) bool) (ISRChange, bool) {
	if p.role != Leader || now.Before(p.retryAt) {
		return ISRChange{}, false
	}
	if p.pendingISR != nil {
		if !p.resend {
			return ISRChange{}, false // in flight, or settled by metadata only
		}
		p.resend = false
		return ISRChange{ISR: slices.Clone(p.pendingISR), LeaderEpoch: p.assign.LeaderEpoch, PartitionEpoch: p.pendingFrom}, true
	}
	isr := p.assign.ISR
	var keep []int32
	for _, r := range isr {
		f := p.followers[r]
		if r == p.self || f == nil || now.Sub(f.lastCaughtUp) <= lagMax {
			keep = append(keep, r)
		}
	}
	if len(keep) < len(isr) {
		return p.propose(keep), true
	}
	for _, r := range p.assign.Replicas {
		f := p.followers[r]
		if r == p.self || f == nil || slices.Contains(isr, r) || !eligible(r) {
			continue
		}
		if f.fetchedSinceUp && f.leo >= p.hw && f.leo >= p.epochStart {
			return p.propose(append(slices.Clone(isr), r)), true
		}
	}
	return ISRChange{}, false
}

// ISRWhole reports whether every replica is in the ISR with no change
// pending: then only a follower falling behind can change it.
func (p *Partition) ISRWhole() bool {
	return p.pendingISR == nil && len(p.assign.ISR) >= len(p.assign.Replicas)
}

func (p *Partition) propose(isr []int32) ISRChange {
	slices.Sort(isr)
	p.pendingISR, p.pendingFrom = isr, p.assign.PartitionEpoch
	return ISRChange{ISR: isr, LeaderEpoch: p.assign.LeaderEpoch, PartitionEpoch: p.assign.PartitionEpoch}
}

// isrRetryBackoff spaces out ISR proposals after one fails.
const isrRetryBackoff = time.Second

// ISRChangeFailed clears a pending change the controller rejected without
// applying it (or that was never sent), so a new one is proposed after a
// backoff.
func (p *Partition) ISRChangeFailed(now time.Time) {
	p.pendingISR, p.resend, p.retryAt = nil, false, now.Add(isrRetryBackoff)
}

// ISRChangeUnsettled records that a pending change's outcome is unknown:
// the request or its answer was lost, the controller lost its leadership
// or timed out with the change proposed (it may still commit), or the
// controller said the partition moved on (INVALID_UPDATE_VERSION after an
// earlier attempt committed, FENCED_LEADER_EPOCH). The change stays
// pending, so its additions keep holding the high watermark and acks=all:
// clearing it while the controller commits it let this leader acknowledge
// records a replica that had just joined the ISR (and then led) lacked.
// With resend it is sent again after a backoff; without, only metadata
// settles it (BecomeLeader, BecomeFollower), as Kafka's
// Partition.handleAlterPartitionError keeps its pending state for those.
func (p *Partition) ISRChangeUnsettled(now time.Time, resend bool) {
	if p.pendingISR == nil {
		return
	}
	p.resend, p.retryAt = resend, now.Add(isrRetryBackoff)
}

// ISRCommitted applies the controller's answer to an ISR change: the
// partition's ISR, leader epoch and partition epoch after it. An answer
// for another leader epoch (the controller also moved the leadership, as
// when an addition completes a reassignment) or older than the partition
// epoch known is ignored and the change stays pending: metadata will
// settle it, and until then its additions still hold the high watermark.
func (p *Partition) ISRCommitted(isr []int32, leaderEpoch, partitionEpoch int32, now time.Time) {
	if p.role != Leader || leaderEpoch != p.assign.LeaderEpoch || partitionEpoch < p.assign.PartitionEpoch {
		return
	}
	for r, f := range p.followers {
		if slices.Contains(p.assign.ISR, r) && !slices.Contains(isr, r) {
			p.forget(f, now)
		}
	}
	if p.pendingISR != nil {
		p.settled = cmp.Compare(len(isr), len(p.assign.ISR))
	}
	p.assign.ISR, p.assign.PartitionEpoch = slices.Clone(isr), partitionEpoch
	p.pendingISR, p.resend = nil, false
}

// TakeSettled reports, once, whether the last ISR change this leader
// proposed and saw committed (by the controller's answer or by metadata)
// shrank the ISR (-1) or expanded it (+1); 0 when there is none to
// report. Kafka's IsrShrinksPerSec and IsrExpandsPerSec count these.
func (p *Partition) TakeSettled() int {
	s := p.settled
	p.settled = 0
	return s
}

func sortedClone(s []int32) []int32 {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// forget drops what the leader knew of a follower that left the ISR: it
// rejoins only on what it fetches afterwards, never on state from before
// (it may have restarted and truncated meanwhile).
func (p *Partition) forget(f *follower, now time.Time) {
	*f = follower{leo: -1, lastCaughtUp: now}
}

// FollowerLEO returns what the leader knows of a follower's log end
// offset (-1: not heard from).
func (p *Partition) FollowerLEO(replica int32) int64 {
	if f := p.followers[replica]; f != nil {
		return f.leo
	}
	return -1
}

func cloneAssignment(a Assignment) Assignment {
	a.Replicas, a.ISR = slices.Clone(a.Replicas), slices.Clone(a.ISR)
	return a
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
