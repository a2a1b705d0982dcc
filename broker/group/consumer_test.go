package group

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The consumer protocol's state machine, driven by scripted heartbeats
// on a fake clock. Topic "t" has 4 partitions, "u" 2.

var topicIDs = map[string][16]byte{"t": {1}, "u": {2}}

// testTopicID is a topic's id: t's and u's from topicIDs, any other
// name's (up to 15 bytes) spelled out after a 0xee byte.
func testTopicID(name string) [16]byte {
	if id, ok := topicIDs[name]; ok {
		return id
	}
	id := [16]byte{0xee}
	copy(id[1:], name)
	return id
}

// testTopicName is testTopicID's inverse.
func testTopicName(id [16]byte) string {
	for name, tid := range topicIDs {
		if tid == id {
			return name
		}
	}
	if id[0] == 0xee {
		return strings.TrimRight(string(id[1:]), "\x00")
	}
	return "?"
}

// topicsFor serves the topics of counts (name → partitions), which a
// script may change as it runs.
func topicsFor(counts map[string]int32) func(*Config) {
	return func(cfg *Config) {
		cfg.ConsumerHeartbeatInterval = time.Second
		cfg.ConsumerSessionTimeout = 45 * time.Second
		cfg.TopicByName = func(name string) ([16]byte, int32, bool) {
			n, ok := counts[name]
			return testTopicID(name), n, ok
		}
		cfg.TopicByID = func(id [16]byte) (string, bool) {
			name := testTopicName(id)
			_, ok := counts[name]
			return name, ok
		}
		cfg.TopicNames = func() []string { return sortedKeys(counts) }
	}
}

func new848(t *testing.T, mods ...func(*Config)) *harness {
	return newHarness(t, append([]func(*Config){topicsFor(map[string]int32{"t": 4, "u": 2})}, mods...)...)
}

// hbStep is one heartbeat and what it must answer. owned is "-" for a
// keepalive (no owned partitions, no subscription: "same as before"),
// else the owned partitions of t ("" none, "0,1"). want is an error name,
// or "e<epoch> " and the assignment ("-" when the answer carries none).
type hbStep struct {
	member string
	epoch  int32
	owned  string
	want   string
}

func (h *harness) hb(member string, epoch int32, owned string, mod ...func(*kmsg.ConsumerGroupHeartbeatRequest)) *kmsg.ConsumerGroupHeartbeatResponse {
	r := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	r.Version, r.Group, r.MemberID, r.MemberEpoch = 1, "g", member, epoch
	r.RebalanceTimeoutMillis = -1
	switch {
	case epoch == 0:
		r.RebalanceTimeoutMillis, r.SubscribedTopicNames = 30000, []string{"t"}
		r.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	case owned != "-":
		rt := kmsg.NewConsumerGroupHeartbeatRequestTopic()
		rt.TopicID, rt.Partitions = topicIDs["t"], parseParts(owned)
		r.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{rt}
	}
	for _, m := range mod {
		m(r)
	}
	return h.c.ConsumerGroupHeartbeat(r, Client{ID: "client-" + member})
}

func parseParts(s string) []int32 {
	out := []int32{}
	for _, f := range strings.Split(s, ",") {
		if f != "" {
			n, _ := strconv.Atoi(f)
			out = append(out, int32(n))
		}
	}
	return out
}

func outcome(resp *kmsg.ConsumerGroupHeartbeatResponse) string {
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return err.(*kerr.Error).Message
	}
	out := fmt.Sprintf("e%d ", resp.MemberEpoch)
	if resp.Assignment == nil {
		return out + "-"
	}
	var parts []string
	for _, at := range resp.Assignment.Topics {
		parts = append(parts, fmt.Sprintf("%s%v", testTopicName(at.TopicID), at.Partitions))
	}
	return out + "[" + strings.Join(parts, " ") + "]"
}

