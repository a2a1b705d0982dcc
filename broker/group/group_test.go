package group

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/internaltopic"
)

func TestPartitionForMatchesKafka(t *testing.T) {
	// Java: Math.abs-free Utils.abs("...".hashCode()) % 50.
	for _, c := range []struct {
		id   string
		want int32
	}{
		{"", 0},
		{"a", 97 % 50},
		{"my-group", int32(uint32(javaHash("my-group"))&0x7fffffff) % 50},
		{"console-consumer-12345", int32(uint32(javaHash("console-consumer-12345"))&0x7fffffff) % 50},
	} {
		if got := PartitionFor(c.id, 50); got != c.want {
			t.Errorf("PartitionFor(%q) = %d, want %d", c.id, got, c.want)
		}
	}
	// "polygenelubricants".hashCode() == Integer.MIN_VALUE: abs keeps 0.
	if got := PartitionFor("polygenelubricants", 50); got != 0 {
		t.Errorf("PartitionFor of a MIN_VALUE hash = %d, want 0", got)
	}
}

func javaHash(s string) int32 {
	var h int32
	for _, c := range s {
		h = 31*h + int32(c)
	}
	return h
}

func TestJoinSyncTwoMembers(t *testing.T) {
	h := newHarness(t)
	a := h.joinNew("g")
	ra := h.wantJoined(a, 1) // alone: completes at once
	if ra.LeaderID != ra.MemberID || len(ra.Members) != 1 {
		t.Fatalf("first member should lead alone: %+v", ra)
	}
	h.wantSynced(h.sync("g", ra.MemberID, 1, map[string]string{ra.MemberID: "A"}), "A")

	b := h.joinNew("g") // parks: a must rejoin
	if b.done() {
		t.Fatal("second join answered before the leader rejoined")
	}
	h.wantErr(h.heartbeat("g", ra.MemberID, 1), kerr.RebalanceInProgress, "heartbeat during rebalance")
	a2 := h.joinWith(joinReq("g", ra.MemberID))
	ra2, rb := h.wantJoined(a2, 2), h.wantJoined(b, 2)
	if ra2.LeaderID != ra.MemberID || len(ra2.Members) != 2 || len(rb.Members) != 0 {
		t.Fatalf("leader keeps leading and alone sees members: %+v / %+v", ra2, rb)
	}
	sb := h.sync("g", rb.MemberID, 2, nil)
	if sb.n != 0 {
		t.Fatal("follower sync answered before the leader's")
	}
	h.wantErr(h.heartbeat("g", rb.MemberID, 2), nil, "heartbeat while completing")
	sa := h.sync("g", ra.MemberID, 2, map[string]string{ra.MemberID: "A", rb.MemberID: "B"})
	h.wantSynced(sa, "A")
	h.wantSynced(sb, "B")
	if d := h.describe("g"); d.State != "Stable" || len(d.Members) != 2 || d.Protocol != "range" {
		t.Fatalf("describe: %+v", d)
	}
	h.wantErr(h.heartbeat("g", rb.MemberID, 1), kerr.IllegalGeneration, "old generation")
	h.wantErr(h.heartbeat("g", "nobody", 2), kerr.UnknownMemberID, "unknown member")
}

