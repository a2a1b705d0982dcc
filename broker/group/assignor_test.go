package group

import (
	"fmt"
	"testing"
)

func spec(topics map[string]int32, members ...assignMember) assignSpec {
	return assignSpec{members: members, topics: topics}
}

func mem(id string, current topicParts, topics ...string) assignMember {
	return assignMember{id: id, topics: sortedUnique(topics), current: current}
}

// checkAssignment checks every partition of the topics is assigned once,
// only to a member subscribing to its topic.
func checkAssignment(t *testing.T, s assignSpec, got map[string]topicParts) {
	t.Helper()
	seen := map[tp]string{}
	for _, m := range s.members {
		got[m.id].each(func(topic string, p int32) {
			if !m.subscribes(topic) {
				t.Errorf("%s got %s-%d without subscribing", m.id, topic, p)
			}
			if o, dup := seen[tp{topic, p}]; dup {
				t.Errorf("%s-%d assigned to %s and %s", topic, p, o, m.id)
			}
			seen[tp{topic, p}] = m.id
		})
	}
	for topic, n := range s.topics {
		for p := int32(0); p < n; p++ {
			if _, ok := seen[tp{topic, p}]; !ok {
				t.Errorf("%s-%d unassigned", topic, p)
			}
		}
	}
}

func TestAssignUniform(t *testing.T) {
	for _, c := range []struct {
		name string
		spec assignSpec
		want string // fmt of each member's partitions, in member order
	}{{
		name: "three members split six partitions two each",
		spec: spec(map[string]int32{"t": 6}, mem("a", nil, "t"), mem("b", nil, "t"), mem("c", nil, "t")),
		want: "a:map[t:[0 3]] b:map[t:[1 4]] c:map[t:[2 5]]",
	}, {
		name: "a joining member takes only the surplus: the others keep theirs",
		spec: spec(map[string]int32{"t": 6},
			mem("a", topicParts{"t": {0, 1, 2}}, "t"), mem("b", topicParts{"t": {3, 4, 5}}, "t"), mem("c", nil, "t")),
		want: "a:map[t:[0 1]] b:map[t:[3 4]] c:map[t:[2 5]]",
	}, {
		name: "a leaver's partitions go to the least loaded; the rest stay put",
		spec: spec(map[string]int32{"t": 6},
			mem("a", topicParts{"t": {0, 1}}, "t"), mem("b", topicParts{"t": {2, 3}}, "t")),
		want: "a:map[t:[0 1 4]] b:map[t:[2 3 5]]",
	}, {
		name: "seven partitions over three members: counts within one",
		spec: spec(map[string]int32{"t": 4, "u": 3}, mem("a", nil, "t", "u"), mem("b", nil, "t", "u"), mem("c", nil, "t", "u")),
		want: "a:map[t:[0 3] u:[2]] b:map[t:[1] u:[0]] c:map[t:[2] u:[1]]",
	}, {
		name: "mixed subscriptions: each topic only to its subscribers",
		spec: spec(map[string]int32{"t": 4, "u": 2}, mem("a", nil, "t"), mem("b", nil, "t", "u"), mem("c", nil, "u")),
		want: "a:map[t:[0 2]] b:map[t:[1 3]] c:map[u:[0 1]]",
	}, {
		name: "previous partitions of a deleted topic or an unsubscribed one are dropped",
		spec: spec(map[string]int32{"t": 2},
			mem("a", topicParts{"gone": {0}, "t": {0, 1}}, "t"), mem("b", topicParts{"t": {5}}, "t")),
		want: "a:map[t:[0]] b:map[t:[1]]",
	}, {
		name: "no topics: everyone gets nothing",
		spec: spec(map[string]int32{}, mem("a", nil, "t")),
		want: "a:map[]",
	}} {
		t.Run(c.name, func(t *testing.T) {
			got := assignUniform(c.spec)
			checkAssignment(t, c.spec, got)
			if s := fmtAssignment(c.spec, got); s != c.want {
				t.Errorf("got  %s\nwant %s", s, c.want)
			}
			if again := fmtAssignment(c.spec, assignUniform(c.spec)); again != fmtAssignment(c.spec, got) {
				t.Errorf("not deterministic: %s then %s", fmtAssignment(c.spec, got), again)
			}
		})
	}
}

