package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// Issue 17's network faults. Each fault runs on its own 3-broker cluster,
// every broker in its own network namespace (brokertest.StartNetCluster),
// while an idempotent acks=all producer (RF=3, min.insync.replicas=2)
// writes numbered records and a consumer reads along. A cycle applies the
// fault, holds it, heals it and waits until every partition acknowledges a
// produce again (the recovery time) and has its three replicas in sync.
// Then the checker (checkNetFault) runs.
//
// `make test` runs one short cycle per fault. `make soak` sets
// WEIR_NETFAULT_SOAK to a duration (SOAK_TIME): the faults then share it,
// each repeating its cycles on its cluster for its share, and the checker
// runs over everything acknowledged in all of them.

// netFault is one fault: apply cuts the network (target is the broker
// it picks, for the log) and returns what it did; hold is how long it
// lasts before Heal.
type netFault struct {
	name  string
	hold  time.Duration
	apply func(t *testing.T, f *faultRun) string
}

// soakOnly are the faults beyond the six: make soak runs them,
// make test has no time for them.
var soakOnly = map[string]bool{"cut-leader-from-controller": true}

var netFaults = []netFault{
	{"isolate-leader", 3 * time.Second, func(t *testing.T, f *faultRun) string {
		b := f.leaderOf(t, 0)
		must(t, f.c.Net.Isolate(f.c.Host(b)))
		return fmt.Sprintf("isolated broker %d (leader of partition 0) from everyone", b)
	}},
	{"isolate-controller", 3 * time.Second, func(t *testing.T, f *faultRun) string {
		b := f.controller(t)
		must(t, f.c.Net.Isolate(f.c.Host(b)))
		return fmt.Sprintf("isolated broker %d (the controller) from everyone", b)
	}},
	{"split-1-2", 3 * time.Second, func(t *testing.T, f *faultRun) string {
		b := f.leaderOf(t, 0)
		var rest []*brokertest.Host
		for _, o := range f.c.Brokers {
			if o.NodeID != b {
				rest = append(rest, f.c.Host(o.NodeID))
			}
		}
		must(t, f.c.Net.Partition([]*brokertest.Host{f.c.Host(b)}, rest))
		return fmt.Sprintf("split {%d} | the other two (clients reach both sides)", b)
	}},
	{"one-way", 3 * time.Second, func(t *testing.T, f *faultRun) string {
		b := f.leaderOf(t, 0)
		for _, o := range f.c.Brokers {
			if o.NodeID != b {
				must(t, f.c.Net.DropOneWay(f.c.Host(b), f.c.Host(o.NodeID)))
			}
		}
		return fmt.Sprintf("dropped every packet from broker %d (leader of partition 0) to the other brokers; the other way works", b)
	}},
	{"cut-leader-from-controller", 3 * time.Second, func(t *testing.T, f *faultRun) string {
		// A partial partition (Jepsen's "bridge"): the leader still
		// reaches its other follower and the clients, but not the
		// controller, which fences it and elects a new leader.
		ctl := f.controller(t)
		for p := range int32(netPartitions) {
			if b := f.leaderOf(t, p); b != ctl {
				must(t, f.c.Net.Partition([]*brokertest.Host{f.c.Host(b)}, []*brokertest.Host{f.c.Host(ctl)}))
				return fmt.Sprintf("cut broker %d (leader of partition %d) from broker %d (the controller) only", b, p, ctl)
			}
		}
		t.Fatalf("the controller, broker %d, leads every partition", ctl)
		return ""
	}},
	{"slow-lossy-link", 4 * time.Second, func(t *testing.T, f *faultRun) string {
		b := f.leaderOf(t, 0)
		desc, err := f.c.Net.Degrade(f.c.Host(b), 50*time.Millisecond, 20*time.Millisecond, 5)
		must(t, err)
		return fmt.Sprintf("broker %d: %s", b, desc)
	}},
	{"flapping-link", 4 * time.Second, func(t *testing.T, f *faultRun) string {
		b := f.leaderOf(t, 0)
		h := f.c.Host(b)
		// The flap is the fault's schedule (the test's input), not a
		// wait: the link is cut for 700 ms every 1.4 s until Heal.
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { // owned by the flap: heal closes stop and waits for done
			defer close(done)
			for {
				if err := f.c.Net.Isolate(h); err != nil {
					t.Errorf("flap down: %v", err)
				}
				select {
				case <-stop:
					return
				case <-time.After(700 * time.Millisecond):
				}
				if err := f.c.Net.Heal(); err != nil {
					t.Errorf("flap up: %v", err)
				}
				select {
				case <-stop:
					return
				case <-time.After(700 * time.Millisecond):
				}
			}
		}()
		f.beforeHeal = func() { close(stop); <-done }
		return fmt.Sprintf("broker %d's link flaps: down 700 ms, up 700 ms", b)
	}},
}