func TestJoinBadInput(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		name string
		mod  func(*kmsg.JoinGroupRequest)
		want *kerr.Error
	}{
		{"empty group id", func(r *kmsg.JoinGroupRequest) { r.Group = "" }, kerr.InvalidGroupID},
		{"session too short", func(r *kmsg.JoinGroupRequest) { r.SessionTimeoutMillis = 10 }, kerr.InvalidSessionTimeout},
		{"session too long", func(r *kmsg.JoinGroupRequest) { r.SessionTimeoutMillis = 1 << 30 }, kerr.InvalidSessionTimeout},
		{"no protocols", func(r *kmsg.JoinGroupRequest) { r.Protocols = nil }, kerr.InconsistentGroupProtocol},
		{"no protocol type", func(r *kmsg.JoinGroupRequest) { r.ProtocolType = "" }, kerr.InconsistentGroupProtocol},
		{"unknown member of unknown group", func(r *kmsg.JoinGroupRequest) { r.MemberID = "ghost" }, kerr.UnknownMemberID},
	} {
		r := joinReq("bad", "")
		c.mod(r)
		h.wantJoinErr(h.joinWith(r), c.want)
	}
	a := h.wantJoined(h.joinNew("g"), 1)
	h.wantJoinErr(h.joinWith(joinReq("g", "", "roundrobin")), kerr.InconsistentGroupProtocol)
	r := joinReq("g", "")
	r.ProtocolType = "connect"
	h.wantJoinErr(h.joinWith(r), kerr.InconsistentGroupProtocol)
	h.wantJoinErr(h.joinWith(joinReq("g", "ghost")), kerr.UnknownMemberID)
	s := h.sync("g", a.MemberID, 7, nil)
	if s.resp.ErrorCode != kerr.IllegalGeneration.Code {
		t.Fatalf("sync with a wrong generation: %v", kerr.ErrorForCode(s.resp.ErrorCode))
	}
}

func TestOldJoinGetsNoMemberIDRequired(t *testing.T) {
	h := newHarness(t)
	r := joinReq("g", "")
	r.Version = 3
	h.wantJoined(h.joinWith(r), 1)
}

func TestSessionTimeoutRemovesMember(t *testing.T) {
	h := newHarness(t)
	a := h.wantJoined(h.joinNew("g"), 1)
	h.sync("g", a.MemberID, 1, map[string]string{a.MemberID: "A"})
	h.advance(9 * time.Second)
	h.wantErr(h.heartbeat("g", a.MemberID, 1), nil, "heartbeat in time")
	h.advance(9 * time.Second)
	if d := h.describe("g"); d.State != "Stable" {
		t.Fatalf("expired early: %s", d.State)
	}
	h.advance(2 * time.Second)
	if d := h.describe("g"); d.State != "Empty" || len(d.Members) != 0 {
		t.Fatalf("after the session timeout: %+v", d)
	}
	h.wantErr(h.heartbeat("g", a.MemberID, 1), kerr.UnknownMemberID, "heartbeat after expiry")
}

func TestRebalanceTimeoutDropsMembersThatDoNotRejoin(t *testing.T) {
	h := newHarness(t)
	a := h.wantJoined(h.joinNew("g"), 1)
	h.sync("g", a.MemberID, 1, map[string]string{a.MemberID: "A"})
	b := h.joinNew("g")
	for range 29 {
		h.advance(time.Second)
		h.heartbeat("g", a.MemberID, 1) // alive, but never rejoins
	}
	if b.done() {
		t.Fatal("join completed before the rebalance timeout")
	}
	h.advance(time.Second)
	rb := h.wantJoined(b, 2)
	if rb.LeaderID != rb.MemberID || len(rb.Members) != 1 {
		t.Fatalf("the one who rejoined leads alone: %+v", rb)
	}
	h.wantErr(h.heartbeat("g", a.MemberID, 1), kerr.UnknownMemberID, "dropped member")
}

func TestMemberThatNeverSyncsIsRemoved(t *testing.T) {
	h := newHarness(t)
	a := h.wantJoined(h.joinNew("g"), 1)
	h.sync("g", a.MemberID, 1, map[string]string{a.MemberID: "A"})
	b := h.joinNew("g")
	h.joinWith(joinReq("g", a.MemberID))
	rb := h.wantJoined(b, 2)
	h.wantSynced(h.sync("g", a.MemberID, 2, map[string]string{a.MemberID: "A", rb.MemberID: "B"}), "A")
	for range 31 { // b never syncs; a heartbeats
		h.advance(time.Second)
		h.heartbeat("g", a.MemberID, 2)
	}
	if d := h.describe("g"); d.State != "PreparingRebalance" || len(d.Members) != 1 {
		t.Fatalf("after the sync deadline: %+v", d)
	}
}

