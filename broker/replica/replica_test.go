package replica

import (
	"slices"
	"testing"
	"time"
)

var t0 = time.Unix(1_000_000, 0)

func all(int32) bool { return true }

func leader(t *testing.T, leo int64) *Partition {
	t.Helper()
	p := New(1)
	p.BecomeLeader(Assignment{Leader: 1, LeaderEpoch: 3, PartitionEpoch: 7, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}}, leo, 0, t0)
	return p
}

func TestHighWatermarkIsMinimumOverISR(t *testing.T) {
	p := leader(t, 100)
	if p.HighWatermark() != 0 {
		t.Fatalf("hw %d before any follower fetched", p.HighWatermark())
	}
	if p.FollowerFetch(2, 100, 100, t0) {
		t.Fatal("hw moved while replica 3 has not fetched")
	}
	if !p.FollowerFetch(3, 60, 100, t0) || p.HighWatermark() != 60 {
		t.Fatalf("hw %d, want 60", p.HighWatermark())
	}
	p.FollowerFetch(3, 100, 100, t0)
	if p.HighWatermark() != 100 {
		t.Fatalf("hw %d, want 100", p.HighWatermark())
	}
	// A lower fetch (a follower that truncated) never moves it back.
	p.FollowerFetch(3, 90, 100, t0)
	if p.HighWatermark() != 100 {
		t.Fatalf("hw went back to %d", p.HighWatermark())
	}
}

func TestLeaderAloneInISRAdvancesOnAppend(t *testing.T) {
	p := New(1)
	p.BecomeLeader(Assignment{Leader: 1, LeaderEpoch: 1, Replicas: []int32{1, 2}, ISR: []int32{1}}, 10, 0, t0)
	if !p.LocalAppend(15) || p.HighWatermark() != 15 {
		t.Fatalf("hw %d, want 15", p.HighWatermark())
	}
}

func TestLaggingFollowerLeavesISR(t *testing.T) {
	lag := 30 * time.Second
	p := leader(t, 100)
	p.FollowerFetch(2, 100, 100, t0)
	p.FollowerFetch(3, 100, 100, t0)
	// Replica 3 stops fetching; replica 2 keeps up.
	now := t0
	for i := 1; i <= 31; i++ {
		now = t0.Add(time.Duration(i) * time.Second)
		p.LocalAppend(100 + int64(i))
		p.FollowerFetch(2, 100+int64(i), 100+int64(i), now)
	}
	ch, ok := p.NextISRChange(now, lag, all)
	if !ok || !slices.Equal(ch.ISR, []int32{1, 2}) || ch.PartitionEpoch != 7 {
		t.Fatalf("change %+v %v, want ISR [1 2] from partition epoch 7", ch, ok)
	}
	if _, again := p.NextISRChange(now, lag, all); again {
		t.Fatal("a second change while one is pending")
	}
	// Until committed, the maximal ISR still counts 3: hw held at its LEO.
	if p.HighWatermark() != 100 {
		t.Fatalf("hw %d, want 100 (held by pending-removal replica 3)", p.HighWatermark())
	}
	p.ISRCommitted([]int32{1, 2}, 3, 8, now)
	p.LocalAppend(131)
	if p.HighWatermark() != 131 {
		t.Fatalf("hw %d after shrink, want 131", p.HighWatermark())
	}
}

func TestFollowerRejoinsISRWhenCaughtUpToHW(t *testing.T) {
	p := New(1)
	p.BecomeLeader(Assignment{Leader: 1, LeaderEpoch: 2, PartitionEpoch: 4, Replicas: []int32{1, 2}, ISR: []int32{1}}, 50, 0, t0)
	p.LocalAppend(80)
	p.FollowerFetch(2, 40, 80, t0)
	if _, ok := p.NextISRChange(t0, time.Minute, all); ok {
		t.Fatal("proposed adding a follower below the high watermark")
	}
	p.FollowerFetch(2, 80, 80, t0)
	ch, ok := p.NextISRChange(t0, time.Minute, all)
	if !ok || !slices.Equal(ch.ISR, []int32{1, 2}) {
		t.Fatalf("change %+v %v, want [1 2]", ch, ok)
	}
	// Pending addition counts toward the maximal ISR at once (KIP-497).
	if !slices.Contains(p.MaximalISR(), 2) {
		t.Fatal("pending member missing from the maximal ISR")
	}
}