func (h *harness) script(steps []hbStep) {
	h.t.Helper()
	for i, s := range steps {
		if got := outcome(h.hb(s.member, s.epoch, s.owned)); got != s.want {
			h.t.Fatalf("step %d (%s epoch %d owned %q): got %q, want %q", i, s.member, s.epoch, s.owned, got, s.want)
		}
	}
}

func (h *harness) describe848() kmsg.ConsumerGroupDescribeResponseGroup {
	r := kmsg.NewPtrConsumerGroupDescribeRequest()
	r.Groups = []string{"g"}
	return h.c.ConsumerGroupDescribe(r).Groups[0]
}

// TestReconcileHandsOverOnlyReleasedPartitions: a joining member gets a
// partition only after its previous owner reports it revoked; the owner
// stays at its epoch meanwhile.
func TestReconcileHandsOverOnlyReleasedPartitions(t *testing.T) {
	h := new848(t)
	h.script([]hbStep{
		{"a", 0, "", "e1 [t[0 1 2 3]]"},    // a joins alone: everything
		{"a", 1, "0,1,2,3", "e1 -"},        // steady: nothing new to say
		{"b", 0, "", "e2 []"},              // b joins (group epoch 2); its half is still a's: withheld
		{"a", 1, "0,1,2,3", "e1 [t[0 1]]"}, // a must give up 2,3 first: stays at epoch 1
		{"b", 2, "", "e2 -"},               // still not released
		{"a", 1, "-", "e1 -"},              // a keepalive (revoking): still waiting
		{"a", 1, "0,1", "e2 -"},            // a reports them gone: it moves to epoch 2
		{"b", 2, "", "e2 [t[2 3]]"},        // now b gets them
		{"a", 3, "0,1", "FENCED_MEMBER_EPOCH"},
		{"a", 1, "0,1", "e2 -"}, // the previous epoch with a subset: its answer was lost, accepted
		{"a", 1, "0,1,2", "FENCED_MEMBER_EPOCH"},
		{"zz", 1, "", "UNKNOWN_MEMBER_ID"},
	})
	d := h.describe848()
	if d.State != "Stable" || d.Epoch != 2 || d.AssignmentEpoch != 2 || d.AssignorName != "uniform" || len(d.Members) != 2 {
		t.Fatalf("describe: %+v", d)
	}
	h.script([]hbStep{
		{"b", -1, "", "e-1 -"},             // b leaves: group epoch 3
		{"a", 2, "0,1", "e3 [t[0 1 2 3]]"}, // its partitions are free: a takes them at once
		{"b", 3, "", "UNKNOWN_MEMBER_ID"},
	})
	h.advance(44 * time.Second)
	h.script([]hbStep{{"a", 3, "0,1,2,3", "e3 -"}})
	h.advance(45 * time.Second) // no heartbeat for a session: a is removed
	h.script([]hbStep{{"a", 3, "0,1,2,3", "UNKNOWN_MEMBER_ID"}})
	if d := h.describe848(); d.State != "Empty" || len(d.Members) != 0 || d.Epoch != 4 {
		t.Fatalf("after the session expired: %+v", d)
	}
}

// TestReconcileRevokeTimeout: a member that does not revoke within its
// rebalance timeout is removed and its partitions reassigned.
func TestReconcileRevokeTimeout(t *testing.T) {
	h := new848(t)
	h.script([]hbStep{
		{"a", 0, "", "e1 [t[0 1 2 3]]"},
		{"b", 0, "", "e2 []"},
		{"a", 1, "0,1,2,3", "e1 [t[0 1]]"},
	})
	h.advance(20 * time.Second)
	h.script([]hbStep{{"a", 1, "-", "e1 -"}, {"b", 2, "", "e2 -"}})
	h.advance(11 * time.Second) // 31s > the 30s rebalance timeout
	h.script([]hbStep{
		{"a", 1, "0,1,2,3", "UNKNOWN_MEMBER_ID"},
		{"b", 2, "", "e3 [t[0 1 2 3]]"},
	})
}