func TestInitialRebalanceDelay(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.InitialRebalanceDelay = 3 * time.Second })
	a := h.joinNew("g")
	h.advance(2 * time.Second)
	b := h.joinNew("g") // a new member extends the delay once more
	h.advance(time.Second)
	if a.done() || b.done() {
		t.Fatal("join completed inside the initial delay")
	}
	h.advance(3 * time.Second)
	ra, rb := h.wantJoined(a, 1), h.wantJoined(b, 1)
	if len(ra.Members)+len(rb.Members) != 2 {
		t.Fatalf("both members in the first generation: %+v %+v", ra, rb)
	}
}

func TestLeaveRebalancesTheRest(t *testing.T) {
	h := newHarness(t)
	a := h.wantJoined(h.joinNew("g"), 1)
	h.sync("g", a.MemberID, 1, map[string]string{a.MemberID: "A"})
	b := h.joinNew("g")
	h.joinWith(joinReq("g", a.MemberID))
	rb := h.wantJoined(b, 2)
	h.sync("g", a.MemberID, 2, map[string]string{a.MemberID: "A", rb.MemberID: "B"})
	h.sync("g", rb.MemberID, 2, nil)

	resp := h.leave("g", a.MemberID, "ghost")
	if resp.ErrorCode != 0 || resp.Members[0].ErrorCode != 0 || resp.Members[1].ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("leave: %+v", resp)
	}
	h.wantErr(h.heartbeat("g", rb.MemberID, 2), kerr.RebalanceInProgress, "heartbeat after a leave")
	rb3 := h.wantJoined(h.joinWith(joinReq("g", rb.MemberID)), 3)
	if rb3.LeaderID != rb.MemberID {
		t.Fatalf("leadership moves to the remaining member: %+v", rb3)
	}
	h.leave("g", rb.MemberID)
	if d := h.describe("g"); d.State != "Empty" {
		t.Fatalf("group after everyone left: %+v", d)
	}
}

func staticJoin(group, member, instance string, protocols ...string) *kmsg.JoinGroupRequest {
	r := joinReq(group, member, protocols...)
	r.InstanceID = &instance
	return r
}

func TestStaticMemberRejoinsWithoutRebalance(t *testing.T) {
	h := newHarness(t)
	a := h.wantJoined(h.joinWith(staticJoin("g", "", "i-a")), 1)
	h.sync("g", a.MemberID, 1, map[string]string{a.MemberID: "A"})
	b := h.joinWith(staticJoin("g", "", "i-b"))
	h.joinWith(staticJoin("g", a.MemberID, "i-a"))
	rb := h.wantJoined(b, 2)
	h.sync("g", a.MemberID, 2, map[string]string{a.MemberID: "A", rb.MemberID: "B"})
	h.sync("g", rb.MemberID, 2, nil)

	// b restarts: same instance id, no member id, same protocols.
	rb2 := h.wantJoined(h.joinWith(staticJoin("g", "", "i-b")), 2)
	if rb2.MemberID == rb.MemberID || rb2.LeaderID != a.MemberID {
		t.Fatalf("replacement: %+v", rb2)
	}
	h.wantSynced(h.sync("g", rb2.MemberID, 2, nil), "B")
	if d := h.describe("g"); d.State != "Stable" {
		t.Fatalf("a static rejoin rebalanced: %s", d.State)
	}
	r := kmsg.NewPtrHeartbeatRequest()
	r.Group, r.MemberID, r.Generation, r.InstanceID = "g", rb.MemberID, 2, strPtr("i-b")
	h.wantErr(codeErr(h.c.Heartbeat(r).ErrorCode), kerr.FencedInstanceID, "old member id of a static member")
	h.wantJoinErr(h.joinWith(staticJoin("g", rb.MemberID, "i-b")), kerr.FencedInstanceID)

	// A changed subscription does rebalance.
	h.joinWith(staticJoin("g", "", "i-b", "roundrobin", "range"))
	if d := h.describe("g"); d.State != "PreparingRebalance" && d.State != "Stable" {
		t.Fatalf("state after a changed static rejoin: %s", d.State)
	}
}

