package group

import (
	"maps"
	"slices"
)

// Epoch-based reconciliation of a consumer-protocol member (KIP-848), as
// Kafka's CurrentAssignmentBuilder does it. A member moves from its
// current assignment toward its target one step per heartbeat:
//
//   - partitions it holds that the target no longer gives it are revoked
//     first: it stays at its epoch (UNREVOKED_PARTITIONS) and gets nothing
//     new until a heartbeat reports them gone;
//   - then it moves to the target assignment's epoch and receives the
//     target's partitions that no other member still holds; those still
//     held elsewhere (pending revocation there) are withheld
//     (UNRELEASED_PARTITIONS) and handed over on a later heartbeat, once
//     released;
//   - with nothing to revoke or withhold it is STABLE at the target epoch.
//
// reconcile is pure: the group supplies who holds what.

// memberState is a member's reconciliation state, as Kafka names it.
type memberState int8

const (
	memberStable     memberState = iota // STABLE
	memberUnrevoked                     // UNREVOKED_PARTITIONS
	memberUnreleased                    // UNRELEASED_PARTITIONS
)

func (s memberState) String() string {
	switch s {
	case memberUnrevoked:
		return "UNREVOKED_PARTITIONS"
	case memberUnreleased:
		return "UNRELEASED_PARTITIONS"
	}
	return "STABLE"
}

// topicParts is a set of partitions by topic name; each list is sorted
// and no list is empty.
type topicParts map[string][]int32

func (a topicParts) has(topic string, p int32) bool {
	_, ok := slices.BinarySearch(a[topic], p)
	return ok
}

func (a topicParts) add(topic string, p int32) {
	ps := a[topic]
	if i, ok := slices.BinarySearch(ps, p); !ok {
		a[topic] = slices.Insert(ps, i, p)
	}
}

func (a topicParts) count() int {
	n := 0
	for _, ps := range a {
		n += len(ps)
	}
	return n
}

func (a topicParts) clone() topicParts {
	out := make(topicParts, len(a))
	for t, ps := range a {
		if len(ps) > 0 {
			out[t] = slices.Clone(ps)
		}
	}
	return out
}

func (a topicParts) equal(b topicParts) bool {
	return maps.EqualFunc(a.clone(), b.clone(), slices.Equal)
}

// intersects reports whether a and b share a partition.
func (a topicParts) intersects(b topicParts) bool {
	for t, ps := range a {
		for _, p := range ps {
			if b.has(t, p) {
				return true
			}
		}
	}
	return false
}

// each calls fn for every partition, in topic then partition order.
func (a topicParts) each(fn func(topic string, p int32)) {
	for _, t := range sortedKeys(a) {
		for _, p := range a[t] {
			fn(t, p)
		}
	}
}

// reconciled is a member's place in reconciliation.
type reconciled struct {
	state     memberState
	epoch     int32
	prevEpoch int32
	assigned  topicParts // what the member may own now
	revoking  topicParts // what it must give up before moving on
}

// reconcileInput is what one reconciliation step sees.
type reconcileInput struct {
	cur         reconciled
	targetEpoch int32
	target      topicParts
	// owned is what the member reports owning; nil when the heartbeat did
	// not say (it is then assumed to still own everything).
	owned topicParts
	// heldElsewhere reports whether another member holds a partition
	// (assigned to it or pending its revocation).
	heldElsewhere func(topic string, p int32) bool
}

// reconcile is one step of m toward its target.
func reconcile(in reconcileInput) reconciled {
	switch in.cur.state {
	case memberStable:
		if in.cur.epoch == in.targetEpoch {
			return in.cur
		}
		return in.next(in.cur.epoch)
	case memberUnrevoked:
		if in.ownsAny(in.cur.revoking) {
			return in.cur
		}
		return in.next(in.cur.epoch + 1)
	}
	return in.next(in.cur.epoch)
}

func (in *reconcileInput) ownsAny(parts topicParts) bool {
	return in.owned == nil || in.owned.intersects(parts)
}

// next computes the step from the current assignment to the target.
func (in *reconcileInput) next(epoch int32) reconciled {
	keep, revoke, give := topicParts{}, topicParts{}, topicParts{}
	unreleased := false
	in.cur.assigned.each(func(t string, p int32) {
		if in.target.has(t, p) {
			keep.add(t, p)
		} else {
			revoke.add(t, p)
		}
	})
	in.target.each(func(t string, p int32) {
		switch {
		case keep.has(t, p):
		case in.heldElsewhere(t, p) && !in.cur.revoking.has(t, p):
			unreleased = true
		default:
			give.add(t, p)
		}
	})
	out := reconciled{assigned: keep, revoking: topicParts{}}
	switch {
	case len(revoke) > 0 && in.ownsAny(revoke):
		out.state, out.revoking = memberUnrevoked, revoke
		out.epoch, out.prevEpoch = epoch, in.cur.epoch
		return out
	case unreleased:
		out.state = memberUnreleased
	default:
		out.state = memberStable
	}
	give.each(keep.add)
	out.epoch, out.prevEpoch = in.targetEpoch, in.cur.epoch
	return out
}