func TestFollowerNeedsCurrentEpochStartToRejoin(t *testing.T) {
	// The leader's epoch began at offset 50; hw is still 0 (new leader).
	p := New(1)
	p.BecomeLeader(Assignment{Leader: 1, LeaderEpoch: 5, Replicas: []int32{1, 2}, ISR: []int32{1}}, 50, 0, t0)
	p.FollowerFetch(2, 10, 50, t0)
	if _, ok := p.NextISRChange(t0, time.Minute, all); ok {
		t.Fatal("a follower below the epoch start rejoined the ISR")
	}
}

func TestCaughtUpAsOfPreviousFetch(t *testing.T) {
	p := leader(t, 100)
	p.FollowerFetch(2, 100, 100, t0)
	p.FollowerFetch(3, 100, 100, t0)
	// The leader keeps appending; replica 2 always fetches exactly what the
	// leader had at its previous fetch: behind now, but never lagging.
	leo := int64(100)
	now := t0
	for i := 1; i <= 60; i++ {
		now = t0.Add(time.Duration(i) * time.Second)
		prev := leo
		leo += 10
		p.LocalAppend(leo)
		p.FollowerFetch(2, prev, leo, now)
		p.FollowerFetch(3, leo, leo, now)
	}
	if ch, ok := p.NextISRChange(now, 30*time.Second, all); ok {
		t.Fatalf("shrank to %v though replica 2 keeps up with the previous fetch", ch.ISR)
	}
}

func TestFollowerHighWatermarkNeverPastLocalLEO(t *testing.T) {
	p := New(2)
	p.BecomeFollower(Assignment{Leader: 1, LeaderEpoch: 1, Replicas: []int32{1, 2}, ISR: []int32{1, 2}}, 10)
	p.FollowerHighWatermark(50, 30)
	if p.HighWatermark() != 30 {
		t.Fatalf("hw %d, want 30", p.HighWatermark())
	}
	p.Truncated(20)
	if p.HighWatermark() != 20 {
		t.Fatalf("hw %d after truncation, want 20", p.HighWatermark())
	}
}

func TestNewLeaderEpochResetsFollowerState(t *testing.T) {
	p := leader(t, 100)
	p.FollowerFetch(2, 100, 100, t0)
	p.FollowerFetch(3, 100, 100, t0)
	p.BecomeLeader(Assignment{Leader: 1, LeaderEpoch: 4, PartitionEpoch: 9, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}}, 120, 100, t0)
	if p.FollowerLEO(2) != -1 {
		t.Fatal("follower state survived a new leader epoch")
	}
	if p.HighWatermark() != 100 {
		t.Fatalf("hw %d, want 100 kept", p.HighWatermark())
	}
}

func TestIneligibleFollowerIsNotAddedAndFailuresBackOff(t *testing.T) {
	p := New(1)
	p.BecomeLeader(Assignment{Leader: 1, LeaderEpoch: 2, PartitionEpoch: 4, Replicas: []int32{1, 2}, ISR: []int32{1}}, 50, 0, t0)
	p.FollowerFetch(2, 50, 50, t0)
	fenced := func(r int32) bool { return r != 2 }
	if _, ok := p.NextISRChange(t0, time.Minute, fenced); ok {
		t.Fatal("proposed adding a fenced broker")
	}
	if _, ok := p.NextISRChange(t0, time.Minute, all); !ok {
		t.Fatal("no proposal for an eligible caught-up follower")
	}
	p.ISRChangeFailed(t0)
	if _, ok := p.NextISRChange(t0.Add(100*time.Millisecond), time.Minute, all); ok {
		t.Fatal("retried at once after a failure")
	}
	if _, ok := p.NextISRChange(t0.Add(2*time.Second), time.Minute, all); !ok {
		t.Fatal("never retried")
	}
}

