package group

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkOffsetCommit measures the coordinator's commit path (validate,
// encode one batch, append to MemoryStorage, apply) for one partition.
func BenchmarkOffsetCommit(b *testing.B) {
	h := newHarness(&testing.T{})
	a := h.wantJoined(h.joinNew("g"), 1)
	h.sync("g", a.MemberID, 1, map[string]string{a.MemberID: "A"})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := h.commit("g", a.MemberID, 1, "t", 0, int64(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJoinThreeMembers measures a full rebalance of three members:
// the KIP-394 joins, the leader's sync and two followers' syncs.
func BenchmarkJoinThreeMembers(b *testing.B) {
	h := newHarness(&testing.T{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		g := "g" + time.Duration(i).String()
		var joins []*joinCall
		for range 3 {
			joins = append(joins, h.joinNew(g))
		}
		// The first completed alone; it rejoins into the three-member generation.
		first := joins[0].resp
		rejoin := h.joinWith(joinReq(g, first.MemberID))
		if !rejoin.done() {
			b.Fatal("three-member join did not complete")
		}
		gen := rejoin.resp.Generation
		h.sync(g, first.MemberID, gen, map[string]string{first.MemberID: "A"})
		h.sync(g, joins[1].resp.MemberID, gen, nil)
		h.sync(g, joins[2].resp.MemberID, gen, nil)
	}
}

// BenchmarkLoadPartition measures loading an offsets partition of 10,000
// commit records (100 groups × 100 commits) from MemoryStorage: what a
// new coordinator does before it answers the partition's groups (they get
// COORDINATOR_LOAD_IN_PROGRESS meanwhile).
func BenchmarkLoadPartition(b *testing.B) {
	h := newHarness(&testing.T{})
	p := h.c.PartitionFor("g0")
	n := 0
	for i := 0; n < 100; i++ {
		g := "g" + strconv.Itoa(i)
		if h.c.PartitionFor(g) != p {
			continue
		}
		n++
		for j := range 100 {
			if err := h.commit(g, "", -1, "t", int32(j%8), int64(j)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		c := New(h.cfg, h.store)
		c.MarkLoading(p)
		if err := c.LoadPartition(p); err != nil {
			b.Fatal(err)
		}
	}
}