// TestReconcileOnTopicGrowth: more partitions bump the group epoch and the
// new ones are handed out at the next heartbeats.
func TestReconcileOnTopicGrowth(t *testing.T) {
	counts := map[string]int32{"t": 2}
	h := newHarness(t, topicsFor(counts))
	h.script([]hbStep{
		{"a", 0, "", "e1 [t[0 1]]"},
		{"b", 0, "", "e2 []"},
		{"a", 1, "0,1", "e1 [t[0]]"},
		{"a", 1, "0", "e2 -"},
		{"b", 2, "", "e2 [t[1]]"},
	})
	counts["t"] = 4
	h.script([]hbStep{
		{"a", 2, "0", "e3 [t[0 2]]"},
		{"b", 2, "1", "e3 [t[1 3]]"},
	})
}

func TestConsumerHeartbeatBadRequests(t *testing.T) {
	h := new848(t, func(cfg *Config) { cfg.ConsumerMaxSize = 2 })
	set := func(f func(*kmsg.ConsumerGroupHeartbeatRequest)) func(*kmsg.ConsumerGroupHeartbeatRequest) { return f }
	for _, c := range []struct {
		name string
		mod  func(*kmsg.ConsumerGroupHeartbeatRequest)
		want string
	}{
		{"no group", set(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.Group = "" }), "INVALID_REQUEST"},
		{"no member id on v1", set(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberID = "" }), "INVALID_REQUEST"},
		{"owned partitions on a join", set(func(r *kmsg.ConsumerGroupHeartbeatRequest) {
			r.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{{TopicID: topicIDs["t"], Partitions: []int32{0}}}
		}), "INVALID_REQUEST"},
		{"no rebalance timeout on a join", set(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.RebalanceTimeoutMillis = -1 }), "INVALID_REQUEST"},
		{"no subscription on a join", set(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.SubscribedTopicNames = nil }), "INVALID_REQUEST"},
		{"epoch -3", set(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = -3 }), "INVALID_REQUEST"},
		{"static leave without an instance", set(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = -2 }), "INVALID_REQUEST"},
		{"unknown assignor", set(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.ServerAssignor = strPtr("sticky") }), "UNSUPPORTED_ASSIGNOR"},
		{"bad regex", set(func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.SubscribedTopicRegex = strPtr("(") }), "INVALID_REGULAR_EXPRESSION"},
	} {
		if got := outcome(h.hb("m", 0, "", c.mod)); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
	h.script([]hbStep{
		{"a", 0, "", "e1 [t[0 1 2 3]]"},
		{"b", 0, "", "e2 []"},
		{"c", 0, "", "GROUP_MAX_SIZE_REACHED"},
	})
	// v0: the coordinator names the member.
	h2 := new848(t)
	resp := h2.hb("", 0, "", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.Version = 0 })
	if resp.ErrorCode != 0 || resp.MemberID == nil || *resp.MemberID == "" || resp.MemberEpoch != 1 {
		t.Fatalf("v0 join: %s, member %v", outcome(resp), resp.MemberID)
	}
}

func TestConsumerStaticMembers(t *testing.T) {
	h := new848(t)
	inst := func(id string) func(*kmsg.ConsumerGroupHeartbeatRequest) {
		return func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.InstanceID = strPtr(id) }
	}
	step := func(member string, epoch int32, owned, want string) {
		t.Helper()
		if got := outcome(h.hb(member, epoch, owned, inst("i1"))); got != want {
			t.Fatalf("%s epoch %d: got %s, want %s", member, epoch, got, want)
		}
	}
	step("s1", 0, "", "e1 [t[0 1 2 3]]")
	step("s2", 0, "", "UNRELEASED_INSTANCE_ID") // s1 still holds the instance
	step("s2", 1, "", "FENCED_INSTANCE_ID")
	step("s1", -2, "", "e-2 -")          // leaves for now, keeping its partitions
	step("s2", 0, "", "e1 [t[0 1 2 3]]") // the new incarnation takes them over, no rebalance
	if d := h.describe848(); d.Epoch != 1 || len(d.Members) != 1 || d.Members[0].MemberID != "s2" {
		t.Fatalf("after the static rejoin: %+v", d)
	}
	step("s1", 1, "0", "FENCED_INSTANCE_ID")
	step("s2", -1, "", "e-1 -")
	if d := h.describe848(); d.Epoch != 2 || len(d.Members) != 0 {
		t.Fatalf("after the static leave: %+v", d)
	}
}