func TestRemovedFollowerMustFetchAgainToRejoin(t *testing.T) {
	p := leader(t, 100)
	p.FollowerFetch(2, 100, 100, t0)
	p.FollowerFetch(3, 100, 100, t0)
	// The controller drops 3 (say it was fenced): the same leader epoch,
	// a new partition epoch.
	p.BecomeLeader(Assignment{Leader: 1, LeaderEpoch: 3, PartitionEpoch: 8, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2}}, 100, 100, t0)
	if ch, ok := p.NextISRChange(t0, time.Minute, all); ok {
		t.Fatalf("re-added %v on state from before it left", ch.ISR)
	}
	p.FollowerFetch(3, 100, 100, t0.Add(time.Second))
	if ch, ok := p.NextISRChange(t0.Add(time.Second), time.Minute, all); !ok || !slices.Equal(ch.ISR, []int32{1, 2, 3}) {
		t.Fatalf("change %+v %v after a fresh fetch, want [1 2 3]", ch, ok)
	}
}

// addingReplica4 is a leader of [1 2 3] whose reassignment adds 4 (the
// controller's image at partition epoch 8), with 4 caught up and its
// addition proposed: the maximal ISR counts it.
func addingReplica4(t *testing.T) (*Partition, Assignment) {
	t.Helper()
	p := leader(t, 100)
	adding := Assignment{Leader: 1, LeaderEpoch: 3, PartitionEpoch: 8, Replicas: []int32{4, 2, 3, 1}, ISR: []int32{1, 2, 3}}
	p.BecomeLeader(adding, 100, 0, t0)
	for _, r := range []int32{2, 3, 4} {
		p.FollowerFetch(r, 100, 100, t0)
	}
	if ch, ok := p.NextISRChange(t0, time.Minute, all); !ok || !slices.Equal(ch.ISR, []int32{1, 2, 3, 4}) {
		t.Fatalf("change %+v %v, want [1 2 3 4]", ch, ok)
	}
	return p, adding
}

// TestAnswerForAnotherLeaderEpochKeepsAdditionPending: the controller
// answers an addition that completes a reassignment with the partition as
// it left it, led by another replica under a new leader epoch. That answer
// is not this leader's ISR: the addition stays pending, so the high
// watermark never passes what the new leader has, while this broker leads
// on until metadata catches up, whatever older images arrive meanwhile.
func TestAnswerForAnotherLeaderEpochKeepsAdditionPending(t *testing.T) {
	p, adding := addingReplica4(t)
	p.ISRCommitted([]int32{2, 3, 4}, 4, 9, t0) // 4 leads at epoch 4: [1 2 3] -> [4 2 3] done
	if p.Stale(adding) {
		t.Fatal("the image this leader already had is stale")
	}
	p.BecomeLeader(adding, 130, 0, t0) // an image touching other partitions
	p.FollowerFetch(2, 130, 130, t0)
	p.FollowerFetch(3, 130, 130, t0)
	if hw := p.HighWatermark(); hw != 100 {
		t.Fatalf("hw %d, want 100: replica 4 (the new leader) has only 100", hw)
	}
	if !slices.Contains(p.MaximalISR(), 4) {
		t.Fatalf("maximal ISR %v lost the pending addition", p.MaximalISR())
	}
}

// TestLaggingMetadataDoesNotRollTheISRBack: the controller committed the
// addition (same leader epoch, partition epoch 9); the image the broker
// applies next may still be the one from before (8). It is stale: applied,
// it would drop 4 from the ISR and let the high watermark pass it.
func TestLaggingMetadataDoesNotRollTheISRBack(t *testing.T) {
	p, adding := addingReplica4(t)
	p.ISRCommitted([]int32{1, 2, 3, 4}, 3, 9, t0)
	if !p.Stale(adding) {
		t.Fatal("an image at partition epoch 8 after the answer at 9 is not stale")
	}
	if p.Stale(Assignment{Leader: 1, LeaderEpoch: 3, PartitionEpoch: 9}) || p.Stale(Assignment{Leader: 4, LeaderEpoch: 4, PartitionEpoch: 10}) {
		t.Fatal("current or newer metadata is stale")
	}
	p.FollowerFetch(2, 130, 130, t0)
	p.FollowerFetch(3, 130, 130, t0)
	if hw := p.HighWatermark(); hw != 100 || !slices.Equal(p.ISR(), []int32{1, 2, 3, 4}) {
		t.Fatalf("hw %d ISR %v, want 100 held by 4 in [1 2 3 4]", hw, p.ISR())
	}
	// An answer older than what the leader knows is ignored too.
	p.ISRCommitted([]int32{1, 2, 3}, 3, 8, t0)
	if !slices.Equal(p.ISR(), []int32{1, 2, 3, 4}) {
		t.Fatalf("ISR %v after an older answer", p.ISR())
	}
}

