package group

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/internal/ddtest"
)

// TestScripts runs the scripts in testdata against a Coordinator on a fake
// clock over a MemoryStorage (the harness of harness_test.go: four
// __consumer_offsets partitions, sessions 6s to 30m; for the consumer
// protocol, topic "t" with 4 partitions and "u" with 2, heartbeats every
// 1s, sessions of 45s). Member ids are the client id and a counter
// ("client-1"). A request that parks prints nothing; its answer is printed
// by the command during which it comes ("join client-1: …"). Commands
// (group= defaults to g):
//
//	config [delay=3s] [max-size=2]     a new coordinator (delay:
//	                                   group.initial.rebalance.delay.ms; max-size:
//	                                   group.consumer.max.size)
//	advance by=5s                      the clock moves; deadlines fire (Tick)
//	topic name=t partitions=6          a topic is created or its partition count
//	                                   changes; partitions=0: it is deleted
//	restart                            a new coordinator over the same storage
//	close                              the coordinator closes (broker shutdown)
//	storage fail=NOT_COORDINATOR|INVALID_COMMIT_OFFSET_SIZE|REQUEST_TIMED_OUT|io|none
//	                                   appends to __consumer_offsets fail with that
//	                                   Kafka error (io: a plain error), or succeed
//	unload | loading | load            this broker loses, is loading, or loads
//	                                   the group's __consumer_offsets partition
//
// The classic protocol:
//
//	join [member=client-1] [instance=i1] [session=10s] [rebalance=30s]
//	     [protocols=(range,roundrobin)] [type=consumer] [v=9]
//	sync member=client-1 gen=1 [assign=(client-1:x,client-2:y)] [instance=i1]
//	heartbeat member=client-1 gen=1 [instance=i1]
//	leave [members=(client-1)] [instances=(i1,i2:i2-3)]  (instance:member id)
//	state                              the group's state, generation, leader, members
//
// The consumer protocol (KIP-848), answered "e<member epoch> [assignment]"
// ("-": none sent) or the error:
//
//	hb member=a epoch=0 [owned=(0,1)|owned=(t:0,v:1)|owned=none] [topics=(t,u)]
//	   [instance=i] [assignor=range] [regex=…] [rebalance=30s]
//	                                   no owned: a keepalive (fields "as before");
//	                                   owned partitions are t's unless named
//	                                   topic:partition; a join with regex= and no
//	                                   topics= subscribes by the regex alone
//	describe848                        ConsumerGroupDescribe
//
// Offsets and administration:
//
//	commit member=client-1 gen=1 [topic=t] [p=0] [offset=5] [v=8] [metadata-bytes=10]
//	fetch topic=t p=0
//	delete-groups groups=(g)
//	delete-offsets topic=t p=0
//
// Run with -rewrite to regenerate the expected output.
func TestScripts(t *testing.T) {
	ddtest.Walk(t, "testdata", func(t *testing.T) ddtest.Handler {
		s := &groupScript{counts: map[string]int32{"t": 4, "u": 2}}
		s.h = newHarness(t, topicsFor(s.counts))
		return s.run
	})
}

type groupScript struct {
	h       *harness
	counts  map[string]int32 // the topics' partition counts, for the consumer protocol
	answers []string
}

func (s *groupScript) run(t *testing.T, d *datadriven.TestData) string {
	s.h.t = t
	out := s.command(t, d)
	// The answers one command releases come in the order the coordinator
	// walks its members (a map), which is not a rule: print them sorted.
	slices.Sort(s.answers)
	for _, a := range s.answers {
		out += a + "\n"
	}
	s.answers = nil
	return out
}