func TestStaticLeaveByInstanceID(t *testing.T) {
	h := newHarness(t)
	a := h.wantJoined(h.joinWith(staticJoin("g", "", "i-a")), 1)
	r := kmsg.NewPtrLeaveGroupRequest()
	r.Version, r.Group = 4, "g"
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.InstanceID = strPtr("i-a")
	lm.MemberID = "wrong"
	r.Members = []kmsg.LeaveGroupRequestMember{lm}
	if resp := h.c.LeaveGroup(r); resp.Members[0].ErrorCode != kerr.FencedInstanceID.Code {
		t.Fatalf("leave with a stale member id: %+v", resp)
	}
	r.Members[0].MemberID = a.MemberID
	if resp := h.c.LeaveGroup(r); resp.Members[0].ErrorCode != 0 {
		t.Fatalf("leave: %+v", resp)
	}
	if d := h.describe("g"); d.State != "Empty" {
		t.Fatalf("after the static member left: %+v", d)
	}
}

func TestOffsetCommitRules(t *testing.T) {
	h := newHarness(t)
	// A simple consumer commits to an unknown group: allowed, group created Empty.
	h.wantErr(h.commit("simple", "", -1, "t", 0, 42), nil, "simple commit")
	if off, err := h.fetch("simple", "t", 0); off != 42 || err != nil {
		t.Fatalf("fetch: %d %v", off, err)
	}
	if d := h.describe("simple"); d.State != "Empty" {
		t.Fatalf("simple group: %+v", d)
	}
	h.wantErr(h.commit("nogroup", "m", 3, "t", 0, 1), kerr.IllegalGeneration, "commit to an unknown group with a generation")
	h.wantErr(h.commit("simple", "", -1, "nope", 0, 1), kerr.UnknownTopicOrPartition, "unknown topic")

	a := h.wantJoined(h.joinNew("g"), 1)
	h.wantErr(h.commit("g", a.MemberID, 1, "t", 0, 5), kerr.RebalanceInProgress, "commit before sync")
	h.sync("g", a.MemberID, 1, map[string]string{a.MemberID: "A"})
	h.wantErr(h.commit("g", a.MemberID, 1, "t", 0, 5), nil, "member commit")
	h.wantErr(h.commit("g", a.MemberID, 0, "t", 0, 5), kerr.IllegalGeneration, "stale generation")
	h.wantErr(h.commit("g", "ghost", 1, "t", 0, 5), kerr.UnknownMemberID, "unknown member")
	h.wantErr(h.commit("g", "", -1, "t", 0, 5), kerr.UnknownMemberID, "simple commit to a live group")
	if off, _ := h.fetch("g", "t", 1); off != -1 {
		t.Fatalf("uncommitted partition: %d", off)
	}

	h.store.Fail(errors.New("disk gone"))
	h.wantErr(h.commit("g", a.MemberID, 1, "t", 0, 9), kerr.CoordinatorNotAvailable, "failed append")
	h.store.Fail(nil)
	if off, _ := h.fetch("g", "t", 0); off != 5 {
		t.Fatalf("a failed commit changed the offset: %d", off)
	}
}