func TestNetworkFaults(t *testing.T) {
	t.Parallel()
	brokertest.RequireNetFaults(t)
	soak := time.Duration(0)
	if s := os.Getenv("WEIR_NETFAULT_SOAK"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("WEIR_NETFAULT_SOAK=%q: %v", s, err)
		}
		soak = d / time.Duration(len(netFaults)) // the faults run one after the other
	}
	for _, nf := range netFaults {
		t.Run(nf.name, func(t *testing.T) {
			if soakOnly[nf.name] && soak == 0 {
				t.Skip("runs under make soak (WEIR_NETFAULT_SOAK) only, to keep make test within its time")
			}
			runNetFault(t, nf, soak)
		})
	}
}

// faultRun is one fault's cluster, producer, consumer and observations.
type faultRun struct {
	c     *brokertest.NetCluster
	raw   *kgo.Client // admin requests, and requests to one broker
	adm   *kadm.Client
	p     *numberedProducer
	wire  *wireAcks
	seen  *seenRecords
	topic string

	beforeHeal func()
	stats      struct {
		cycles                int
		worstGap, worstInSync time.Duration
		worstRecoveryPart     [netPartitions]time.Duration // heal to the first ack, per partition
	}
}

const netTopic, netPartitions = "netfault", 3

func runNetFault(t *testing.T, nf netFault, soak time.Duration) {
	c := brokertest.StartNetCluster(t, 3, brokertest.Options{Props: map[string]string{
		"replica.lag.time.max.ms": "3000", // an isolated follower leaves the ISR in seconds, not 30
		// A follower whose fetch was lost in the fault dials its leader
		// again after this, not Kafka's 30 s: as long as the leader waits
		// for it before dropping it from the ISR.
		"replica.socket.timeout.ms": "3000",
	}})
	f := &faultRun{c: c, topic: netTopic}
	f.raw = c.Client(t, kgo.MetadataMinAge(50*time.Millisecond),
		kgo.RequestTimeoutOverhead(2*time.Second), kgo.RetryTimeout(5*time.Second),
		kgo.Dialer((&net.Dialer{Timeout: 2 * time.Second}).DialContext))
	f.adm = kadm.NewClient(f.raw)
	checkAdvertised(t, testContext(t, 30*time.Second), c.Cluster)
	createWithAssignment(t, c.Client(t), netTopic, [][]int32{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}})
	f.awaitInSync(t)

	nodes := map[string]int32{}
	for _, b := range c.Brokers {
		nodes[b.Addr] = b.NodeID
	}
	f.wire = newWireAcks(nodes)
	f.p = startNumberedProducer(t, c.Client(t,
		kgo.Dialer(f.wire.dial),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }),
		kgo.MaxBufferedRecords(2000),
		kgo.MetadataMinAge(100*time.Millisecond),
		// A broker cut off answers nothing: give up on a request in
		// seconds and retry elsewhere, as a client across real hosts would.
		kgo.ProduceRequestTimeout(3*time.Second),
		kgo.RequestTimeoutOverhead(2*time.Second),
	), netTopic, netPartitions)
	f.seen = startSeenRecords(t, c.Bootstrap(), netTopic, netPartitions)

	f.awaitAcks(t, 1000, "warm-up")
	deadline := time.Now().Add(soak)
	for cycle := 1; ; cycle++ {
		f.cycle(t, nf, cycle)
		if time.Now().After(deadline) {
			break
		}
	}
	f.awaitAcks(t, 500, "after the last heal")
	f.p.stop(t)
	f.seen.stop()
	n := checkNetFault(t, f)
	var rs []string
	for p, r := range f.stats.worstRecoveryPart {
		rs = append(rs, fmt.Sprintf("p%d %v", p, r.Round(10*time.Millisecond)))
	}
	t.Logf("SUMMARY %s: %d cycles, %d records acked, %d lost, %d duplicated, %d reordered, %d at another offset, %d vanished after a read, %d epochs acked by two brokers, %d replica batches diverged; %d produce failures; worst heal-to-first-ack per partition %s; worst heal-to-full-ISR %v; worst stretch without an ack %v",
		nf.name, f.stats.cycles, n.Acked, n.Lost, n.Duplicated, n.Reordered, n.Moved, n.Vanished, n.EpochConflicts, n.Diverged,
		f.p.failures(), strings.Join(rs, ", "), f.stats.worstInSync.Round(10*time.Millisecond), f.stats.worstGap.Round(10*time.Millisecond))
}

