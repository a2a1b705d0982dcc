package quorum

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/weirhq/weir/internal/await"
)

// testBroker is the part of a broker the quorum needs: a listener whose
// accept loop hands raft connections to the current Stream, a dir, a node.
type testBroker struct {
	id     int32
	ln     net.Listener
	dir    string
	stream atomic.Pointer[Stream]
	node   *Node
}

type testCluster struct {
	t       *testing.T
	wg      sync.WaitGroup
	brokers map[int32]*testBroker
	voters  []Voter
	logger  *slog.Logger
}

func newTestCluster(t *testing.T, voters, nonVoters int) *testCluster {
	c := &testCluster{t: t, brokers: map[int32]*testBroker{}, logger: slog.New(slog.DiscardHandler)}
	if testing.Verbose() {
		c.logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	for i := range voters + nonVoters {
		id := int32(i + 1)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		b := &testBroker{id: id, ln: ln, dir: filepath.Join(t.TempDir(), fmt.Sprint(id))}
		c.brokers[id] = b
		if i < voters {
			c.voters = append(c.voters, Voter{ID: id, Addr: b.addr()})
		}
		c.wg.Go(func() { c.acceptLoop(b) })
	}
	t.Cleanup(c.close)
	for id := range c.brokers {
		c.start(id)
	}
	return c
}

func (b *testBroker) addr() string { return b.ln.Addr().String() }

// acceptLoop is what the broker's accept loop does: read four bytes, and
// hand a raft connection over (a Kafka one would go to the server).
func (c *testCluster) acceptLoop(b *testBroker) {
	for {
		conn, err := b.ln.Accept()
		if err != nil {
			return
		}
		c.wg.Go(func() {
			var pre [4]byte
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.ReadFull(conn, pre[:]); err != nil || !IsRaftPreamble(pre) {
				conn.Close()
				return
			}
			conn.SetReadDeadline(time.Time{})
			if s := b.stream.Load(); s != nil {
				s.Handoff(conn)
			} else {
				conn.Close()
			}
		})
	}
}

func (c *testCluster) start(id int32) {
	b := c.brokers[id]
	s := NewStream(b.addr())
	b.stream.Store(s)
	cfg := Config{
		NodeID: id, Dir: b.dir, Voters: c.voters, Stream: s, Logger: c.logger.With("broker", id),
		SnapshotInterval: 100 * time.Millisecond, SnapshotThreshold: 32, TrailingLogs: 16,
	}
	cfg.KafkaTimeouts(500*time.Millisecond, 500*time.Millisecond) // fast failover, not Kafka's defaults
	n, err := Open(cfg)
	if err != nil {
		c.t.Fatalf("open node %d: %v", id, err)
	}
	b.node = n
}

func (c *testCluster) stop(id int32) {
	b := c.brokers[id]
	if err := b.node.Close(); err != nil {
		c.t.Errorf("close node %d: %v", id, err)
	}
	if err := b.node.Close(); err != nil {
		c.t.Errorf("second close of node %d: %v", id, err)
	}
	b.node = nil
}

func (c *testCluster) close() {
	for id, b := range c.brokers {
		if b.node != nil {
			c.stop(id)
		}
		b.ln.Close()
	}
	c.wg.Wait()
}

// leader returns the running node every running node agrees leads.
func (c *testCluster) leader(timeout time.Duration) *testBroker {
	c.t.Helper()
	var leader *testBroker
	await.For(c.t, timeout, "one leader", func() error {
		leader = nil
		for _, b := range c.brokers {
			if b.node != nil && b.node.IsLeader() {
				if leader != nil {
					return fmt.Errorf("two leaders %d %d", leader.id, b.id)
				}
				leader = b
			}
		}
		if leader == nil {
			return errors.New("no leader")
		}
		return nil
	})
	return leader
}

// propose proposes on the current leader, retrying across a leader change.
func (c *testCluster) propose(cmd Command) any {
	c.t.Helper()
	var v any
	await.For(c.t, 10*time.Second, fmt.Sprintf("propose %T", cmd), func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		v, err = c.leader(5*time.Second).node.Propose(ctx, cmd)
		return err
	})
	return v
}