func TestReloadFromStorage(t *testing.T) {
	h := newHarness(t)
	h.commit("simple", "", -1, "t", 3, 300)
	a := h.wantJoined(h.joinNew("g"), 1)
	h.sync("g", a.MemberID, 1, map[string]string{a.MemberID: "A"})
	h.commit("g", a.MemberID, 1, "t", 0, 10)
	h.commit("g", a.MemberID, 1, "t", 0, 11)
	h.commit("g", a.MemberID, 1, "u", 1, 7)
	h.commit("gone", "", -1, "t", 0, 1)
	del := kmsg.NewPtrDeleteGroupsRequest()
	del.Groups = []string{"gone"}
	if resp := h.c.DeleteGroups(del); resp.Groups[0].ErrorCode != 0 {
		t.Fatalf("delete: %+v", resp)
	}

	h.start()
	for _, c := range []struct {
		group, topic string
		part         int32
		want         int64
	}{{"simple", "t", 3, 300}, {"g", "t", 0, 11}, {"g", "u", 1, 7}, {"gone", "t", 0, -1}} {
		if off, err := h.fetch(c.group, c.topic, c.part); off != c.want || err != nil {
			t.Errorf("after reload %s %s/%d = %d %v, want %d", c.group, c.topic, c.part, off, err, c.want)
		}
	}
	// The member comes back with its session: it can heartbeat and commit.
	h.wantErr(h.heartbeat("g", a.MemberID, 1), nil, "heartbeat after reload")
	h.wantSynced(h.sync("g", a.MemberID, 1, nil), "A")
	h.wantJoined(h.joinWith(joinReq("g", a.MemberID)), 2) // leader rejoin rebalances to gen 2
}

func TestLoadSkipsBadRecordsAndGatesRequests(t *testing.T) {
	h := newHarness(t)
	h.commit("g", "", -1, "t", 0, 5)
	p := h.c.PartitionFor("g")
	bad := internaltopic.EncodeBatch([]record{
		{key: []byte{0, 1, 0xff}, value: []byte{1}},                     // unreadable offset key
		{key: []byte{0, 9, 1, 2}, value: []byte{3}},                     // another coordinator's record
		offsetRecord("g", "t", 1, &offset{offset: 6, committed: h.now}), // fine
	}, h.now)
	h.store.Append(p, bad)
	c := New(h.cfg, h.store)
	if off, err := fetchWith(c, "g"); err != kerr.NotCoordinator {
		t.Fatalf("before load: %d %v", off, err)
	}
	c.MarkLoading(p)
	if _, err := fetchWith(c, "g"); err != kerr.CoordinatorLoadInProgress {
		t.Fatalf("while loading: %v", err)
	}
	if err := c.LoadPartition(p); err != nil {
		t.Fatal(err)
	}
	h.c = c
	for part, want := range map[int32]int64{0: 5, 1: 6} {
		if off, err := h.fetch("g", "t", part); off != want || err != nil {
			t.Errorf("t/%d = %d %v, want %d", part, off, err, want)
		}
	}
	c.UnloadPartition(p)
	if _, err := fetchWith(c, "g"); err != kerr.NotCoordinator {
		t.Fatalf("after unload: %v", err)
	}
}

func fetchWith(c *Coordinator, group string) (int64, *kerr.Error) {
	r := kmsg.NewPtrOffsetFetchRequest()
	r.Version = 7
	r.Group = group
	resp := c.OffsetFetch(r)
	return -1, codeErr(resp.ErrorCode)
}

func TestOffsetRetention(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.OffsetsRetention = time.Hour
		c.RetentionCheckInterval = time.Minute
	})
	h.commit("simple", "", -1, "t", 0, 1)
	a := h.wantJoined(h.joinNew("g"), 1)
	h.sync("g", a.MemberID, 1, map[string]string{a.MemberID: "A"})
	h.commit("g", a.MemberID, 1, "t", 0, 2)
	h.commit("g", a.MemberID, 1, "old-topic", 0, 3)
	// Keep g alive for two hours: its subscribed topic t stays, old-topic
	// (not subscribed) expires.
	for range 2 * 60 * 12 {
		h.advance(5 * time.Second)
		h.heartbeat("g", a.MemberID, 1)
	}
	if off, _ := h.fetch("simple", "t", 0); off != -1 {
		t.Fatalf("simple consumer offset not expired: %d", off)
	}
	if d := h.describe("simple"); d.State != "Dead" {
		t.Fatalf("empty simple group not deleted: %s", d.State)
	}
	if off, _ := h.fetch("g", "t", 0); off != 2 {
		t.Fatalf("subscribed offset expired: %d", off)
	}
	if off, _ := h.fetch("g", "old-topic", 0); off != -1 {
		t.Fatalf("unsubscribed offset kept: %d", off)
	}
	h.leave("g", a.MemberID)
	h.advance(59 * time.Minute)
	if off, _ := h.fetch("g", "t", 0); off != 2 {
		t.Fatalf("expired before the group was empty for the retention: %d", off)
	}
	h.advance(2 * time.Minute)
	if off, _ := h.fetch("g", "t", 0); off != -1 {
		t.Fatalf("empty group's offset kept: %d", off)
	}
}