func (s *groupScript) command(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "config":
		var delay time.Duration
		var maxSize int
		d.MaybeScanArgs(t, "delay", &delay)
		d.MaybeScanArgs(t, "max-size", &maxSize)
		s.counts = map[string]int32{"t": 4, "u": 2}
		s.h = newHarness(t, topicsFor(s.counts), func(cfg *Config) { cfg.InitialRebalanceDelay, cfg.ConsumerMaxSize = delay, maxSize })
		return ""
	case "topic":
		var name string
		var n int32
		d.ScanArgs(t, "name", &name)
		d.ScanArgs(t, "partitions", &n)
		if n == 0 {
			delete(s.counts, name)
		} else {
			s.counts[name] = n
		}
		return ""
	case "advance":
		var by time.Duration
		d.ScanArgs(t, "by", &by)
		s.h.advance(by)
		return ""
	case "restart":
		s.h.start()
		return ""
	case "storage":
		return s.storage(t, d)
	case "close":
		s.h.c.Close()
		return ""
	case "unload", "loading", "load":
		return s.ownership(t, d)
	case "join":
		s.join(t, d)
		return ""
	case "sync":
		s.sync(t, d)
		return ""
	case "heartbeat":
		r := kmsg.NewPtrHeartbeatRequest()
		r.Version, r.Group = 4, group(t, d)
		d.ScanArgs(t, "member", &r.MemberID)
		d.ScanArgs(t, "gen", &r.Generation)
		r.InstanceID = optString(t, d, "instance")
		return codeName(s.h.c.Heartbeat(r).ErrorCode) + "\n"
	case "leave":
		return s.leave(t, d)
	case "state":
		return s.state(t, d)
	case "hb":
		return s.hb(t, d)
	case "describe848":
		return s.describe848()
	case "commit":
		return s.commit(t, d)
	case "fetch":
		return s.fetch(t, d)
	case "delete-groups":
		return s.deleteGroups(t, d)
	case "delete-offsets":
		return s.deleteOffsets(t, d)
	}
	return ddtest.Unknown(t, d)
}

func group(t *testing.T, d *datadriven.TestData) string {
	g := "g"
	d.MaybeScanArgs(t, "group", &g)
	return g
}

func optString(t *testing.T, d *datadriven.TestData, key string) *string {
	var v string
	if !d.MaybeScanArgs(t, key, &v) {
		return nil
	}
	return &v
}

func codeName(code int16) string {
	if code == 0 {
		return "ok"
	}
	return kerr.ErrorForCode(code).(*kerr.Error).Message
}

func (s *groupScript) ownership(t *testing.T, d *datadriven.TestData) string {
	p := s.h.c.PartitionFor(group(t, d))
	switch d.Cmd {
	case "unload":
		s.h.c.UnloadPartition(p)
	case "loading":
		s.h.c.MarkLoading(p)
	case "load":
		if err := s.h.c.LoadPartition(p); err != nil {
			return "error: " + err.Error() + "\n"
		}
	}
	return fmt.Sprintf("__consumer_offsets-%d loaded=%t\n", p, s.h.c.Loaded(p))
}

func (s *groupScript) join(t *testing.T, d *datadriven.TestData) {
	var protocols []string
	d.MaybeScanArgs(t, "protocols", &protocols)
	r := joinReq(group(t, d), "", protocols...)
	d.MaybeScanArgs(t, "member", &r.MemberID)
	d.MaybeScanArgs(t, "type", &r.ProtocolType)
	d.MaybeScanArgs(t, "v", &r.Version)
	r.InstanceID = optString(t, d, "instance")
	var session, rebalance time.Duration = 10 * time.Second, 30 * time.Second
	d.MaybeScanArgs(t, "session", &session)
	d.MaybeScanArgs(t, "rebalance", &rebalance)
	r.SessionTimeoutMillis, r.RebalanceTimeoutMillis = int32(session.Milliseconds()), int32(rebalance.Milliseconds())
	who := r.MemberID
	if who == "" {
		who = "(new)"
	}
	if r.InstanceID != nil {
		who += " instance " + *r.InstanceID
	}
	s.h.c.JoinGroup(r, Client{ID: "client", Host: "/127.0.0.1"}, func(resp *kmsg.JoinGroupResponse) {
		s.answers = append(s.answers, "join "+who+": "+renderJoin(resp))
	})
}