// TestUnsettledAdditionKeepsHoldingTheHighWatermark: the controller lost
// its raft leadership with the addition of 4 proposed and the leader got
// NOT_CONTROLLER; re-elected with that entry in its log, it committed the
// addition, completing the reassignment with 4 (at 100) leading. Found in
// CI: the leader cleared the pending addition on the error and acknowledged
// 504 records 4 never had, which the new leader then truncated from the
// others. The addition stays pending (4 holds the high watermark) and is
// sent again; a resend answered INVALID_UPDATE_VERSION (the first attempt
// committed) waits for metadata, which settles it.
func TestUnsettledAdditionKeepsHoldingTheHighWatermark(t *testing.T) {
	p, _ := addingReplica4(t)
	p.ISRChangeUnsettled(t0, true) // NOT_CONTROLLER, a timeout, a lost answer
	p.FollowerFetch(2, 130, 130, t0)
	p.FollowerFetch(3, 130, 130, t0)
	if hw := p.HighWatermark(); hw != 100 || !slices.Contains(p.MaximalISR(), 4) {
		t.Fatalf("hw %d maximal ISR %v, want 100 held by the pending 4", hw, p.MaximalISR())
	}
	if _, ok := p.NextISRChange(t0, time.Minute, all); ok {
		t.Fatal("sent again before the backoff")
	}
	later := t0.Add(isrRetryBackoff)
	ch, ok := p.NextISRChange(later, time.Minute, all)
	if !ok || !slices.Equal(ch.ISR, []int32{1, 2, 3, 4}) || ch.PartitionEpoch != 8 || ch.LeaderEpoch != 3 {
		t.Fatalf("resend %+v %v, want the same change at partition epoch 8", ch, ok)
	}
	p.ISRChangeUnsettled(later, false) // INVALID_UPDATE_VERSION: it had committed
	if _, ok := p.NextISRChange(later.Add(time.Hour), time.Minute, all); ok {
		t.Fatal("proposed again while only metadata can settle the change")
	}
	if hw := p.HighWatermark(); hw != 100 {
		t.Fatalf("hw %d, want 100", hw)
	}
	// Metadata: the reassignment completed, 4 leads.
	p.BecomeFollower(Assignment{Leader: 4, LeaderEpoch: 4, PartitionEpoch: 9, Replicas: []int32{4, 2, 3}, ISR: []int32{2, 3, 4}}, 130)
	if p.pendingISR != nil || p.resend {
		t.Fatal("the pending change survived the new leader")
	}
	// A refusal (OPERATION_NOT_ATTEMPTED, INELIGIBLE_REPLICA) clears it.
	q, _ := addingReplica4(t)
	q.ISRChangeFailed(t0)
	if slices.Contains(q.MaximalISR(), 4) {
		t.Fatalf("maximal ISR %v after a refusal", q.MaximalISR())
	}
}