func TestDeleteGroupsAndOffsetDelete(t *testing.T) {
	h := newHarness(t)
	a := h.wantJoined(h.joinNew("g"), 1)
	h.sync("g", a.MemberID, 1, map[string]string{a.MemberID: "A"})
	h.commit("g", a.MemberID, 1, "t", 0, 1)
	h.commit("g", a.MemberID, 1, "other", 0, 1)

	del := kmsg.NewPtrDeleteGroupsRequest()
	del.Groups = []string{"g", "missing"}
	resp := h.c.DeleteGroups(del)
	if resp.Groups[0].ErrorCode != kerr.NonEmptyGroup.Code || resp.Groups[1].ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("delete groups: %+v", resp)
	}

	od := kmsg.NewPtrOffsetDeleteRequest()
	od.Group = "g"
	for _, topic := range []string{"t", "other"} {
		rt := kmsg.NewOffsetDeleteRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewOffsetDeleteRequestTopicPartition()
		rt.Partitions = append(rt.Partitions, rp)
		od.Topics = append(od.Topics, rt)
	}
	odr := h.c.OffsetDelete(od)
	if odr.ErrorCode != 0 || odr.Topics[0].Partitions[0].ErrorCode != kerr.GroupSubscribedToTopic.Code || odr.Topics[1].Partitions[0].ErrorCode != 0 {
		t.Fatalf("offset delete: %+v", odr)
	}
	if off, _ := h.fetch("g", "other", 0); off != -1 {
		t.Fatalf("deleted offset still there: %d", off)
	}
	od.Group = "missing"
	if r := h.c.OffsetDelete(od); r.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("offset delete of a missing group: %+v", r)
	}

	h.leave("g", a.MemberID)
	del.Groups = []string{"g"}
	if resp := h.c.DeleteGroups(del); resp.Groups[0].ErrorCode != 0 {
		t.Fatalf("delete an empty group: %+v", resp)
	}
	if off, _ := h.fetch("g", "t", 0); off != -1 {
		t.Fatalf("offset of a deleted group: %d", off)
	}
	lg := kmsg.NewPtrListGroupsRequest()
	lg.Version = 4
	if l := h.c.ListGroups(lg); len(l.Groups) != 0 {
		t.Fatalf("list after delete: %+v", l.Groups)
	}
}

func TestListGroupsStatesFilter(t *testing.T) {
	h := newHarness(t)
	h.commit("simple", "", -1, "t", 0, 1)
	a := h.wantJoined(h.joinNew("g"), 1)
	h.sync("g", a.MemberID, 1, map[string]string{a.MemberID: "A"})
	lg := kmsg.NewPtrListGroupsRequest()
	lg.Version = 4
	lg.StatesFilter = []string{"stable"}
	l := h.c.ListGroups(lg)
	if len(l.Groups) != 1 || l.Groups[0].Group != "g" || l.Groups[0].GroupState != "Stable" || l.Groups[0].ProtocolType != "consumer" {
		t.Fatalf("list stable: %+v", l.Groups)
	}
	lg.StatesFilter = nil
	if l := h.c.ListGroups(lg); len(l.Groups) != 2 {
		t.Fatalf("list all: %+v", l.Groups)
	}
}

