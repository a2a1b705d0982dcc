package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/weirhq/weir/broker/quorum"
)

// fakeQuorum is a Quorum whose image and leadership the test sets; it
// records proposals instead of committing them.
type fakeQuorum struct {
	mu       sync.Mutex
	img      *quorum.Image
	leader   bool
	leaderID int32 // 0: this broker, 1
	proposed []quorum.Command
	// barrier is Barrier's answer; applied, when set, is the image a
	// successful barrier leaves (the entries a new leader had not yet
	// applied).
	barrier error
	applied *quorum.Image
	term    uint64
}

func (q *fakeQuorum) Term() uint64 { q.mu.Lock(); defer q.mu.Unlock(); return q.term }

func (q *fakeQuorum) Barrier(context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.barrier == nil && q.applied != nil {
		q.img, q.applied = q.applied, nil
	}
	return q.barrier
}

func (q *fakeQuorum) Image() *quorum.Image { q.mu.Lock(); defer q.mu.Unlock(); return q.img }
func (q *fakeQuorum) IsLeader() bool       { q.mu.Lock(); defer q.mu.Unlock(); return q.leader }
func (q *fakeQuorum) LeaderID() (int32, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.leaderID != 0 {
		return q.leaderID, true
	}
	return 1, q.leader
}

func (q *fakeQuorum) Propose(_ context.Context, c quorum.Command) (any, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.proposed = append(q.proposed, c)
	return nil, nil
}

// took returns the proposals since the last call, as text.
func (q *fakeQuorum) took() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for _, c := range q.proposed {
		out = append(out, fmt.Sprintf("%T%+v", c, c))
	}
	q.proposed = nil
	return out
}

func threeBrokers() *quorum.Image {
	img := quorum.EmptyImage()
	img.ClusterID = "c"
	for id := int32(1); id <= 3; id++ {
		img.Brokers[id] = quorum.Broker{ID: id, Epoch: int64(10 * id)}
	}
	return img
}

func testController(q *fakeQuorum, auto bool) *Controller {
	return NewController(context.Background(), ControllerOptions{
		NodeID: 1, ClusterID: "c", Quorum: q, Logger: slog.New(slog.DiscardHandler), AutoRebalance: auto,
		Timing: Timing{Session: 2 * time.Second, Heartbeat: 500 * time.Millisecond, Imbalance: 10 * time.Second},
	})
}

func wantProposals(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: proposed %v, want %v", what, got, want)
	}
}

// A controller tracks heartbeats only while it leads; taking over, it
// gives every broker a grace of three heartbeat intervals (never more
// than a session) and then fences, with its epoch, each one whose session
// expired.
func TestControllerFencesBrokersWhoseSessionExpired(t *testing.T) {
	q := &fakeQuorum{img: threeBrokers()}
	c := testController(q, false)
	t0 := time.Unix(1000, 0)
	if c.Beat(2, t0) {
		t.Fatal("a heartbeat was tracked while not leading")
	}
	q.leader = true
	c.step(t0)
	wantProposals(t, "on taking over", q.took())
	c.Beat(1, t0.Add(time.Second))
	c.Beat(2, t0.Add(time.Second))
	c.step(t0.Add(1400 * time.Millisecond))
	wantProposals(t, "inside the grace", q.took())
	c.step(t0.Add(1600 * time.Millisecond))
	wantProposals(t, "after the grace", q.took(), "quorum.FenceBroker{ID:3 Epoch:30}")

	c.Forget(2)
	c.step(t0.Add(4 * time.Second))
	wantProposals(t, "a forgotten broker", q.took(), "quorum.FenceBroker{ID:1 Epoch:10}", "quorum.FenceBroker{ID:3 Epoch:30}")
	q.leader = false
	c.step(t0.Add(5 * time.Second))
	if c.Beat(2, t0.Add(5*time.Second)) {
		t.Fatal("the tracker survived losing leadership")
	}
}