// TestConsumerAndClassicGroupsExclude: a group is classic or consumer;
// the other protocol's requests are refused as Kafka refuses them, and
// the admin views show each for what it is.
func TestConsumerAndClassicGroupsExclude(t *testing.T) {
	h := new848(t)
	h.script([]hbStep{{"a", 0, "", "e1 [t[0 1 2 3]]"}})
	join := h.joinWith(joinReq("g", ""))
	if join.resp.ErrorCode != kerr.InconsistentGroupProtocol.Code {
		t.Fatalf("JoinGroup on a consumer group: %d", join.resp.ErrorCode)
	}
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID, hb.Generation = "g", "a", 1
	if code := h.c.Heartbeat(hb).ErrorCode; code != kerr.UnknownMemberID.Code {
		t.Fatalf("classic Heartbeat on a consumer group: %d", code)
	}
	dg := h.c.DescribeGroups(&kmsg.DescribeGroupsRequest{Version: 5, Groups: []string{"g"}}).Groups[0]
	if dg.State != "Dead" || dg.ErrorCode != 0 || len(dg.Members) != 0 {
		t.Fatalf("DescribeGroups of a consumer group: %+v", dg)
	}
	lg := h.c.ListGroups(kmsg.NewPtrListGroupsRequest()).Groups
	if len(lg) != 1 || lg[0].ProtocolType != "consumer" || lg[0].GroupState != "Stable" {
		t.Fatalf("ListGroups: %+v", lg)
	}

	// A classic group with members is not a consumer group.
	h.joinNew("classic")
	r := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	r.Version, r.Group, r.MemberID, r.RebalanceTimeoutMillis = 1, "classic", "x", 30000
	r.SubscribedTopicNames, r.Topics = []string{"t"}, []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	if code := h.c.ConsumerGroupHeartbeat(r, Client{}).ErrorCode; code != kerr.GroupIDNotFound.Code {
		t.Fatalf("consumer heartbeat on a classic group: %d", code)
	}
	d := kmsg.NewPtrConsumerGroupDescribeRequest()
	d.Groups = []string{"classic", "none"}
	for _, g := range h.c.ConsumerGroupDescribe(d).Groups {
		if g.ErrorCode != kerr.GroupIDNotFound.Code {
			t.Fatalf("ConsumerGroupDescribe %s: %d", g.Group, g.ErrorCode)
		}
	}

	// The last member leaving empties the group; a classic join then
	// makes it a classic group again.
	h.script([]hbStep{{"a", -1, "", "e-1 -"}})
	if join := h.joinWith(joinReq("g", "")); join.resp.ErrorCode != kerr.MemberIDRequired.Code {
		t.Fatalf("JoinGroup on an empty consumer group: %d", join.resp.ErrorCode)
	}
}

func commit848(h *harness, version int16, member string, epoch int32) int16 {
	r := kmsg.NewPtrOffsetCommitRequest()
	r.Version, r.Group, r.MemberID, r.Generation = version, "g", member, epoch
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = "t"
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset = 0, 42
	rt.Partitions = append(rt.Partitions, rp)
	r.Topics = append(r.Topics, rt)
	return h.c.OffsetCommit(r).Topics[0].Partitions[0].ErrorCode
}