func renderJoin(resp *kmsg.JoinGroupResponse) string {
	if resp.ErrorCode != 0 {
		out := codeName(resp.ErrorCode)
		if resp.MemberID != "" {
			out += " member=" + resp.MemberID
		}
		return out
	}
	out := fmt.Sprintf("member=%s gen=%d protocol=%s leader=%s", resp.MemberID, resp.Generation, deref(resp.Protocol), resp.LeaderID)
	if len(resp.Members) > 0 {
		var ms []string
		for _, m := range resp.Members {
			ms = append(ms, m.MemberID)
		}
		out += fmt.Sprintf(" members=%v", ms)
	}
	return out
}

func (s *groupScript) sync(t *testing.T, d *datadriven.TestData) {
	r := kmsg.NewPtrSyncGroupRequest()
	r.Version, r.Group = 5, group(t, d)
	d.ScanArgs(t, "member", &r.MemberID)
	d.ScanArgs(t, "gen", &r.Generation)
	r.InstanceID = optString(t, d, "instance")
	var assign []string
	d.MaybeScanArgs(t, "assign", &assign)
	for _, a := range assign {
		m, v, _ := strings.Cut(a, ":")
		ra := kmsg.NewSyncGroupRequestGroupAssignment()
		ra.MemberID, ra.MemberAssignment = m, []byte(v)
		r.GroupAssignment = append(r.GroupAssignment, ra)
	}
	who := r.MemberID
	s.h.c.SyncGroup(r, func(resp *kmsg.SyncGroupResponse) {
		out := codeName(resp.ErrorCode)
		if resp.ErrorCode == 0 {
			out = fmt.Sprintf("assignment %q", resp.MemberAssignment)
		}
		s.answers = append(s.answers, "sync "+who+": "+out)
	})
}

func (s *groupScript) leave(t *testing.T, d *datadriven.TestData) string {
	r := kmsg.NewPtrLeaveGroupRequest()
	r.Version, r.Group = 5, group(t, d)
	var members, instances []string
	d.MaybeScanArgs(t, "members", &members)
	d.MaybeScanArgs(t, "instances", &instances)
	for _, m := range members {
		lm := kmsg.NewLeaveGroupRequestMember()
		lm.MemberID = m
		r.Members = append(r.Members, lm)
	}
	for _, i := range instances {
		lm := kmsg.NewLeaveGroupRequestMember()
		inst, id, _ := strings.Cut(i, ":") // i1:i1-4, an instance with a member id
		lm.InstanceID, lm.MemberID = &inst, id
		r.Members = append(r.Members, lm)
	}
	resp := s.h.c.LeaveGroup(r)
	if resp.ErrorCode != 0 {
		return codeName(resp.ErrorCode) + "\n"
	}
	var b strings.Builder
	for _, m := range resp.Members {
		who := m.MemberID
		if m.InstanceID != nil {
			who += " instance " + *m.InstanceID
		}
		fmt.Fprintf(&b, "leave %s: %s\n", strings.TrimSpace(who), codeName(m.ErrorCode))
	}
	return b.String()
}

// state renders the classic group: state, generation, protocol, leader,
// members (static ones with their instance).
func (s *groupScript) state(t *testing.T, d *datadriven.TestData) string {
	g, code := s.h.c.find(group(t, d), false)
	switch {
	case code != nil:
		return code.Message + "\n"
	case g == nil:
		return "no group\n"
	}
	var ms []string
	for _, m := range g.sortedMembers() {
		id := m.id
		if m.instanceID != nil {
			id += "(" + *m.instanceID + ")"
		}
		ms = append(ms, id)
	}
	return fmt.Sprintf("%s gen=%d protocol=%q leader=%q members=%v\n", g.state, g.generation, g.protocol, g.leader, ms)
}