// cycle applies the fault, holds it, heals and measures the recovery.
func (f *faultRun) cycle(t *testing.T, nf netFault, n int) {
	f.beforeHeal = nil
	before := f.p.ackedCount()
	start := time.Now()
	desc := nf.apply(t, f)
	t.Logf("cycle %d: %s; holding %v", n, desc, nf.hold)
	time.Sleep(nf.hold) // the fault's duration: the test's input, not a wait on a condition
	if f.beforeHeal != nil {
		f.beforeHeal()
	}
	during := f.p.ackedCount() - before
	perPart := f.ackedPerPartition()
	must(t, f.c.Net.Heal())
	healed := time.Now()
	var perPartRecovery []time.Duration
	await.For(t, 60*time.Second, "an acknowledged produce on every partition after the heal", func() error {
		now := f.ackedPerPartition()
		for p := range netPartitions {
			if now[p] <= perPart[p] {
				return fmt.Errorf("partition %d: no ack since the heal (%d acks)", p, now[p])
			}
		}
		var ok bool
		if perPartRecovery, ok = f.wire.firstAckAfter(netPartitions, healed); !ok {
			return fmt.Errorf("the producer has acks on every partition, the wire not yet")
		}
		return nil
	})
	gaps := f.wire.longestGap(netPartitions, start, time.Now())
	f.awaitInSync(t)
	inSync := time.Since(healed)
	var gs, rs []string
	for p, g := range gaps {
		gs = append(gs, fmt.Sprintf("p%d %v", p, g.Round(10*time.Millisecond)))
		rs = append(rs, fmt.Sprintf("p%d %v", p, perPartRecovery[p].Round(10*time.Millisecond)))
	}
	t.Logf("cycle %d: %d records acked during the fault; first ack after the heal: %s; longest stretch without an ack: %s; every broker in sync %v after the heal; controller now %d",
		n, during, strings.Join(rs, ", "), strings.Join(gs, ", "), inSync.Round(10*time.Millisecond), f.controller(t))
	f.stats.cycles++
	f.stats.worstInSync = max(f.stats.worstInSync, inSync)
	for p, r := range perPartRecovery {
		f.stats.worstRecoveryPart[p] = max(f.stats.worstRecoveryPart[p], r)
	}
	for _, g := range gaps {
		f.stats.worstGap = max(f.stats.worstGap, g)
	}
}

func (f *faultRun) ackedPerPartition() [netPartitions]int {
	var out [netPartitions]int
	f.p.mu.Lock()
	defer f.p.mu.Unlock()
	for i := range f.p.acked {
		out[i%netPartitions]++
	}
	return out
}

func (f *faultRun) awaitAcks(t *testing.T, more int, what string) {
	t.Helper()
	target := f.p.ackedCount() + more
	await.For(t, 60*time.Second, fmt.Sprintf("%d more acks (%s)", more, what), func() error {
		if n := f.p.ackedCount(); n < target {
			return fmt.Errorf("%d acked of %d, %d produce errors", n, target, f.p.errorCount())
		}
		return nil
	})
}