func fetch848(h *harness, member string, epoch int32) (int16, int64) {
	r := kmsg.NewPtrOffsetFetchRequest()
	r.Version = 9
	rg := kmsg.NewOffsetFetchRequestGroup()
	rg.Group, rg.MemberEpoch = "g", epoch
	if member != "" {
		rg.MemberID = strPtr(member)
	}
	rt := kmsg.NewOffsetFetchRequestGroupTopic()
	rt.Topic, rt.Partitions = "t", []int32{0}
	rg.Topics = append(rg.Topics, rt)
	r.Groups = append(r.Groups, rg)
	g := h.c.OffsetFetch(r).Groups[0]
	if g.ErrorCode != 0 {
		return g.ErrorCode, -1
	}
	return 0, g.Topics[0].Partitions[0].Offset
}

// TestConsumerOffsetsUseMemberEpochs: OffsetCommit v9 and OffsetFetch v9
// check the member epoch; offsets outlive a coordinator restart while
// membership is rebuilt from heartbeats.
func TestConsumerOffsetsUseMemberEpochs(t *testing.T) {
	h := new848(t)
	h.script([]hbStep{{"a", 0, "", "e1 [t[0 1 2 3]]"}, {"b", 0, "", "e2 []"}})
	for _, c := range []struct {
		version int16
		member  string
		epoch   int32
		want    *kerr.Error
	}{
		{9, "a", 2, kerr.StaleMemberEpoch}, // a is still at epoch 1
		{8, "a", 1, kerr.UnsupportedVersion},
		{9, "zz", 1, kerr.UnknownMemberID},
		{9, "", -1, kerr.UnknownMemberID}, // an admin commit to a live group
		{9, "a", 1, nil},
	} {
		if got := commit848(h, c.version, c.member, c.epoch); got != codeOf(c.want) {
			t.Errorf("commit v%d %s epoch %d: %d, want %v", c.version, c.member, c.epoch, got, c.want)
		}
	}
	if code, _ := fetch848(h, "a", 2); code != kerr.StaleMemberEpoch.Code {
		t.Errorf("fetch at a stale epoch: %d", code)
	}
	if code, off := fetch848(h, "a", 1); code != 0 || off != 42 {
		t.Errorf("fetch: %d, offset %d", code, off)
	}
	if code, off := fetch848(h, "", -1); code != 0 || off != 42 {
		t.Errorf("admin fetch: %d, offset %d", code, off)
	}

	h.start() // a coordinator restart: only offsets are stored
	h.script([]hbStep{
		{"a", 1, "0,1,2,3", "UNKNOWN_MEMBER_ID"},
		{"a", 0, "", "e1 [t[0 1 2 3]]"},
	})
	if code, off := fetch848(h, "a", 1); code != 0 || off != 42 {
		t.Errorf("fetch after the restart: %d, offset %d", code, off)
	}
}

func codeOf(e *kerr.Error) int16 {
	if e == nil {
		return 0
	}
	return e.Code
}

// TestConsumerGroupRangeAssignor: the assignor most members ask for is
// used.
func TestConsumerGroupRangeAssignor(t *testing.T) {
	h := new848(t)
	rng := func(r *kmsg.ConsumerGroupHeartbeatRequest) {
		r.ServerAssignor = strPtr("range")
		r.SubscribedTopicNames = []string{"t", "u"}
	}
	if got := outcome(h.hb("a", 0, "", rng)); got != "e1 [t[0 1 2 3] u[0 1]]" {
		t.Fatalf("a: %s", got)
	}
	if got := outcome(h.hb("b", 0, "", rng)); got != "e2 []" {
		t.Fatalf("b: %s", got)
	}
	if d := h.describe848(); d.AssignorName != "range" || fmt.Sprint(d.Members[1].TargetAssignment.TopicPartitions[0].Partitions) != "[2 3]" {
		t.Fatalf("describe: %+v", d)
	}
}