// converged waits until every running node has the same image as want.
func (c *testCluster) converged(timeout time.Duration) *Image {
	c.t.Helper()
	var img *Image
	await.For(c.t, timeout, "images converge", func() error {
		img = c.leader(5 * time.Second).node.Image()
		want := snapshotBytes(c.t, img)
		for _, b := range c.brokers {
			if b.node == nil {
				continue
			}
			got := b.node.Image()
			if !bytes.Equal(snapshotBytes(c.t, got), want) {
				return fmt.Errorf("node %d at version %d, leader at %d", b.id, got.Version, img.Version)
			}
			if err := checkInvariants(got); err != nil {
				return fmt.Errorf("node %d: %w", b.id, err)
			}
		}
		return nil
	})
	return img
}

func (c *testCluster) register(id int32) {
	b := c.brokers[id]
	host, _, _ := net.SplitHostPort(b.addr())
	c.propose(RegisterBroker{ID: id, IncarnationID: fmt.Sprintf("inc-%d", id), Rack: fmt.Sprintf("r%d", id%2),
		Host: host, Port: 9000 + id, RaftAddr: b.addr()})
	c.propose(UnfenceBroker{ID: id})
}

func (c *testCluster) createTopic(name string, partitions, rf int) {
	c.t.Helper()
	img := c.leader(5 * time.Second).node.Image()
	assignment, err := PlaceReplicas(img, partitions, rf, len(img.Topics))
	if err != nil {
		c.t.Fatal(err)
	}
	c.propose(CreateTopic{Name: name, ID: testTopicID(), Assignment: assignment})
}

func TestCluster(t *testing.T) {
	c := newTestCluster(t, 3, 1)
	c.propose(InitCluster{ClusterID: "weir-test"})
	for id := int32(1); id <= 4; id++ {
		c.register(id)
	}
	c.createTopic("orders", 6, 3)
	c.createTopic("events", 3, 2)
	img := c.converged(10 * time.Second)
	if len(img.Brokers) != 4 || len(img.Topics) != 2 || img.ClusterID != "weir-test" {
		t.Fatalf("image %+v", img)
	}

	// Lose the leader: a new one is elected, and fences the old one.
	old := c.leader(5 * time.Second)
	lost := time.Now()
	c.stop(old.id)
	nl := c.leader(10 * time.Second)
	t.Logf("new leader %d elected %v after leader %d closed", nl.id, time.Since(lost), old.id)
	if d := time.Since(lost); d > 5*time.Second {
		t.Errorf("election took %v", d)
	}
	c.propose(FenceBroker{ID: old.id})
	c.createTopic("after-failover", 2, 2)
	img = c.converged(10 * time.Second)
	for _, name := range img.TopicNames() {
		for i, p := range img.Topics[name].Partitions {
			if p.Leader == old.id {
				t.Fatalf("%s-%d still led by fenced broker %d", name, i, old.id)
			}
		}
	}

	// The old leader restarts on its dir and catches up.
	c.start(old.id)
	c.propose(UnfenceBroker{ID: old.id})
	c.converged(10 * time.Second)
}

func TestClusterSnapshots(t *testing.T) {
	c := newTestCluster(t, 3, 0)
	c.propose(InitCluster{ClusterID: "weir-test"})
	for id := int32(1); id <= 3; id++ {
		c.register(id)
	}
	c.createTopic("t", 3, 3)
	c.converged(10 * time.Second)

	// A follower snapshots, stops, and misses more than TrailingLogs entries
	// that the leader compacts away.
	leader := c.leader(5 * time.Second)
	var follower int32
	for id := range c.brokers {
		if id != leader.id {
			follower = id
		}
	}
	if err := c.brokers[follower].node.Snapshot(); err != nil {
		t.Fatal(err)
	}
	ownSnap := c.brokers[follower].node.raft.Stats()["last_snapshot_index"]
	c.stop(follower)
	for i := range 60 {
		c.propose(SetTopicConfigs{Topic: "t", Configs: map[string]string{"retention.ms": fmt.Sprint(i)}})
	}
	leader = c.leader(5 * time.Second)
	if err := leader.node.Snapshot(); err != nil {
		t.Fatal(err)
	}
	first, err := leader.node.store.FirstIndex()
	if err != nil {
		t.Fatal(err)
	}
	if first <= 1 {
		t.Fatalf("leader log not compacted: first index %d", first)
	}

	// The follower restores its own snapshot, then installs the leader's.
	c.start(follower)
	img := c.converged(10 * time.Second)
	if v, _ := img.TopicConfig("t", "retention.ms"); v != "59" {
		t.Fatalf("retention.ms %q", v)
	}
	// raft restores the installed snapshot into the image before it
	// records the snapshot's index, so the image can converge a moment
	// before the stat moves: wait for it.
	await.For(t, 10*time.Second, "the follower installing the leader's snapshot", func() error {
		if got := c.brokers[follower].node.raft.Stats()["last_snapshot_index"]; got == ownSnap {
			return fmt.Errorf("last_snapshot_index still at its own %s", got)
		}
		return nil
	})

	// A whole-cluster restart restores everything from disk.
	want := snapshotBytes(t, img)
	for id := range c.brokers {
		c.stop(id)
	}
	for id := range c.brokers {
		c.start(id)
	}
	await.For(t, 10*time.Second, "restored image", func() error {
		for _, b := range c.brokers {
			if got := snapshotBytes(t, b.node.Image()); !bytes.Equal(got, want) {
				return fmt.Errorf("node %d at version %d", b.id, b.node.Image().Version)
			}
		}
		return nil
	})
}