// awaitInSync waits until every broker, asked on its own, reports the
// same leader and leader epoch for every partition, with all three
// replicas in the ISR: a broker that was cut off must have caught up with
// the metadata too, not only the majority that went on without it.
func (f *faultRun) awaitInSync(t *testing.T) {
	t.Helper()
	start := time.Now()
	var last error          // the latest reason to wait
	var lastSince time.Time // since when that reason has held
	defer func() {
		// A slow convergence names what held it up, for the soak log.
		if d := time.Since(start); d > 5*time.Second && last != nil {
			t.Logf("converging took %v; for its last %v: %v", d.Round(10*time.Millisecond),
				time.Since(lastSince).Round(10*time.Millisecond), last)
		}
	}()
	await.For(t, 60*time.Second, "every broker to see every partition led with 3 in-sync replicas, all at one leader epoch", func() error {
		err := f.inSync()
		if err != nil && (last == nil || err.Error() != last.Error()) {
			last, lastSince = err, time.Now()
		}
		return err
	})
}

// inSync is nil when every broker reports the same view and the view is
// whole, or says what differs.
func (f *faultRun) inSync() error {
	views := map[int32]string{}
	for _, b := range f.c.Brokers {
		v, err := f.partitionView(b.NodeID)
		if err != nil {
			return fmt.Errorf("broker %d: %v", b.NodeID, err)
		}
		views[b.NodeID] = v
	}
	for id, v := range views {
		if v != views[1] {
			return fmt.Errorf("brokers disagree: %d sees %s, 1 sees %s", id, v, views[1])
		}
	}
	return nil
}

// partitionView asks broker id itself for the topic's metadata and returns
// "p0: leader L epoch E isr [...]; ..." or an error while a partition has no
// leader or fewer than 3 in-sync replicas.
func (f *faultRun) partitionView(id int32) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(f.topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, f.raw.Broker(int(id)))
	if err != nil {
		return "", err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != netPartitions {
		return "", fmt.Errorf("metadata %+v", resp.Topics)
	}
	parts := resp.Topics[0].Partitions
	sort.Slice(parts, func(i, j int) bool { return parts[i].Partition < parts[j].Partition })
	var sb strings.Builder
	for _, p := range parts {
		isr := append([]int32(nil), p.ISR...)
		sort.Slice(isr, func(i, j int) bool { return isr[i] < isr[j] })
		fmt.Fprintf(&sb, "p%d: leader %d epoch %d isr %v; ", p.Partition, p.Leader, p.LeaderEpoch, isr)
		if p.ErrorCode != 0 || p.Leader < 0 || len(isr) != 3 {
			return "", fmt.Errorf("not in sync: %s", sb.String())
		}
	}
	return sb.String(), nil
}

func (f *faultRun) leaderOf(t *testing.T, partition int32) int32 {
	t.Helper()
	var leader int32 = -1
	await.For(t, 30*time.Second, fmt.Sprintf("a leader for partition %d", partition), func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		md, err := f.adm.Metadata(ctx, f.topic)
		if err != nil {
			return err
		}
		p, ok := md.Topics[f.topic].Partitions[partition]
		if !ok || p.Leader < 0 {
			return fmt.Errorf("no leader")
		}
		leader = p.Leader
		return nil
	})
	return leader
}

func (f *faultRun) controller(t *testing.T) int32 {
	t.Helper()
	var id int32 = -1
	await.For(t, 30*time.Second, "a controller", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// A request on the wire: kadm's BrokerMetadata would answer the
		// controller the client last cached (checkAdvertised).
		req := kmsg.NewPtrMetadataRequest()
		req.Topics = []kmsg.MetadataRequestTopic{}
		md, err := req.RequestWith(ctx, f.raw)
		if err != nil {
			return err
		}
		if md.ControllerID < 0 {
			return fmt.Errorf("no controller")
		}
		id = md.ControllerID
		return nil
	})
	return id
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// seenRecords is a consumer reading every partition from the start while
// the faults run: every record it is served must still be in the log,
// at the same offset, at the end.
type seenRecords struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	seen map[int32]map[int64]string
}