func TestCloseAnswersWaiters(t *testing.T) {
	h := newHarness(t)
	a := h.wantJoined(h.joinNew("g"), 1)
	h.sync("g", a.MemberID, 1, map[string]string{a.MemberID: "A"})
	b := h.joinNew("g")
	h.c.Close()
	h.wantJoinErr(b, kerr.CoordinatorNotAvailable)
	h.wantErr(h.heartbeat("g", a.MemberID, 1), kerr.CoordinatorNotAvailable, "after close")
}

func TestRecordsRoundTrip(t *testing.T) {
	now := time.UnixMilli(1234)
	recs := []record{
		offsetRecord("g", "t", 2, &offset{offset: 9, leaderEpoch: 4, metadata: "m", committed: now}),
		offsetRecord("g", "t", 3, nil),
		groupRecord("g", nil),
	}
	b := internaltopic.EncodeBatch(recs, now)
	var got []record
	next := internaltopic.DecodeBatches(b, nil, func(_ int64, k, v []byte) { got = append(got, record{key: k, value: v}) },
		func(o int64, err error) { t.Errorf("bad record at %d: %v", o, err) })
	if next != 3 || len(got) != 3 {
		t.Fatalf("decoded %d records, next %d", len(got), next)
	}
	var k kmsg.OffsetCommitKey
	var v kmsg.OffsetCommitValue
	if err := k.ReadFrom(got[0].key); err != nil || k.Version != 1 || k.Topic != "t" || k.Partition != 2 {
		t.Fatalf("key %+v %v", k, err)
	}
	if err := v.ReadFrom(got[0].value); err != nil || v.Version != 3 || v.Offset != 9 || v.LeaderEpoch != 4 || v.CommitTimestamp != 1234 {
		t.Fatalf("value %+v %v", v, err)
	}
	if got[1].value != nil || got[2].value != nil {
		t.Fatal("tombstones must have null values")
	}
}

func FuzzDecodeBatches(f *testing.F) {
	f.Add(internaltopic.EncodeBatch([]record{offsetRecord("g", "t", 0, &offset{offset: 1})}, time.UnixMilli(0)))
	f.Fuzz(func(t *testing.T, b []byte) {
		quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
		l := &loader{c: New(Config{Logger: quiet}, NewMemoryStorage()), groups: map[string]*Group{}}
		internaltopic.DecodeBatches(b, nil, l.apply, func(int64, error) {})
	})
}

// TestOldOffsetCommitVersions: a v0 commit (no generation, no member id)
// is a simple consumer's; a v1 commit's timestamp is its commit time, so
// retention counts from it (Kafka 3.9's OffsetAndMetadata.fromRequest);
// v0/v1 fetches carry a group error on each partition, having no
// group-level error field.
func TestOldOffsetCommitVersions(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.OffsetsRetention = time.Hour
		c.RetentionCheckInterval = time.Minute
	})
	commit := func(version int16, group string, part int32, off, ts int64) *kerr.Error {
		r := kmsg.NewPtrOffsetCommitRequest()
		r.Version = version
		r.Group = group
		rt := kmsg.NewOffsetCommitRequestTopic()
		rt.Topic = "t"
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset, rp.Timestamp = part, off, ts
		rt.Partitions = append(rt.Partitions, rp)
		r.Topics = append(r.Topics, rt)
		return codeErr(h.c.OffsetCommit(r).Topics[0].Partitions[0].ErrorCode)
	}
	h.wantErr(commit(0, "v0", 0, 10, -1), nil, "v0 commit")
	h.wantErr(commit(1, "v1", 0, 20, h.now.Add(-59*time.Minute).UnixMilli()), nil, "v1 commit, an old timestamp")
	h.wantErr(commit(1, "v1", 1, 21, -1), nil, "v1 commit, no timestamp")
	fetch := func(version int16, group string, part int32) kmsg.OffsetFetchResponseTopicPartition {
		r := kmsg.NewPtrOffsetFetchRequest()
		r.Version = version
		r.Group = group
		rt := kmsg.NewOffsetFetchRequestTopic()
		rt.Topic, rt.Partitions = "t", []int32{part}
		r.Topics = append(r.Topics, rt)
		return h.c.OffsetFetch(r).Topics[0].Partitions[0]
	}
	if p := fetch(0, "v0", 0); p.Offset != 10 || p.ErrorCode != 0 {
		t.Fatalf("v0 fetch: %+v", p)
	}
	h.advance(2 * time.Minute)
	if p := fetch(1, "v1", 0); p.Offset != -1 {
		t.Fatalf("offset committed with a timestamp an hour old did not expire: %+v", p)
	}
	if p := fetch(1, "v1", 1); p.Offset != 21 {
		t.Fatalf("offset committed now expired: %+v", p)
	}

	a := h.wantJoined(h.joinNew("g"), 1)
	h.sync("g", a.MemberID, 1, map[string]string{a.MemberID: "A"})
	h.wantErr(commit(0, "g", 0, 1, -1), kerr.UnknownMemberID, "v0 (simple) commit to a live group")

	h.c = New(h.cfg, h.store) // owns no partition yet: NOT_COORDINATOR
	if p := fetch(0, "v0", 0); p.ErrorCode != kerr.NotCoordinator.Code {
		t.Fatalf("v0 fetch from a coordinator that does not own the group: %+v", p)
	}
}

