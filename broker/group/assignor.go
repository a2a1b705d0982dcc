package group

import (
	"slices"
	"sort"
)

// The server-side assignors of consumer-protocol groups (KIP-848). Each is
// a pure function from the members' subscriptions, the subscribed topics'
// partition counts and the previous target assignment to the next target
// assignment. Members, topics and partitions are walked in sorted order,
// so the same input always gives the same answer.

// defaultAssignor is group.consumer.assignors' first entry, as in Kafka.
const defaultAssignor = "uniform"

// assignors are the server assignors a member may name in ServerAssignor.
var assignors = map[string]func(assignSpec) map[string]topicParts{
	"uniform": assignUniform,
	"range":   assignRange,
}

// assignSpec is an assignor's input.
type assignSpec struct {
	members []assignMember   // sorted by id
	topics  map[string]int32 // subscribed topics that exist → partition count
}

type assignMember struct {
	id      string
	topics  []string   // subscribed topic names, sorted
	current topicParts // its previous target assignment, for stickiness
}

func (m *assignMember) subscribes(topic string) bool {
	_, ok := slices.BinarySearch(m.topics, topic)
	return ok
}

// tp is one topic partition.
type tp struct {
	topic string
	p     int32
}

func tpLess(a, b tp) bool {
	if a.topic != b.topic {
		return a.topic < b.topic
	}
	return a.p < b.p
}

// assignUniform spreads every subscribed partition over the members that
// subscribe to its topic so that their partition counts differ by at most
// one (exactly so when all subscribe to the same topics; as near as a
// greedy balance gets otherwise), and keeps each member's previous
// partitions wherever the balance allows: a joining member takes only the
// surplus of the others.
func assignUniform(spec assignSpec) map[string]topicParts {
	u := newUniform(spec)
	u.retain()
	u.assignUnowned()
	u.balance()
	return u.result()
}

type uniform struct {
	spec  assignSpec
	owner map[tp]int // partition → member index
	owned [][]tp     // member index → partitions, kept sorted
}

func newUniform(spec assignSpec) *uniform {
	return &uniform{spec: spec, owner: map[tp]int{}, owned: make([][]tp, len(spec.members))}
}

// retain keeps each member's previous partitions that still exist and
// that it still subscribes to (the first claimant wins a duplicate).
func (u *uniform) retain() {
	for i := range u.spec.members {
		m := &u.spec.members[i]
		for _, t := range sortedKeys(m.current) {
			n, ok := u.spec.topics[t]
			if !ok || !m.subscribes(t) {
				continue
			}
			for _, p := range m.current[t] {
				if _, taken := u.owner[tp{t, p}]; !taken && p < n {
					u.give(tp{t, p}, i)
				}
			}
		}
	}
}

// assignUnowned gives each unowned partition to the least-loaded member
// subscribing to its topic.
func (u *uniform) assignUnowned() {
	for _, t := range sortedKeys(u.spec.topics) {
		for p := int32(0); p < u.spec.topics[t]; p++ {
			if _, ok := u.owner[tp{t, p}]; ok {
				continue
			}
			best := -1
			for i := range u.spec.members {
				if u.spec.members[i].subscribes(t) && (best < 0 || len(u.owned[i]) < len(u.owned[best])) {
					best = i
				}
			}
			if best >= 0 {
				u.give(tp{t, p}, best)
			}
		}
	}
}

// balance moves partitions from the most to the least loaded members
// until no move narrows a gap of more than one. Each move lowers the sum
// of squared counts, so the loop ends.
func (u *uniform) balance() {
	for u.moveOne() {
	}
}

func (u *uniform) moveOne() bool {
	order := make([]int, len(u.owned))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(u.owned[order[a]]) > len(u.owned[order[b]]) })
	for _, from := range order {
		for j := len(order) - 1; j >= 0; j-- {
			to := order[j]
			if len(u.owned[from])-len(u.owned[to]) <= 1 {
				break
			}
			if part, ok := u.movable(from, to); ok {
				u.take(part, from)
				u.give(part, to)
				return true
			}
		}
	}
	return false
}

// movable is the last partition of from's that to subscribes to.
func (u *uniform) movable(from, to int) (tp, bool) {
	for k := len(u.owned[from]) - 1; k >= 0; k-- {
		if part := u.owned[from][k]; u.spec.members[to].subscribes(part.topic) {
			return part, true
		}
	}
	return tp{}, false
}

func (u *uniform) give(part tp, i int) {
	u.owner[part] = i
	k := sort.Search(len(u.owned[i]), func(k int) bool { return !tpLess(u.owned[i][k], part) })
	u.owned[i] = slices.Insert(u.owned[i], k, part)
}

func (u *uniform) take(part tp, i int) {
	delete(u.owner, part)
	u.owned[i] = slices.DeleteFunc(u.owned[i], func(x tp) bool { return x == part })
}

func (u *uniform) result() map[string]topicParts {
	out := make(map[string]topicParts, len(u.spec.members))
	for i, m := range u.spec.members {
		a := topicParts{}
		for _, part := range u.owned[i] {
			a[part.topic] = append(a[part.topic], part.p)
		}
		out[m.id] = a
	}
	return out
}

// assignRange gives each topic's partitions in contiguous ranges to the
// members subscribing to it, in member id order; the first (partitions
// mod members) members get one more. Members subscribing to the same
// topics with equal partition counts get the same partition numbers of
// each (co-partitioning).
func assignRange(spec assignSpec) map[string]topicParts {
	out := make(map[string]topicParts, len(spec.members))
	for _, m := range spec.members {
		out[m.id] = topicParts{}
	}
	for _, t := range sortedKeys(spec.topics) {
		var subs []string
		for i := range spec.members {
			if spec.members[i].subscribes(t) {
				subs = append(subs, spec.members[i].id)
			}
		}
		if len(subs) == 0 {
			continue
		}
		n := spec.topics[t]
		quota, extra := n/int32(len(subs)), n%int32(len(subs))
		start := int32(0)
		for i, id := range subs {
			size := quota
			if int32(i) < extra {
				size++
			}
			for p := start; p < start+size; p++ {
				out[id][t] = append(out[id][t], p)
			}
			start += size
		}
	}
	return out
}