func TestProposeOnFollower(t *testing.T) {
	c := newTestCluster(t, 3, 0)
	leader := c.leader(10 * time.Second)
	for _, b := range c.brokers {
		if b == leader {
			continue
		}
		if _, err := b.node.Propose(context.Background(), InitCluster{ClusterID: "x"}); !errors.Is(err, ErrNotLeader) {
			t.Fatalf("propose on follower %d: %v", b.id, err)
		}
		id, err := b.node.WaitForLeader(context.Background())
		if err != nil || id != leader.id {
			t.Fatalf("follower %d sees leader %d (%v), want %d", b.id, id, err, leader.id)
		}
	}
}

// Barrier on the leader returns with every earlier entry in its image;
// on a follower it is ErrNotLeader.
func TestBarrier(t *testing.T) {
	c := newTestCluster(t, 3, 0)
	leader := c.leader(10 * time.Second)
	c.propose(InitCluster{ClusterID: "x"})
	index := leader.node.CommitIndex()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := leader.node.Barrier(ctx); err != nil {
		t.Fatalf("barrier on the leader: %v", err)
	}
	if img := leader.node.Image(); img.ClusterID != "x" || leader.node.AppliedIndex() < index {
		t.Fatalf("after the barrier: cluster id %q, applied %d < %d", img.ClusterID, leader.node.AppliedIndex(), index)
	}
	for _, b := range c.brokers {
		if b != leader {
			if err := b.node.Barrier(ctx); !errors.Is(err, ErrNotLeader) {
				t.Fatalf("barrier on follower %d: %v", b.id, err)
			}
		}
	}
}

// members returns the leader's raft configuration.
func (c *testCluster) members() (voters, nonvoters []int32) {
	c.t.Helper()
	voters, nonvoters, err := c.leader(5 * time.Second).node.Members()
	if err != nil {
		c.t.Fatal(err)
	}
	return voters, nonvoters
}