// TestListGroupsTypesFilter: ListGroups v5 reports each group's type and
// filters on it (KIP-848): JoinGroup groups are "classic".
func TestListGroupsTypesFilter(t *testing.T) {
	h := newHarness(t)
	h.wantJoined(h.joinNew("g"), 1)
	list := func(types ...string) []kmsg.ListGroupsResponseGroup {
		r := kmsg.NewPtrListGroupsRequest()
		r.Version = 5
		r.TypesFilter = types
		return h.c.ListGroups(r).Groups
	}
	if gs := list(); len(gs) != 1 || gs[0].GroupType != "classic" {
		t.Fatalf("no filter: %+v", gs)
	}
	if gs := list("Classic"); len(gs) != 1 {
		t.Fatalf("classic filter: %+v", gs)
	}
	if gs := list("consumer"); len(gs) != 0 {
		t.Fatalf("consumer filter: %+v", gs)
	}
}

// TestJoinGroupV0RebalanceTimeoutIsTheSessionTimeout: v0 has no rebalance
// timeout, so a rebalance waits for a v0 member as long as its session
// timeout (Kafka's JoinGroup handler); v0–v3 get a member id on their
// first join, without KIP-394's MEMBER_ID_REQUIRED round trip.
func TestJoinGroupV0RebalanceTimeoutIsTheSessionTimeout(t *testing.T) {
	h := newHarness(t)
	v0 := func(member string) *kmsg.JoinGroupRequest {
		r := joinReq("g", member)
		r.Version, r.RebalanceTimeoutMillis = 0, -1 // as kmsg decodes a v0 request
		return r
	}
	a := h.wantJoined(h.joinWith(v0("")), 1)
	h.sync("g", a.MemberID, 1, map[string]string{a.MemberID: "A"})
	b := h.joinWith(v0(""))
	if b.done() {
		t.Fatalf("a second member's join was answered before the first rejoined: %+v", b.resp)
	}
	// a keeps its session alive but never rejoins.
	for i := 0; i < 3; i++ {
		h.advance(3 * time.Second)
		h.heartbeat("g", a.MemberID, 1)
	}
	if b.done() {
		t.Fatalf("the rebalance ended after 9s, before the 10s session (= rebalance) timeout")
	}
	h.advance(2 * time.Second)
	resp := h.wantJoined(b, 2)
	if len(resp.Members) != 1 || resp.Members[0].MemberID != resp.MemberID {
		t.Fatalf("after the rebalance timeout: members %+v, want only the new one", resp.Members)
	}
}