// TestHighWatermarkKnownOnceEpochStartReached: a new leader's high
// watermark is the one it had as a follower, possibly below records the
// previous leader committed; it is known (ListOffsets may answer with it,
// KIP-207) only once it reaches the log end offset at the election.
func TestHighWatermarkKnownOnceEpochStartReached(t *testing.T) {
	now := time.Unix(1000, 0)
	p := New(1)
	p.BecomeFollower(Assignment{Leader: 2, LeaderEpoch: 3, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}}, 100)
	p.FollowerHighWatermark(90, 100)
	if !p.HighWatermarkKnown() {
		t.Fatal("a follower's high watermark is not the leader's to vouch for: known")
	}
	p.BecomeLeader(Assignment{Leader: 1, LeaderEpoch: 4, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}}, 100, p.HighWatermark(), now)
	if p.HighWatermark() != 90 || p.HighWatermarkKnown() {
		t.Fatalf("new leader: hw %d known %v, want 90 and not known", p.HighWatermark(), p.HighWatermarkKnown())
	}
	p.FollowerFetch(2, 100, 100, now)
	if p.HighWatermarkKnown() {
		t.Fatal("known before every ISR member fetched from the new leader")
	}
	p.FollowerFetch(3, 100, 100, now)
	if p.HighWatermark() != 100 || !p.HighWatermarkKnown() {
		t.Fatalf("hw %d known %v after the followers caught up, want 100 and known", p.HighWatermark(), p.HighWatermarkKnown())
	}
	// A same-epoch assignment (a reorder) keeps it known.
	p.BecomeLeader(Assignment{Leader: 1, LeaderEpoch: 4, PartitionEpoch: 1, Replicas: []int32{1, 3, 2}, ISR: []int32{1, 2, 3}}, 120, p.HighWatermark(), now)
	if !p.HighWatermarkKnown() {
		t.Fatal("a reorder in the same leader epoch made the high watermark unknown")
	}
}

// TakeSettled reports each ISR change this leader proposed, once, when it
// commits: through the controller's answer or, when metadata settles it
// first, through BecomeLeader; never a change it did not propose.
func TestTakeSettledCountsOwnChangesOnce(t *testing.T) {
	lag := 30 * time.Second
	later := t0.Add(lag + time.Second)
	p := leader(t, 100)
	p.FollowerFetch(2, 100, 100, later)
	ch, ok := p.NextISRChange(later, lag, all) // replica 3 never fetched: out
	if !ok || !slices.Equal(ch.ISR, []int32{1, 2}) {
		t.Fatalf("proposed %v %v, want [1 2]", ch, ok)
	}
	if s := p.TakeSettled(); s != 0 {
		t.Fatalf("settled %d before any answer", s)
	}
	p.ISRCommitted(ch.ISR, ch.LeaderEpoch, ch.PartitionEpoch+1, later)
	if s := p.TakeSettled(); s != -1 {
		t.Fatalf("settled %d after the shrink committed, want -1", s)
	}
	if s := p.TakeSettled(); s != 0 {
		t.Fatalf("settled %d on the second take, want 0", s)
	}
	// The same commit seen again in metadata counts nothing more.
	a := Assignment{Leader: 1, LeaderEpoch: 3, PartitionEpoch: 8, Replicas: []int32{1, 2, 3}, ISR: []int32{2, 1}}
	p.BecomeLeader(a, 100, 100, later)
	if s := p.TakeSettled(); s != 0 {
		t.Fatalf("settled %d from metadata repeating a counted change", s)
	}

	// Replica 3 catches up; the expansion's answer is lost and metadata
	// settles it.
	p.FollowerFetch(3, 100, 100, later)
	ch, ok = p.NextISRChange(later, lag, all)
	if !ok || !slices.Equal(ch.ISR, []int32{1, 2, 3}) {
		t.Fatalf("proposed %v %v, want [1 2 3]", ch, ok)
	}
	p.ISRChangeUnsettled(later, true)
	a.PartitionEpoch, a.ISR = 9, []int32{3, 1, 2}
	p.BecomeLeader(a, 100, 100, later)
	if s := p.TakeSettled(); s != 1 {
		t.Fatalf("settled %d after metadata committed the expansion, want 1", s)
	}

	// The controller removes replica 3 on its own (a fence) while a
	// proposal of ours is pending: not ours, not counted.
	p.FollowerFetch(2, 100, 100, later)
	p.FollowerFetch(3, 100, 100, later)
	much := later.Add(2 * lag)
	p.FollowerFetch(3, 100, 100, much)
	if ch, ok = p.NextISRChange(much, lag, all); !ok || !slices.Equal(ch.ISR, []int32{1, 3}) {
		t.Fatalf("proposed %v %v, want [1 3]", ch, ok)
	}
	a.PartitionEpoch, a.ISR = 10, []int32{1, 2}
	p.BecomeLeader(a, 100, 100, much)
	if s := p.TakeSettled(); s != 0 {
		t.Fatalf("settled %d for the controller's own change, want 0", s)
	}
}