func (s *groupScript) hb(t *testing.T, d *datadriven.TestData) string {
	var member string
	var epoch int32
	d.ScanArgs(t, "member", &member)
	d.ScanArgs(t, "epoch", &epoch)
	owned := "-"
	if a, ok := d.Arg("owned"); ok {
		owned = strings.Join(a.Vals, ",")
		if owned == "none" {
			owned = ""
		}
	}
	mod := func(r *kmsg.ConsumerGroupHeartbeatRequest) {
		r.Group = group(t, d)
		r.InstanceID = optString(t, d, "instance")
		r.ServerAssignor = optString(t, d, "assignor")
		r.SubscribedTopicRegex = optString(t, d, "regex")
		if r.SubscribedTopicRegex != nil && epoch == 0 && !d.HasArg("topics") {
			r.SubscribedTopicNames = nil
		}
		if d.MaybeScanArgs(t, "topics", &r.SubscribedTopicNames) && slices.Equal(r.SubscribedTopicNames, []string{""}) {
			r.SubscribedTopicNames = []string{} // topics=(): none
		}
		var rebalance time.Duration
		if d.MaybeScanArgs(t, "rebalance", &rebalance) {
			r.RebalanceTimeoutMillis = int32(rebalance.Milliseconds())
		}
		if epoch == 0 && owned != "-" && owned != "" { // a join that claims partitions
			rt := kmsg.NewConsumerGroupHeartbeatRequestTopic()
			rt.TopicID, rt.Partitions = topicIDs["t"], parseParts(owned)
			r.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{rt}
		}
		if strings.Contains(owned, ":") {
			r.Topics = ownedTopics(owned)
		}
	}
	resp := s.h.hb(member, epoch, owned, mod)
	if resp.ErrorMessage != nil && *resp.ErrorMessage != "" {
		return outcome(resp) + ": " + *resp.ErrorMessage + "\n"
	}
	return outcome(resp) + "\n"
}

// ownedTopics parses "t:0,v:1,v:2" into a heartbeat's owned partitions.
func ownedTopics(owned string) []kmsg.ConsumerGroupHeartbeatRequestTopic {
	parts := topicParts{}
	for _, f := range strings.Split(owned, ",") {
		name, p, _ := strings.Cut(f, ":")
		parts.add(name, parseParts(p)[0])
	}
	var out []kmsg.ConsumerGroupHeartbeatRequestTopic
	parts.each(func(name string, p int32) {
		if len(out) == 0 || out[len(out)-1].TopicID != testTopicID(name) {
			rt := kmsg.NewConsumerGroupHeartbeatRequestTopic()
			rt.TopicID = testTopicID(name)
			out = append(out, rt)
		}
		out[len(out)-1].Partitions = append(out[len(out)-1].Partitions, p)
	})
	return out
}

