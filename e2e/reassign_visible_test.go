package e2e

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// TestReassignmentVisibleOnEveryBroker: once the controller says a
// reassignment (KIP-455) is complete, every broker, asked on the wire on
// its own, soon serves the new replica set with a leader inside it and
// lists no reassignment in progress, all of them agreeing on the leader
// and its epoch; the new leaders serve every record acknowledged with
// acks=all before the move, at its offset, plus those acknowledged after,
// and the removed leaders refuse to serve what they led.
// Three partitions move, one stays: partition 0's leader is removed and an
// old follower takes over, partition 1's leader is removed and the new
// replica leads, partition 2's follower moves under a leader that stays.
func TestReassignmentVisibleOnEveryBroker(t *testing.T) {
	t.Parallel()
	c := brokertest.StartCluster(t, 3, brokertest.Options{})
	adm := clusterAdmin(t, c)
	cl := c.Client(t)
	const topic = "reassignvis"
	home := [][]int32{{1, 2}, {2, 3}, {3, 1}, {1, 3}}
	moves := map[int32][]int32{0: {2, 3}, 1: {1, 3}, 2: {3, 2}}
	createWithAssignment(t, cl, topic, home)
	waitFullISR(t, adm, topic, int32(len(home)), 2)
	await.For(t, 30*time.Second, "each partition led by its first replica", func() error {
		for p, r := range home {
			if leader, _, err := partitionState(context.Background(), adm, topic, int32(p)); err != nil || leader != r[0] {
				return fmt.Errorf("partition %d led by %d (%v), want %d", p, leader, err, r[0])
			}
		}
		return nil
	})

	pr := c.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RequiredAcks(kgo.AllISRAcks()))
	acked := produceAcked(t, pr, topic, len(home), 500, "before")

	req := kadm.AlterPartitionAssignmentsReq{}
	for p, r := range moves {
		req.Assign(topic, p, r)
	}
	resp, err := adm.AlterPartitionAssignments(testContext(t, 30*time.Second), req)
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Error(); err != nil {
		t.Fatalf("reassignment refused: %v", err)
	}
	await.For(t, 60*time.Second, "the controller to list no reassignment in progress", func() error {
		listed, err := adm.ListPartitionReassignments(context.Background(), kadm.TopicsSet{topic: {0: {}, 1: {}, 2: {}}})
		if err != nil {
			return err
		}
		if len(listed) > 0 {
			return fmt.Errorf("still moving: %v", listed)
		}
		return nil
	})
	done := time.Now()

	// Every broker is asked on its own until it serves the moves; each
	// one's first good answer is timed from the controller's.
	views := map[int32]map[int32]partitionView{}
	took := map[int32]time.Duration{}
	lagging := map[int32]error{} // each broker's first answer that did not yet serve the moves
	await.For(t, 15*time.Second, "every broker to serve the moves", func() error {
		var errs []error
		for _, b := range c.Brokers {
			if _, ok := views[b.NodeID]; ok {
				continue
			}
			v, err := brokerSeesMoves(cl, b.NodeID, topic, moves)
			if err != nil {
				errs = append(errs, fmt.Errorf("broker %d: %w", b.NodeID, err))
				if lagging[b.NodeID] == nil {
					lagging[b.NodeID] = err
				}
				continue
			}
			views[b.NodeID], took[b.NodeID] = v, time.Since(done)
		}
		return errors.Join(errs...)
	})
	t.Logf("after the controller listed none in progress, brokers served the moves after %v", took)
	for id, err := range lagging {
		t.Logf("broker %d's first answer after it: %v", id, err)
	}
	// They agree, and a broker asked again still serves them (no answer
	// from an older image after a newer one).
	first := views[c.Brokers[0].NodeID]
	for _, b := range c.Brokers {
		if err := sameLeaders(first, views[b.NodeID]); err != nil {
			t.Errorf("broker %d against broker %d: %v", b.NodeID, c.Brokers[0].NodeID, err)
		}
		again, err := brokerSeesMoves(cl, b.NodeID, topic, moves)
		if err == nil {
			err = sameLeaders(first, again)
		}
		if err != nil {
			t.Errorf("broker %d asked again: %v", b.NodeID, err)
		}
	}
	for p, v := range first {
		t.Logf("partition %d: %v -> replicas %v, leader %d (epoch %d)", p, home[p], v.replicas, v.leader, v.epoch)
	}

	// The new leaders take acks=all writes with their new ISR too.
	after := produceAcked(t, pr, topic, len(home), 100, "after")
	for p, recs := range after {
		acked[p] = append(acked[p], recs...)
	}
	md, err := adm.Metadata(testContext(t, 30*time.Second), topic)
	if err != nil {
		t.Fatal(err)
	}
	id := md.Topics[topic].ID
	for p, v := range first {
		checkLeaderServes(t, cl, topic, id, p, v.leader, acked[p])
	}
	// The leaders the moves removed no longer serve what they led: a
	// Fetch gets NOT_LEADER_OR_FOLLOWER, as from Kafka for a partition
	// its image knows and it does not host.
	for p := range int32(2) {
		removed := home[p][0]
		await.For(t, 15*time.Second, fmt.Sprintf("broker %d, removed from partition %d, to refuse fetches", removed, p), func() error {
			recs, err := fetchFrom(cl, removed, topic, id, p, 0)
			if errors.Is(err, kerr.NotLeaderForPartition) {
				return nil
			}
			return fmt.Errorf("%d records, error %v; want NOT_LEADER_OR_FOLLOWER", len(recs), err)
		})
	}
}