// TestAssignUniformBalancedAndSticky: for many member and partition
// counts, counts differ by at most one, and when a member joins every
// other member keeps all but its surplus.
func TestAssignUniformBalancedAndSticky(t *testing.T) {
	for members := 1; members <= 7; members++ {
		for parts := int32(0); parts <= 20; parts++ {
			var ms []assignMember
			for i := range members {
				ms = append(ms, mem(fmt.Sprintf("m%02d", i), nil, "t"))
			}
			s := spec(map[string]int32{"t": parts}, ms...)
			first := assignUniform(s)
			checkAssignment(t, s, first)
			checkBalanced(t, s, first)
			for i := range s.members {
				s.members[i].current = first[s.members[i].id]
			}
			s.members = append(s.members, mem("new", nil, "t"))
			second := assignUniform(s)
			checkAssignment(t, s, second)
			checkBalanced(t, s, second)
			quota := int(parts) / (members + 1)
			for _, m := range s.members[:members] {
				kept := 0
				m.current.each(func(topic string, p int32) {
					if second[m.id].has(topic, p) {
						kept++
					}
				})
				if kept < min(quota, m.current.count()) {
					t.Errorf("%d members, %d partitions: %s kept %d of %v, quota %d", members, parts, m.id, kept, m.current, quota)
				}
			}
		}
	}
}

func checkBalanced(t *testing.T, s assignSpec, got map[string]topicParts) {
	t.Helper()
	lo, hi := 1<<30, -1
	for _, m := range s.members {
		n := got[m.id].count()
		lo, hi = min(lo, n), max(hi, n)
	}
	if hi-lo > 1 {
		t.Errorf("unbalanced: %s", fmtAssignment(s, got))
	}
}

func TestAssignRange(t *testing.T) {
	for _, c := range []struct {
		name string
		spec assignSpec
		want string
	}{{
		name: "per topic in member order, the first members get the remainder",
		spec: spec(map[string]int32{"t": 3, "u": 3}, mem("b", nil, "t", "u"), mem("a", nil, "t", "u")),
		want: "b:map[t:[2] u:[2]] a:map[t:[0 1] u:[0 1]]",
	}, {
		name: "each topic ranged over its own subscribers",
		spec: spec(map[string]int32{"t": 4, "u": 2}, mem("a", nil, "t"), mem("b", nil, "t", "u"), mem("c", nil, "u")),
		want: "a:map[t:[0 1]] b:map[t:[2 3] u:[0]] c:map[u:[1]]",
	}, {
		name: "more members than partitions",
		spec: spec(map[string]int32{"t": 2}, mem("a", nil, "t"), mem("b", nil, "t"), mem("c", nil, "t")),
		want: "a:map[t:[0]] b:map[t:[1]] c:map[]",
	}} {
		t.Run(c.name, func(t *testing.T) {
			sorted := c.spec
			sorted.members = append([]assignMember{}, c.spec.members...)
			sortMembers(sorted.members)
			got := assignRange(sorted)
			checkAssignment(t, sorted, got)
			if s := fmtAssignment(c.spec, got); s != c.want {
				t.Errorf("got  %s\nwant %s", s, c.want)
			}
		})
	}
}

func sortMembers(ms []assignMember) {
	for i := range ms {
		for j := i + 1; j < len(ms); j++ {
			if ms[j].id < ms[i].id {
				ms[i], ms[j] = ms[j], ms[i]
			}
		}
	}
}

func fmtAssignment(s assignSpec, got map[string]topicParts) string {
	out := ""
	for i, m := range s.members {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%s:%v", m.id, map[string][]int32(got[m.id]))
	}
	return out
}