func startSeenRecords(t *testing.T, seeds []string, topic string, partitions int32) *seenRecords {
	parts := map[int32]kgo.Offset{}
	for p := range partitions {
		parts[p] = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}),
		kgo.FetchMaxWait(500*time.Millisecond), kgo.MetadataMinAge(100*time.Millisecond),
		kgo.RequestTimeoutOverhead(2*time.Second),
		kgo.Dialer((&net.Dialer{Timeout: 2 * time.Second}).DialContext))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &seenRecords{cl: cl, cancel: cancel, done: make(chan struct{}), seen: map[int32]map[int64]string{}}
	go func() { // owned by s: stop cancels ctx and waits for done
		defer close(s.done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			s.mu.Lock()
			fs.EachRecord(func(r *kgo.Record) {
				if s.seen[r.Partition] == nil {
					s.seen[r.Partition] = map[int64]string{}
				}
				s.seen[r.Partition][r.Offset] = string(r.Value)
			})
			s.mu.Unlock()
		}
	}()
	t.Cleanup(s.stop)
	return s
}

func (s *seenRecords) stop() {
	s.cancel()
	<-s.done
	s.cl.Close()
}

// checkNetFault is the checker, run once the faults are healed and the
// producer stopped:
//
//  1. every acknowledged record is in the log exactly once, at the offset
//     its ack gave, and each partition holds the records in send order
//     (checkAcked, the kill -9 and full-disk tests' check);
//  2. every record the consumer was served during the faults is still in
//     the log at the same offset (no consumer saw a record that later
//     disappeared);
//  3. no two brokers acknowledged writes to one partition in one leader
//     epoch: each acknowledged batch's epoch is the one the leader stamped
//     in it when it appended (read back with the record), and the broker
//     that acknowledged it is the one the produce response came from
//     (wireAcks). Batches sent more than once are left out: a retry can be
//     acknowledged as a duplicate by a later leader, which did not write it;
//  4. with every broker stopped cleanly, every replica's segment files
//     hold byte-identical batches up to the high watermark. Weir serves
//     reads from the leader only (a follower answers
//     NOT_LEADER_OR_FOLLOWER, and a fetch posing as a follower would move
//     the leader's ISR bookkeeping), so a replica is read from its files.
func checkNetFault(t *testing.T, f *faultRun) netTally {
	t.Helper()
	got := consumeAllSeeds(t, f.c.Bootstrap(), f.topic)
	n := netTally{ackTally: checkAcked(t, f.p, got)}

	// 2: the consumer's view.
	at := map[int32]map[int64]*kgo.Record{}
	for p, recs := range got {
		at[p] = map[int64]*kgo.Record{}
		for _, r := range recs {
			at[p][r.Offset] = r
		}
	}
	f.seen.mu.Lock()
	nseen, vanished := 0, 0
	for p, offs := range f.seen.seen {
		for off, v := range offs {
			nseen++
			if r, ok := at[p][off]; !ok || string(r.Value) != v {
				vanished++
				if vanished <= 20 {
					t.Errorf("the consumer read %q at partition %d offset %d; the log now holds %v there", v, p, off, r)
				}
			}
		}
	}
	f.seen.mu.Unlock()
	t.Logf("the consumer read %d records during the faults; %d of them are gone since", nseen, vanished)
	n.Vanished = vanished

	// 3: one broker per leader epoch.
	acks, sends := f.wire.snapshot()
	owner := map[int32]map[int32]int32{} // partition -> epoch -> broker
	checked, retried := 0, 0
	for _, a := range acks {
		if sends[a.batch] > 1 {
			retried++
			continue
		}
		r, ok := at[a.batch.partition][a.baseOffset]
		if !ok {
			t.Errorf("broker %d acknowledged partition %d offset %d, which is not in the log", a.node, a.batch.partition, a.baseOffset)
			continue
		}
		checked++
		if owner[a.batch.partition] == nil {
			owner[a.batch.partition] = map[int32]int32{}
		}
		if prev, ok := owner[a.batch.partition][r.LeaderEpoch]; ok && prev != a.node {
			n.EpochConflicts++
			t.Errorf("partition %d leader epoch %d: writes acknowledged by broker %d and by broker %d", a.batch.partition, r.LeaderEpoch, prev, a.node)
		}
		owner[a.batch.partition][r.LeaderEpoch] = a.node
	}
	t.Logf("leader epochs: %d acknowledged batches checked, %d sent more than once left out; epoch -> broker %v", checked, retried, owner)

	// 4: the replicas' files.
	hw := map[int32]int64{}
	for p, recs := range got {
		if len(recs) > 0 {
			hw[p] = recs[len(recs)-1].Offset + 1
		}
	}
	ends := endOffsetsAll(t, f.adm, f.topic)
	for p, e := range ends {
		if e != hw[p] {
			t.Errorf("partition %d: high watermark %d, read up to %d", p, e, hw[p])
		}
	}
	for _, b := range f.c.Brokers {
		b.Stop()
	}
	n.Diverged = compareReplicas(t, f.c.Brokers, f.topic, ends)
	return n
}