// A new metadata log gets this broker's cluster id and the newest
// weir.metadata.version (a fresh cluster); a log of another
// cluster is left alone.
func TestControllerInitialisesTheCluster(t *testing.T) {
	q := &fakeQuorum{img: quorum.EmptyImage(), leader: true}
	c := testController(q, false)
	c.step(time.Unix(1000, 0))
	wantProposals(t, "empty log", q.took(), "quorum.InitCluster{ClusterID:c Features:map[weir.metadata.version:2]}")
	q.img.ClusterID = "other"
	c.step(time.Unix(1001, 0))
	wantProposals(t, "another cluster's log", q.took())
}

// Reassignments whose targets are all in sync complete; with
// auto.leader.rebalance.enable, leadership moves back to a live, in-sync
// preferred replica once per leader.imbalance.check.interval.
func TestControllerCompletesReassignmentsAndRebalancesLeaders(t *testing.T) {
	img := threeBrokers()
	img.Topics["moving"] = &quorum.Topic{Name: "moving", Partitions: []quorum.Partition{
		{Replicas: []int32{3, 1}, ISR: []int32{1, 3}, Leader: 1, AddingReplicas: []int32{3}, RemovingReplicas: []int32{1}},
		{Replicas: []int32{3, 1}, ISR: []int32{1}, Leader: 1, AddingReplicas: []int32{3}, RemovingReplicas: []int32{1}},
	}}
	img.Topics["led"] = &quorum.Topic{Name: "led", Partitions: []quorum.Partition{
		{Replicas: []int32{2, 1}, ISR: []int32{1, 2}, Leader: 1},
		{Replicas: []int32{2, 1}, ISR: []int32{1}, Leader: 1},
	}}
	q := &fakeQuorum{img: img, leader: true}
	c := testController(q, true)
	t0 := time.Unix(1000, 0)
	for id := int32(1); id <= 3; id++ {
		c.Beat(id, t0)
	}
	c.lastRebalance = t0
	c.step(t0)
	wantProposals(t, "before the imbalance interval", q.took(), "quorum.CompleteReassignment{Topic:moving Partition:0}")
	for id := int32(1); id <= 3; id++ {
		c.Beat(id, t0.Add(10*time.Second))
	}
	c.step(t0.Add(10 * time.Second))
	wantProposals(t, "at the imbalance interval", q.took(),
		"quorum.CompleteReassignment{Topic:moving Partition:0}",
		// moving-0's preferred replica is live and in sync too: the fake
		// quorum never applied its completion.
		"quorum.ElectLeaders{Type:0 Partitions:[{Topic:led Partition:0} {Topic:moving Partition:0}]}")
}

func TestTimingOf(t *testing.T) {
	cfg := configValues{"broker.session.timeout.ms": "9000", "broker.heartbeat.interval.ms": "x", "leader.imbalance.check.interval.seconds": "300"}
	got := TimingOf(cfg)
	want := Timing{Session: 9 * time.Second, Heartbeat: time.Second, Imbalance: 300 * time.Second}
	if got != want {
		t.Fatalf("TimingOf = %+v, want %+v", got, want)
	}
}

type configValues map[string]string

func (c configValues) Value(k string) (string, bool) { v, ok := c[k]; return v, ok }

