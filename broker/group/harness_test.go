package group

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// harness drives a Coordinator on a fake clock over a MemoryStorage.
type harness struct {
	t     *testing.T
	now   time.Time
	ids   int
	store *MemoryStorage
	cfg   Config
	c     *Coordinator
}

func newHarness(t *testing.T, mods ...func(*Config)) *harness {
	h := &harness{t: t, now: time.UnixMilli(1_700_000_000_000), store: NewMemoryStorage()}
	h.cfg = Config{
		Now:                   func() time.Time { return h.now },
		NewID:                 func() string { h.ids++; return fmt.Sprint(h.ids) },
		Logger:                slog.New(slog.NewTextHandler(io.Discard, nil)),
		NumPartitions:         4,
		MinSessionTimeout:     6 * time.Second,
		MaxSessionTimeout:     30 * time.Minute,
		OffsetsRetention:      7 * 24 * time.Hour,
		MaxMetadataBytes:      4096,
		PartitionExists:       func(topic string, _ int32) bool { return topic != "nope" },
		InitialRebalanceDelay: 0,
	}
	for _, m := range mods {
		m(&h.cfg)
	}
	h.start()
	return h
}

// start (re)creates the coordinator on the same storage and loads every
// partition, as a broker restart does.
func (h *harness) start() {
	h.c = New(h.cfg, h.store)
	for p := int32(0); p < h.cfg.NumPartitions; p++ {
		if err := h.c.LoadPartition(p); err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *harness) advance(d time.Duration) {
	h.now = h.now.Add(d)
	h.c.Tick()
}

type joinCall struct {
	resp *kmsg.JoinGroupResponse
	n    int
}

func (j *joinCall) done() bool { return j.n > 0 }

// joinReq builds a v9 JoinGroup with a 10s session and 30s rebalance
// timeout; protocols default to one "range" protocol with metadata md.
func joinReq(group, member string, protocols ...string) *kmsg.JoinGroupRequest {
	r := kmsg.NewPtrJoinGroupRequest()
	r.Version = 9
	r.Group, r.MemberID, r.ProtocolType = group, member, "consumer"
	r.SessionTimeoutMillis, r.RebalanceTimeoutMillis = 10000, 30000
	if len(protocols) == 0 {
		protocols = []string{"range"}
	}
	for _, p := range protocols {
		rp := kmsg.NewJoinGroupRequestProtocol()
		rp.Name = p
		md := kmsg.NewConsumerMemberMetadata()
		md.Topics = []string{"t"}
		rp.Metadata = md.AppendTo(nil)
		r.Protocols = append(r.Protocols, rp)
	}
	return r
}

func (h *harness) joinWith(r *kmsg.JoinGroupRequest) *joinCall {
	j := &joinCall{}
	h.c.JoinGroup(r, Client{ID: "client", Host: "/127.0.0.1"}, func(resp *kmsg.JoinGroupResponse) {
		j.resp = resp
		j.n++
		if j.n > 1 {
			h.t.Errorf("join reply called %d times", j.n)
		}
	})
	return j
}

// joinNew does the KIP-394 dance and returns the parked (or answered)
// second join.
func (h *harness) joinNew(group string) *joinCall {
	h.t.Helper()
	first := h.joinWith(joinReq(group, ""))
	h.wantJoinErr(first, kerr.MemberIDRequired)
	return h.joinWith(joinReq(group, first.resp.MemberID))
}

func (h *harness) wantJoinErr(j *joinCall, e *kerr.Error) {
	h.t.Helper()
	if !j.done() {
		h.t.Fatalf("join not answered, want %v", e)
	}
	if j.resp.ErrorCode != e.Code {
		h.t.Fatalf("join error %v, want %v", kerr.ErrorForCode(j.resp.ErrorCode), e)
	}
}

func (h *harness) wantJoined(j *joinCall, gen int32) *kmsg.JoinGroupResponse {
	h.t.Helper()
	if !j.done() {
		h.t.Fatalf("join not answered, want generation %d", gen)
	}
	if j.resp.ErrorCode != 0 || j.resp.Generation != gen {
		h.t.Fatalf("join: error %v generation %d, want generation %d", kerr.ErrorForCode(j.resp.ErrorCode), j.resp.Generation, gen)
	}
	return j.resp
}

type syncCall struct {
	resp *kmsg.SyncGroupResponse
	n    int
}

func (h *harness) sync(group, member string, gen int32, assign map[string]string) *syncCall {
	r := kmsg.NewPtrSyncGroupRequest()
	r.Version = 5
	r.Group, r.MemberID, r.Generation = group, member, gen
	for m, a := range assign {
		ra := kmsg.NewSyncGroupRequestGroupAssignment()
		ra.MemberID, ra.MemberAssignment = m, []byte(a)
		r.GroupAssignment = append(r.GroupAssignment, ra)
	}
	s := &syncCall{}
	h.c.SyncGroup(r, func(resp *kmsg.SyncGroupResponse) {
		s.resp = resp
		s.n++
		if s.n > 1 {
			h.t.Errorf("sync reply called %d times", s.n)
		}
	})
	return s
}

func (h *harness) wantSynced(s *syncCall, assignment string) {
	h.t.Helper()
	if s.n == 0 {
		h.t.Fatalf("sync not answered, want %q", assignment)
	}
	if s.resp.ErrorCode != 0 || string(s.resp.MemberAssignment) != assignment {
		h.t.Fatalf("sync: error %v assignment %q, want %q", kerr.ErrorForCode(s.resp.ErrorCode), s.resp.MemberAssignment, assignment)
	}
}

func (h *harness) heartbeat(group, member string, gen int32) *kerr.Error {
	r := kmsg.NewPtrHeartbeatRequest()
	r.Version = 4
	r.Group, r.MemberID, r.Generation = group, member, gen
	return codeErr(h.c.Heartbeat(r).ErrorCode)
}

func (h *harness) leave(group string, members ...string) *kmsg.LeaveGroupResponse {
	r := kmsg.NewPtrLeaveGroupRequest()
	r.Version = 5
	r.Group = group
	for _, m := range members {
		lm := kmsg.NewLeaveGroupRequestMember()
		lm.MemberID = m
		r.Members = append(r.Members, lm)
	}
	return h.c.LeaveGroup(r)
}

func (h *harness) commit(group, member string, gen int32, topic string, part int32, off int64) *kerr.Error {
	r := kmsg.NewPtrOffsetCommitRequest()
	r.Version = 8
	r.Group, r.MemberID, r.Generation = group, member, gen
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset, rp.Metadata = part, off, strPtr("md")
	rt.Partitions = append(rt.Partitions, rp)
	r.Topics = append(r.Topics, rt)
	return codeErr(h.c.OffsetCommit(r).Topics[0].Partitions[0].ErrorCode)
}

// fetch returns the committed offset of topic/part (-1 for none) and the
// group-level error.
func (h *harness) fetch(group, topic string, part int32) (int64, *kerr.Error) {
	r := kmsg.NewPtrOffsetFetchRequest()
	r.Version = 7
	r.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic, rt.Partitions = topic, []int32{part}
	r.Topics = append(r.Topics, rt)
	resp := h.c.OffsetFetch(r)
	return resp.Topics[0].Partitions[0].Offset, codeErr(resp.ErrorCode)
}

func (h *harness) describe(group string) kmsg.DescribeGroupsResponseGroup {
	r := kmsg.NewPtrDescribeGroupsRequest()
	r.Version = 5
	r.Groups = []string{group}
	return h.c.DescribeGroups(r).Groups[0]
}

func codeErr(code int16) *kerr.Error {
	if code == 0 {
		return nil
	}
	e, _ := kerr.ErrorForCode(code).(*kerr.Error)
	return e
}

func (h *harness) wantErr(got, want *kerr.Error, what string) {
	h.t.Helper()
	if got != want {
		h.t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}