// TestUnregisterRemovesNonvoter: an unregistered non-voter leaves the raft
// configuration (the leader stops replicating to it) and can come back by
// registering again; an unregistered voter stays a voter.
func TestUnregisterRemovesNonvoter(t *testing.T) {
	c := newTestCluster(t, 3, 1)
	c.propose(InitCluster{ClusterID: "weir-test"})
	for id := int32(1); id <= 4; id++ {
		c.register(id)
	}
	await.For(t, 10*time.Second, "broker 4 a non-voter", func() error {
		if _, nv := c.members(); !slices.Equal(nv, []int32{4}) {
			return fmt.Errorf("non-voters %v", nv)
		}
		return nil
	})

	c.stop(4)
	c.propose(UnregisterBroker{ID: 4})
	await.For(t, 10*time.Second, "broker 4 out of the raft configuration", func() error {
		if v, nv := c.members(); len(nv) != 0 || !slices.Equal(v, []int32{1, 2, 3}) {
			return fmt.Errorf("voters %v, non-voters %v", v, nv)
		}
		return nil
	})
	if img := c.converged(10 * time.Second); len(img.Brokers) != 3 {
		t.Fatalf("brokers %v after unregistering broker 4", img.AllBrokers())
	}

	// A voter is unregistered like any broker (its registration goes),
	// but the voter set is fixed: it stays a voter and the quorum keeps
	// its three members. Another image change runs the membership loop.
	voter := int32(1)
	if c.leader(5*time.Second).id == voter {
		voter = 2
	}
	c.propose(UnregisterBroker{ID: voter})
	c.createTopic("after", 1, 2)
	c.converged(10 * time.Second)
	if v, nv := c.members(); len(nv) != 0 || !slices.Equal(v, []int32{1, 2, 3}) {
		t.Fatalf("after unregistering voter %d: voters %v, non-voters %v", voter, v, nv)
	}

	// Both come back by registering again, broker 4 from its old dir.
	c.start(4)
	c.register(4)
	c.register(voter)
	await.For(t, 10*time.Second, "broker 4 a non-voter again", func() error {
		if _, nv := c.members(); !slices.Equal(nv, []int32{4}) {
			return fmt.Errorf("non-voters %v", nv)
		}
		return nil
	})
	if img := c.converged(10 * time.Second); len(img.LiveBrokers()) != 4 {
		t.Fatalf("live brokers %v after registering again", img.LiveBrokers())
	}
}

func TestKafkaTimeouts(t *testing.T) {
	tests := []struct {
		election, fetch             time.Duration
		heartbeat, elect, leaseWant time.Duration
	}{
		{500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond},
		// Kafka's defaults: raft's election timeout may not be shorter
		// than its heartbeat timeout, so it is raised to fetch.
		{time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second},
		{3 * time.Second, time.Second, time.Second, 3 * time.Second, time.Second},
	}
	for _, tt := range tests {
		var c Config
		c.KafkaTimeouts(tt.election, tt.fetch)
		if c.HeartbeatTimeout != tt.heartbeat || c.ElectionTimeout != tt.elect || c.LeaderLeaseTimeout != tt.leaseWant {
			t.Errorf("KafkaTimeouts(%v, %v) = heartbeat %v election %v lease %v; want %v %v %v", tt.election, tt.fetch,
				c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout, tt.heartbeat, tt.elect, tt.leaseWant)
		}
		rc := raft.DefaultConfig()
		rc.LocalID = "1"
		rc.HeartbeatTimeout, rc.ElectionTimeout, rc.LeaderLeaseTimeout = c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout
		if err := raft.ValidateConfig(rc); err != nil {
			t.Errorf("KafkaTimeouts(%v, %v): raft rejects %v", tt.election, tt.fetch, err)
		}
	}
}

// Between appends raft sends each follower the commit index every
// CommitTimeout (50 ms) and reads the entry before the follower's next one
// each time. Those reads must come from memory: from bolt they decoded the
// whole entry every time, and an idle 3-node quorum whose last entry was a
// 20,000-partition topic allocated 21 MB in 2 s (0.57 MB with the cache).
func TestRecentEntriesAreReadWithoutDecoding(t *testing.T) {
	c := newTestCluster(t, 3, 0)
	c.propose(InitCluster{ClusterID: "weir-test"})
	for id := int32(1); id <= 3; id++ {
		c.register(id)
	}
	c.createTopic("wide", 20000, 3)
	c.converged(10 * time.Second)
	leader := c.leader(5 * time.Second).node
	last, err := leader.store.LastIndex()
	if err != nil || last == 0 {
		t.Fatalf("last index %d: %v", last, err)
	}
	var e raft.Log
	if err := leader.logs.GetLog(last, &e); err != nil || len(e.Data) < 100<<10 {
		t.Fatalf("the last entry is %d bytes (%v), want the large topic creation", len(e.Data), err)
	}
	// From bolt every read allocates the entry again.
	if allocs := testing.AllocsPerRun(20, func() { leader.store.GetLog(last, &e) }); allocs == 0 {
		t.Fatal("reading the entry from bolt allocated nothing: the check below proves nothing")
	}
	if allocs := testing.AllocsPerRun(20, func() { leader.logs.GetLog(last, &e) }); allocs != 0 {
		t.Fatalf("raft's read of the newest entry allocated %.0f times: it was decoded from bolt again", allocs)
	}
}