// A broker that appears in the image after this controller took over (a
// new leader applies the entries its predecessor committed only once its
// own first entry commits, so its first image can lack a registration
// and the unfencing that followed) is tracked from when the controller
// first sees it: if it never heartbeats (it failed with the old
// controller), it is fenced after the takeover grace, as Kafka's
// controller tracks every registration it replays. Before, it was never
// tracked, so never fenced, and the partitions it led stayed leaderless.
func TestControllerFencesABrokerItFirstSawAfterTakingOver(t *testing.T) {
	q := &fakeQuorum{img: threeBrokers(), leader: true}
	c := testController(q, false)
	t0 := time.Unix(1000, 0)
	c.step(t0)
	wantProposals(t, "on taking over", q.took())
	img := threeBrokers()
	img.Brokers[4] = quorum.Broker{ID: 4, Epoch: 40}
	q.mu.Lock()
	q.img = img
	q.mu.Unlock()
	for _, at := range []time.Duration{time.Second, 1400 * time.Millisecond} {
		for id := int32(1); id <= 3; id++ {
			c.Beat(id, t0.Add(at))
		}
		c.step(t0.Add(at))
		wantProposals(t, "inside the grace", q.took())
	}
	c.Beat(2, t0.Add(2600*time.Millisecond))
	c.Beat(3, t0.Add(2600*time.Millisecond))
	c.Beat(1, t0.Add(2600*time.Millisecond))
	c.step(t0.Add(2600 * time.Millisecond))
	wantProposals(t, "the grace after it was first seen", q.took(), "quorum.FenceBroker{ID:4 Epoch:40}")
}

// A new leader becomes the active controller only once its image holds
// every entry its predecessor committed (a raft barrier): until then it
// answers no heartbeat (NOT_CONTROLLER) and fences nobody, and then it
// tracks every broker of the complete image. Before, it answered
// heartbeats from an image that could lack a broker's registration or
// unfencing (a healthy broker told STALE_BROKER_EPOCH registered again; a
// stopping broker that looked fenced was let go with its leaderships).
func TestControllerTakesOverOnlyOnAnAppliedLog(t *testing.T) {
	applied := threeBrokers()
	applied.Brokers[4] = quorum.Broker{ID: 4, Epoch: 40} // registered just before the old controller failed
	q := &fakeQuorum{img: threeBrokers(), leader: true, barrier: errors.New("leadership lost"), applied: applied}
	c := testController(q, false)
	t0 := time.Unix(1000, 0)
	c.step(t0)
	if c.Beat(1, t0) {
		t.Fatal("a heartbeat was answered before the log was applied")
	}
	wantProposals(t, "before the barrier", q.took())
	q.mu.Lock()
	q.barrier = nil
	q.mu.Unlock()
	c.step(t0.Add(100 * time.Millisecond))
	for id := int32(1); id <= 3; id++ {
		if !c.Beat(id, t0.Add(time.Second)) {
			t.Fatal("a heartbeat was refused after the barrier")
		}
	}
	c.step(t0.Add(1500 * time.Millisecond))
	wantProposals(t, "inside the grace", q.took())
	c.step(t0.Add(1700 * time.Millisecond))
	wantProposals(t, "after the grace", q.took(), "quorum.FenceBroker{ID:4 Epoch:40}")
}

// A leader that lost leadership and won it back between two ticks (a new
// term) takes over again: another leader may have committed entries in
// between, so it answers no heartbeat until a new barrier.
func TestControllerTakesOverAgainInANewTerm(t *testing.T) {
	q := &fakeQuorum{img: threeBrokers(), leader: true, term: 1}
	c := testController(q, false)
	t0 := time.Unix(1000, 0)
	c.step(t0)
	if !c.Beat(1, t0) {
		t.Fatal("a heartbeat was refused after taking over")
	}
	q.mu.Lock()
	q.term, q.barrier = 2, errors.New("leadership lost")
	q.mu.Unlock()
	if c.Beat(1, t0.Add(100*time.Millisecond)) {
		t.Fatal("a heartbeat was answered in a new term before its barrier")
	}
	c.step(t0.Add(100 * time.Millisecond))
	if c.Beat(1, t0.Add(200*time.Millisecond)) {
		t.Fatal("a heartbeat was answered in a new term before its barrier")
	}
	q.mu.Lock()
	q.barrier = nil
	q.mu.Unlock()
	c.step(t0.Add(200 * time.Millisecond))
	if !c.Beat(1, t0.Add(300*time.Millisecond)) {
		t.Fatal("a heartbeat was refused after taking over again")
	}
}