// ackedRecord is a record the cluster acknowledged: its offset and value.
type ackedRecord struct {
	offset int64
	value  string
}

// produceAcked writes n records to each partition with the client's acks
// and returns the acknowledged ones by partition; any failure fails the
// test.
func produceAcked(t *testing.T, cl *kgo.Client, topic string, partitions, n int, tag string) map[int32][]ackedRecord {
	t.Helper()
	var recs []*kgo.Record
	for i := range n {
		for p := range partitions {
			recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(p), Value: fmt.Appendf(nil, "%s-%d-%d", tag, p, i)})
		}
	}
	res := cl.ProduceSync(testContext(t, 60*time.Second), recs...)
	if err := res.FirstErr(); err != nil {
		t.Fatalf("produce %s: %v", tag, err)
	}
	out := map[int32][]ackedRecord{}
	for _, r := range res {
		out[r.Record.Partition] = append(out[r.Record.Partition], ackedRecord{r.Record.Offset, string(r.Record.Value)})
	}
	for p := range out {
		slices.SortFunc(out[p], func(a, b ackedRecord) int { return cmp.Compare(a.offset, b.offset) })
	}
	return out
}

// partitionView is one broker's answer for a partition.
type partitionView struct {
	leader, epoch int32
	replicas      []int32
}

// brokerSeesMoves asks broker id alone (Metadata and
// ListPartitionReassignments on the wire, not the client's cache) and
// returns its view of each moved partition, or why it does not yet serve
// the moves: replicas other than the target, a leader outside them, an
// ISR not within them, or a reassignment still listed.
func brokerSeesMoves(cl *kgo.Client, id int32, topic string, moves map[int32][]int32) (map[int32]partitionView, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	mreq := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	mreq.Topics = append(mreq.Topics, rt)
	raw, err := cl.Broker(int(id)).Request(ctx, mreq)
	if err != nil {
		return nil, fmt.Errorf("Metadata: %w", err)
	}
	md := raw.(*kmsg.MetadataResponse)
	if len(md.Topics) != 1 || md.Topics[0].ErrorCode != 0 {
		return nil, fmt.Errorf("Metadata: %d topics in the answer (%v)", len(md.Topics), md.Topics)
	}
	views := map[int32]partitionView{}
	for _, mp := range md.Topics[0].Partitions {
		target, moved := moves[mp.Partition]
		if !moved {
			continue
		}
		if mp.ErrorCode != 0 {
			return nil, fmt.Errorf("partition %d: %v", mp.Partition, kerr.ErrorForCode(mp.ErrorCode))
		}
		if !sameSet(mp.Replicas, target) {
			return nil, fmt.Errorf("partition %d: replicas %v, want %v", mp.Partition, mp.Replicas, target)
		}
		if !slices.Contains(target, mp.Leader) {
			return nil, fmt.Errorf("partition %d: leader %d outside replicas %v", mp.Partition, mp.Leader, mp.Replicas)
		}
		for _, r := range mp.ISR {
			if !slices.Contains(target, r) {
				return nil, fmt.Errorf("partition %d: ISR %v outside replicas %v", mp.Partition, mp.ISR, mp.Replicas)
			}
		}
		views[mp.Partition] = partitionView{mp.Leader, mp.LeaderEpoch, mp.Replicas}
	}
	if len(views) != len(moves) {
		return nil, fmt.Errorf("Metadata answered %d of the %d moved partitions", len(views), len(moves))
	}
	lreq := kmsg.NewPtrListPartitionReassignmentsRequest()
	lreq.TimeoutMillis = 5000
	lt := kmsg.NewListPartitionReassignmentsRequestTopic()
	lt.Topic = topic
	for p := range moves {
		lt.Partitions = append(lt.Partitions, p)
	}
	lreq.Topics = append(lreq.Topics, lt)
	raw, err = cl.Broker(int(id)).Request(ctx, lreq)
	if err != nil {
		return nil, fmt.Errorf("ListPartitionReassignments: %w", err)
	}
	lr := raw.(*kmsg.ListPartitionReassignmentsResponse)
	if lr.ErrorCode != 0 || len(lr.Topics) > 0 {
		return nil, fmt.Errorf("ListPartitionReassignments: %v, in progress %+v", kerr.ErrorForCode(lr.ErrorCode), lr.Topics)
	}
	return views, nil
}