func (s *groupScript) describe848() string {
	g := s.h.describe848()
	if g.ErrorCode != 0 {
		return codeName(g.ErrorCode) + "\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s epoch=%d assignment-epoch=%d assignor=%s\n", g.State, g.Epoch, g.AssignmentEpoch, g.AssignorName)
	for _, m := range g.Members {
		fmt.Fprintf(&b, "  %s epoch=%d assigned=%s target=%s", m.MemberID, m.MemberEpoch,
			renderAssignment(m.Assignment.TopicPartitions), renderAssignment(m.TargetAssignment.TopicPartitions))
		if m.SubscribedTopicRegex != nil {
			fmt.Fprintf(&b, " topics=%v regex=%s", m.SubscribedTopics, *m.SubscribedTopicRegex)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func renderAssignment(ts []kmsg.AssignmentTopicPartition) string {
	var parts []string
	for _, at := range ts {
		parts = append(parts, fmt.Sprintf("%s%v", at.Topic, at.Partitions))
	}
	slices.Sort(parts)
	return "[" + strings.Join(parts, " ") + "]"
}

func (s *groupScript) commit(t *testing.T, d *datadriven.TestData) string {
	r := kmsg.NewPtrOffsetCommitRequest()
	r.Version, r.Group = 8, group(t, d)
	d.MaybeScanArgs(t, "v", &r.Version)
	r.Generation = -1
	d.MaybeScanArgs(t, "member", &r.MemberID)
	d.MaybeScanArgs(t, "gen", &r.Generation)
	r.InstanceID = optString(t, d, "instance")
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = "t"
	d.MaybeScanArgs(t, "topic", &rt.Topic)
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Offset = 5
	d.MaybeScanArgs(t, "p", &rp.Partition)
	d.MaybeScanArgs(t, "offset", &rp.Offset)
	var mdBytes int
	d.MaybeScanArgs(t, "metadata-bytes", &mdBytes)
	rp.Metadata = strPtr(strings.Repeat("m", mdBytes))
	rt.Partitions = append(rt.Partitions, rp)
	r.Topics = append(r.Topics, rt)
	return codeName(s.h.c.OffsetCommit(r).Topics[0].Partitions[0].ErrorCode) + "\n"
}

func (s *groupScript) fetch(t *testing.T, d *datadriven.TestData) string {
	r := kmsg.NewPtrOffsetFetchRequest()
	r.Version, r.Group = 7, group(t, d)
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic = "t"
	var p int32
	d.MaybeScanArgs(t, "topic", &rt.Topic)
	d.MaybeScanArgs(t, "p", &p)
	rt.Partitions = []int32{p}
	r.Topics = append(r.Topics, rt)
	resp := s.h.c.OffsetFetch(r)
	if resp.ErrorCode != 0 {
		return codeName(resp.ErrorCode) + "\n"
	}
	rp := resp.Topics[0].Partitions[0]
	if rp.ErrorCode != 0 {
		return codeName(rp.ErrorCode) + "\n"
	}
	return fmt.Sprintf("offset %d\n", rp.Offset)
}

func (s *groupScript) deleteGroups(t *testing.T, d *datadriven.TestData) string {
	r := kmsg.NewPtrDeleteGroupsRequest()
	r.Version = 2
	d.ScanArgs(t, "groups", &r.Groups)
	var b strings.Builder
	for _, g := range s.h.c.DeleteGroups(r).Groups {
		fmt.Fprintf(&b, "%s: %s\n", g.Group, codeName(g.ErrorCode))
	}
	return b.String()
}

func (s *groupScript) deleteOffsets(t *testing.T, d *datadriven.TestData) string {
	r := kmsg.NewPtrOffsetDeleteRequest()
	r.Group = group(t, d)
	rt := kmsg.NewOffsetDeleteRequestTopic()
	rt.Topic = "t"
	var p int32
	d.MaybeScanArgs(t, "topic", &rt.Topic)
	d.MaybeScanArgs(t, "p", &p)
	rp := kmsg.NewOffsetDeleteRequestTopicPartition()
	rp.Partition = p
	rt.Partitions = append(rt.Partitions, rp)
	r.Topics = append(r.Topics, rt)
	resp := s.h.c.OffsetDelete(r)
	if resp.ErrorCode != 0 {
		return codeName(resp.ErrorCode) + "\n"
	}
	return codeName(resp.Topics[0].Partitions[0].ErrorCode) + "\n"
}

// storage makes the coordinator's appends fail, as a partition without
// enough in-sync replicas or a failed disk would.
func (s *groupScript) storage(t *testing.T, d *datadriven.TestData) string {
	var fail string
	d.ScanArgs(t, "fail", &fail)
	switch fail {
	case "none":
		s.h.store.Fail(nil)
	case "io":
		s.h.store.Fail(errors.New("input/output error"))
	default:
		e := kerr.TypedErrorForCode(errorCodes[fail])
		if e == nil {
			t.Fatalf("%s: unknown error %s", d.Pos, fail)
		}
		s.h.store.Fail(e)
	}
	return ""
}

// errorCodes are the Kafka errors the broker's Storage returns.
var errorCodes = map[string]int16{
	"NOT_COORDINATOR":            kerr.NotCoordinator.Code,
	"INVALID_COMMIT_OFFSET_SIZE": kerr.InvalidCommitOffsetSize.Code,
	"REQUEST_TIMED_OUT":          kerr.RequestTimedOut.Code,
}