// netTally adds the network checker's counts to checkAcked's.
type netTally struct {
	ackTally
	Vanished       int // served to the consumer, later gone
	EpochConflicts int // a partition's leader epoch with acks from two brokers
	Diverged       int // replica batches below the high watermark that differ or are missing
}

func endOffsetsAll(t *testing.T, adm *kadm.Client, topic string) map[int32]int64 {
	t.Helper()
	out := map[int32]int64{}
	await.For(t, 30*time.Second, "the high watermarks", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			return err
		}
		ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
		return nil
	})
	return out
}

// segBatch is one record batch read from a segment file.
type segBatch struct {
	base, last int64
	epoch      int32
	raw        []byte
}

// compareReplicas reads each stopped broker's segment files of every
// partition and checks that the batches below the high watermark are the
// same bytes on every replica, and that leader epochs never go down.
func compareReplicas(t *testing.T, brokers []*brokertest.Broker, topic string, hw map[int32]int64) int {
	t.Helper()
	diverged := 0
	for p, end := range hw {
		var ref []segBatch
		var refNode int32
		for i, b := range brokers {
			batches := readSegments(t, filepath.Join(b.DataDir, fmt.Sprintf("%s-%d", topic, p)), end)
			var prevEpoch int32 = -1
			for _, sb := range batches {
				if sb.epoch < prevEpoch {
					t.Errorf("broker %d partition %d offset %d: leader epoch %d after %d", b.NodeID, p, sb.base, sb.epoch, prevEpoch)
				}
				prevEpoch = sb.epoch
			}
			covered := int64(0)
			if len(batches) > 0 {
				covered = batches[len(batches)-1].last + 1
			}
			if covered < end {
				diverged++
				t.Errorf("broker %d partition %d: its files end at offset %d, below the high watermark %d", b.NodeID, p, covered, end)
			}
			if i == 0 {
				ref, refNode = batches, b.NodeID
				continue
			}
			if len(batches) != len(ref) {
				diverged += max(len(ref)-len(batches), len(batches)-len(ref))
				t.Errorf("partition %d: broker %d holds %d batches below the high watermark %d, broker %d %d", p, b.NodeID, len(batches), end, refNode, len(ref))
			}
			for j := range min(len(batches), len(ref)) {
				if x, y := ref[j], batches[j]; x.base != y.base || !bytes.Equal(x.raw, y.raw) {
					diverged++
					t.Errorf("partition %d: batch %d differs: broker %d has offsets %d-%d epoch %d, broker %d offsets %d-%d epoch %d",
						p, j, refNode, x.base, x.last, x.epoch, b.NodeID, y.base, y.last, y.epoch)
					break
				}
			}
		}
		t.Logf("partition %d: %d batches up to the high watermark %d compared on %d replicas", p, len(ref), end, len(brokers))
	}
	return diverged
}

// readSegments returns the v2 batches of a partition directory's segment
// files, in offset order, whose base offset is below end.
func readSegments(t *testing.T, dir string, end int64) []segBatch {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(logs) == 0 {
		entries, _ := os.ReadDir(dir)
		t.Fatalf("no segment in %s (%v); it holds %v", dir, err, entries)
	}
	sort.Strings(logs) // names are zero-padded base offsets
	var out []segBatch
	for _, path := range logs {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for pos := 0; pos+61 <= len(data); {
			base := int64(binary.BigEndian.Uint64(data[pos:]))
			size := int(binary.BigEndian.Uint32(data[pos+8:])) + 12
			if pos+size > len(data) {
				break
			}
			if base >= end {
				return out
			}
			out = append(out, segBatch{
				base:  base,
				last:  base + int64(binary.BigEndian.Uint32(data[pos+23:])),
				epoch: int32(binary.BigEndian.Uint32(data[pos+12:])),
				raw:   data[pos : pos+size],
			})
			pos += size
		}
	}
	return out
}