// sameLeaders reports where two brokers' views disagree on a partition's
// replicas, leader or leader epoch.
func sameLeaders(want, got map[int32]partitionView) error {
	for p, w := range want {
		g := got[p]
		if g.leader != w.leader || g.epoch != w.epoch || !slices.Equal(g.replicas, w.replicas) {
			return fmt.Errorf("partition %d: leader %d epoch %d replicas %v, another broker says leader %d epoch %d replicas %v", p, g.leader, g.epoch, g.replicas, w.leader, w.epoch, w.replicas)
		}
	}
	return nil
}

func sameSet(a, b []int32) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// checkLeaderServes reads partition p from leader (Fetch requests sent to
// that broker, from offset 0 up to its high watermark) until the last
// acknowledged offset, and checks every acknowledged record is there at
// its offset with its value, and nothing else is.
func checkLeaderServes(t *testing.T, cl *kgo.Client, topic string, id [16]byte, p, leader int32, want []ackedRecord) {
	t.Helper()
	last := want[len(want)-1].offset
	var got []*kgo.Record
	var errs int
	await.For(t, 30*time.Second, fmt.Sprintf("broker %d to serve partition %d up to offset %d", leader, p, last), func() error {
		from := int64(0)
		if len(got) > 0 {
			from = got[len(got)-1].Offset + 1
		}
		if from > last {
			return nil
		}
		recs, err := fetchFrom(cl, leader, topic, id, p, from)
		if err != nil {
			errs++
			return err
		}
		got = append(got, recs...)
		return fmt.Errorf("read up to offset %d", from+int64(len(recs))-1)
	})
	if errs > 0 {
		t.Logf("partition %d: %d Fetch answers from leader %d were errors before it served", p, errs, leader)
	}
	byOffset := map[int64]string{}
	for _, r := range got {
		byOffset[r.Offset] = string(r.Value)
	}
	for _, w := range want {
		if v, ok := byOffset[w.offset]; !ok || v != w.value {
			t.Errorf("partition %d offset %d: acked %q, leader %d serves %q (present: %v)", p, w.offset, w.value, leader, v, ok)
		}
	}
	if len(got) != len(want) {
		t.Errorf("partition %d: leader %d serves %d records up to offset %d, %d were acknowledged", p, leader, len(got), last, len(want))
	}
}

// fetchFrom sends one Fetch for partition p to broker, from offset,
// and returns the records it answered with.
func fetchFrom(cl *kgo.Client, broker int32, topic string, id [16]byte, p int32, offset int64) ([]*kgo.Record, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = -1, 500, 1, 1<<20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic, ft.TopicID = topic, id // the name up to v12, the ID from v13: the client picks the version
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.Partition, fp.FetchOffset, fp.PartitionMaxBytes = p, offset, 1<<20
	ft.Partitions = append(ft.Partitions, fp)
	req.Topics = append(req.Topics, ft)
	raw, err := cl.Broker(int(broker)).Request(ctx, req)
	if err != nil {
		return nil, err
	}
	resp := raw.(*kmsg.FetchResponse)
	if resp.ErrorCode != 0 {
		return nil, kerr.ErrorForCode(resp.ErrorCode)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return nil, fmt.Errorf("Fetch answered %d topics", len(resp.Topics))
	}
	rp := &resp.Topics[0].Partitions[0]
	fetched, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Topic: topic, Partition: p, Offset: offset}, rp, kgo.DefaultDecompressor(), nil)
	if fetched.Err != nil {
		return nil, fmt.Errorf("Fetch partition %d from broker %d: %w", p, broker, fetched.Err)
	}
	return fetched.Records, nil
}

