package replication

import (
	"github.com/weirhq/weir/broker/protocol"

	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/weirhq/weir/broker/replica"
)

// Partition is what replication needs of a hosted partition: its replica
// state and its topic's throttled-replica lists (nil: none), which change
// with the topic's configs.
type Partition interface {
	Replica() *Replica
	Throttled() *ThrottledReplicas
}

// Options are a Manager's dependencies, all from the broker that owns it.
type Options struct {
	NodeID        int32
	FetchMaxBytes int32 // replica.fetch.max.bytes
	// Fetchers is num.replica.fetchers: fetchers (each with its own
	// connection) per source broker; 0 is 1.
	Fetchers int
	// FetchMaxWait is replica.fetch.wait.max.ms, how long the leader may
	// hold a follower's fetch (0: 500 ms). SocketTimeout is
	// replica.socket.timeout.ms (0: 30 s, and never under FetchMaxWait):
	// the follower gives up on connecting to its leader, or on the answer
	// to one request, after it, and dials again. A fetch sent into a
	// network partition is never answered; after the heal the follower
	// resumes within SocketTimeout.
	FetchMaxWait, SocketTimeout time.Duration
	Logger                      *slog.Logger
	// Now is the broker's clock. Timers and socket deadlines run on the
	// wall clock.
	Now func() time.Time
	// Addr is a broker's Kafka address from metadata (false: unknown).
	Addr func(id int32) (string, bool)
	// Goroutine runs f on a goroutine the broker waits for at shutdown.
	Goroutine func(f func())
	// BytesIn counts the bytes followers append (ReplicationBytesIn).
	BytesIn interface{ Add(float64) }
	// ISRChanged, when set, counts an ISR change a led partition asked
	// for that metadata settled before the controller's answer did (-1
	// a shrink, +1 an expansion; see lifecycle.Options.ISRChanged).
	ISRChanged func(shrinks, expands int)
	// Dial connects to a leader (nil: TCP; TLS on an SSL inter-broker
	// listener).
	Dial protocol.Dialer
}

// Manager is this broker's replication layer (Kafka's ReplicaManager,
// less the request handling): it moves replicas between roles, runs one
// fetcher per leader for the partitions it follows, and holds the
// replication throttles.
type Manager struct {
	dial          protocol.Dialer // connects to leaders (nil: TCP)
	ctx           context.Context // the broker's lifetime: fetchers stop when it is done
	self          int32
	fetchMaxBytes int32
	numFetchers   int
	fetchMaxWait  time.Duration
	socketTimeout time.Duration
	logger        *slog.Logger
	now           func() time.Time
	addr          func(int32) (string, bool)
	goroutine     func(func())
	bytesIn       interface{ Add(float64) }
	isrChanged    func(shrinks, expands int)

	fetchers  fetchers
	throttles *throttles
}

// New returns a Manager whose fetchers run until ctx is done.
func New(ctx context.Context, opts Options) *Manager {
	m := &Manager{ctx: ctx, self: opts.NodeID, fetchMaxBytes: opts.FetchMaxBytes, numFetchers: max(opts.Fetchers, 1), logger: opts.Logger,
		now: opts.Now, addr: opts.Addr, goroutine: opts.Goroutine, bytesIn: opts.BytesIn, isrChanged: opts.ISRChanged, dial: opts.Dial, throttles: newThrottles()}
	if m.logger == nil {
		m.logger = slog.Default()
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.fetchMaxWait, m.socketTimeout = fetchTimeouts(opts.FetchMaxWait, opts.SocketTimeout)
	m.fetchers.m = m
	m.fetchers.mu.byKey = map[fetcherKey]*replicaFetcher{}
	return m
}

// Leadership is how applying an assignment moved this broker's leadership
// of a partition.
type Leadership int8

const (
	Kept   Leadership = iota // no change: still leader, or still not
	Gained                   // it leads now
	Lost                     // it led and does not any more
)

// Apply moves the partition to the role the assignment gives this broker,
// starting, moving or stopping its fetcher, and reports whether it applied
// anything and how leadership moved; the caller acts on leadership (group
// coordinator loading) and then wakes the parked requests, which re-check
// the role.
//
// Unchanged assignments are left alone, so follower tracking survives
// images that only touch other partitions; so are stale ones: a leader may
// know a newer partition epoch from the controller's answer to its ISR
// change than the image applied here carries (replica.Stale).
func (m *Manager) Apply(p Partition, a replica.Assignment, now time.Time) (Leadership, bool) {
	r := p.Replica()
	r.mu.Lock()
	rep := r.mu.rep
	cur := rep.Assignment()
	// Same epochs are not enough: the controller's answer to an ISR change
	// gives the leader a partition epoch before the image that carries it,
	// and when that change completed a reassignment the image's replicas
	// differ from what the leader holds; Kafka re-applies metadata at an
	// equal partition epoch and skips only a lower one.
	same := rep.Role() != replica.None && cur.LeaderEpoch == a.LeaderEpoch &&
		cur.PartitionEpoch == a.PartitionEpoch && cur.Leader == a.Leader &&
		slices.Equal(cur.Replicas, a.Replicas) && slices.Equal(cur.ISR, a.ISR)
	stale := rep.Stale(a)
	r.mu.Unlock()
	if same || stale {
		return Kept, false
	}
	switch {
	case a.Leader == m.self:
		return m.becomeLeader(p, a, cur, now), true
	case a.Leader >= 0:
		r.mu.Lock()
		wasLeader := rep.Role() == replica.Leader
		rep.BecomeFollower(a, r.log.LogEndOffset())
		r.mu.Unlock()
		m.fetchers.follow(p, a.Leader, a.LeaderEpoch)
		return lost(wasLeader), true
	default:
		r.mu.Lock()
		wasLeader := rep.Role() == replica.Leader
		rep.Stop()
		r.mu.Unlock()
		m.fetchers.unfollow(p)
		m.logger.Warn("partition has no leader", "topic", r.topic, "partition", r.index, "isr", a.ISR)
		return lost(wasLeader), true
	}
}

func (m *Manager) becomeLeader(p Partition, a, cur replica.Assignment, now time.Time) Leadership {
	r := p.Replica()
	m.fetchers.unfollow(p)
	if err := r.log.AssignLeaderEpoch(a.LeaderEpoch); err != nil {
		m.logger.Error("recording the new leader epoch failed", "partition", r.topic, "index", r.index, "err", err)
	}
	leo := r.log.LogEndOffset()
	r.mu.Lock()
	rep := r.mu.rep
	wasLeader := rep.Role() == replica.Leader && cur.LeaderEpoch == a.LeaderEpoch
	rep.BecomeLeader(a, leo, rep.HighWatermark(), now)
	settled := rep.TakeSettled()
	r.mu.Unlock()
	if m.isrChanged != nil && settled != 0 {
		m.isrChanged(max(-settled, 0), max(settled, 0))
	}
	if wasLeader {
		return Kept
	}
	m.logger.Info("leading partition", "topic", r.topic, "partition", r.index, "leader_epoch", a.LeaderEpoch, "isr", a.ISR, "log_end_offset", leo)
	return Gained
}

func lost(wasLeader bool) Leadership {
	if wasLeader {
		return Lost
	}
	return Kept
}

// Stop ends the partition's replication here (it has no leader, moved
// away or was deleted): no fetcher, no role. It reports whether this
// broker led it.
func (m *Manager) Stop(p Partition) (wasLeader bool) { return m.stop(p) }

func (m *Manager) stop(p Partition) bool {
	m.fetchers.unfollow(p)
	r := p.Replica()
	r.mu.Lock()
	defer r.mu.Unlock()
	wasLeader := r.mu.rep.Role() == replica.Leader
	r.mu.rep.Stop()
	return wasLeader
}

// fetchTimeouts fills in Kafka's defaults for a zero fetch wait (500 ms)
// or socket timeout (30 s) and keeps the socket timeout at least the wait,
// as Kafka's config requires.
func fetchTimeouts(wait, socket time.Duration) (time.Duration, time.Duration) {
	if wait <= 0 {
		wait = defaultReplicaFetchMaxWait
	}
	if socket <= 0 {
		socket = defaultReplicaSocketTimeout
	}
	return wait, max(socket, wait)
}