// TestReassignmentListedWhereRequested: a reassignment started or
// cancelled through a broker that is not the controller (it forwards
// AlterPartitionReassignments, KIP-590) is listed, or no longer listed, by
// that broker's very next ListPartitionReassignments answer.
func TestReassignmentListedWhereRequested(t *testing.T) {
	t.Parallel()
	c := brokertest.StartCluster(t, 3, brokertest.Options{})
	adm := clusterAdmin(t, c)
	cl := c.Client(t)
	const topic = "listedwhere"
	createWithAssignment(t, cl, topic, [][]int32{{1, 2}})
	waitFullISR(t, adm, topic, 1, 2)
	// 1 MiB to copy at 64 KiB/s: the move to {1,3} cannot finish during
	// the rounds below (each cancels it and starts it from nothing).
	pr := c.Client(t, kgo.DefaultProduceTopic(topic), kgo.ProducerBatchCompression(kgo.NoCompression()))
	value := make([]byte, 1024)
	var recs []*kgo.Record
	for range 1024 {
		recs = append(recs, &kgo.Record{Value: value})
	}
	if err := pr.ProduceSync(testContext(t, 60*time.Second), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t, 30*time.Second)
	checkAltered(t, "throttle rates")(adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{
		{Name: "leader.replication.throttled.rate", Value: kadm.StringPtr("65536")},
		{Name: "follower.replication.throttled.rate", Value: kadm.StringPtr("65536")},
	}))
	checkAltered(t, "throttled replicas")(adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Name: "leader.replication.throttled.replicas", Value: kadm.StringPtr("0:1,0:2")},
		{Name: "follower.replication.throttled.replicas", Value: kadm.StringPtr("0:3")},
	}, topic))

	misses := 0
	for round := range 10 {
		via := nonController(t, cl, c)
		alter(t, cl, via, topic, []int32{1, 3})
		if n := listedOn(t, cl, via, topic); n != 1 {
			misses++
			t.Errorf("round %d: broker %d forwarded the reassignment and then listed %d in progress, want 1", round, via, n)
		}
		alter(t, cl, via, topic, nil)
		if n := listedOn(t, cl, via, topic); n != 0 {
			misses++
			t.Errorf("round %d: broker %d forwarded the cancellation and then listed %d in progress, want 0", round, via, n)
		}
	}
	t.Logf("%d of 20 answers missed the change just made", misses)
}

// nonController returns a broker that is not the active controller, as
// the brokers' own Metadata answers name it.
func nonController(t *testing.T, cl *kgo.Client, c *brokertest.Cluster) int32 {
	t.Helper()
	var via int32
	await.For(t, 30*time.Second, "a controller", func() error {
		req := kmsg.NewPtrMetadataRequest()
		req.Topics = []kmsg.MetadataRequestTopic{}
		raw, err := cl.Broker(int(c.Brokers[0].NodeID)).Request(context.Background(), req)
		if err != nil {
			return err
		}
		ctrl := raw.(*kmsg.MetadataResponse).ControllerID
		if ctrl < 0 {
			return fmt.Errorf("no controller")
		}
		for _, b := range c.Brokers {
			if b.NodeID != ctrl {
				via = b.NodeID
				return nil
			}
		}
		return fmt.Errorf("every broker is the controller %d", ctrl)
	})
	return via
}

// alter sends AlterPartitionReassignments for partition 0 of topic to
// broker via (nil replicas cancel), failing the test on any error.
func alter(t *testing.T, cl *kgo.Client, via int32, topic string, replicas []int32) {
	t.Helper()
	req := kmsg.NewPtrAlterPartitionAssignmentsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewAlterPartitionAssignmentsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewAlterPartitionAssignmentsRequestTopicPartition()
	rp.Partition, rp.Replicas = 0, replicas
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	raw, err := cl.Broker(int(via)).Request(testContext(t, 30*time.Second), req)
	if err != nil {
		t.Fatalf("AlterPartitionReassignments %v through broker %d: %v", replicas, via, err)
	}
	resp := raw.(*kmsg.AlterPartitionAssignmentsResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		t.Fatalf("AlterPartitionReassignments %v through broker %d: %v", replicas, via, err)
	}
	for _, st := range resp.Topics {
		for _, sp := range st.Partitions {
			if err := kerr.ErrorForCode(sp.ErrorCode); err != nil {
				t.Fatalf("AlterPartitionReassignments %v through broker %d: %v %v", replicas, via, err, sp.ErrorMessage)
			}
		}
	}
}

// listedOn counts the partitions of topic broker id lists as reassigning.
func listedOn(t *testing.T, cl *kgo.Client, id int32, topic string) int {
	t.Helper()
	req := kmsg.NewPtrListPartitionReassignmentsRequest()
	req.TimeoutMillis = 5000
	lt := kmsg.NewListPartitionReassignmentsRequestTopic()
	lt.Topic, lt.Partitions = topic, []int32{0}
	req.Topics = append(req.Topics, lt)
	raw, err := cl.Broker(int(id)).Request(testContext(t, 30*time.Second), req)
	if err != nil {
		t.Fatalf("ListPartitionReassignments on broker %d: %v", id, err)
	}
	resp := raw.(*kmsg.ListPartitionReassignmentsResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		t.Fatalf("ListPartitionReassignments on broker %d: %v", id, err)
	}
	n := 0
	for _, st := range resp.Topics {
		n += len(st.Partitions)
	}
	return n
}
