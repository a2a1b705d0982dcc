package quorum

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Voter is one member of controller.quorum.voters: a broker id and its
// raft address (the host:port of its Kafka listener).
type Voter struct {
	ID   int32
	Addr string
}

// Config configures a Node. Zero durations and counts take the defaults
// below.
type Config struct {
	NodeID int32
	// Dir holds raft.db (log and stable store, bbolt) and snapshots/.
	Dir string
	// Voters is the fixed voter set. A node in it bootstraps the cluster
	// with exactly this set on first start; any other node starts empty
	// and waits for the leader to add it as a non-voter.
	Voters []Voter
	// Stream carries raft traffic; its Addr is this node's raft address.
	Stream raft.StreamLayer
	Logger *slog.Logger

	// The raft timers; KafkaTimeouts derives them from Kafka's keys. Zero
	// ones default to Kafka's (election 1 s, fetch 2 s): heartbeat 2 s,
	// election 2 s, lease 2 s.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration // default 20ms
	// SnapshotInterval is how often raft checks whether SnapshotThreshold
	// entries accumulated since the last snapshot (default 10s, threshold
	// 1024). TrailingLogs entries stay in the log after compaction so a
	// briefly lagging follower needs no snapshot (default 256).
	SnapshotInterval  time.Duration
	SnapshotThreshold uint64
	TrailingLogs      uint64
}

// KafkaTimeouts sets the raft timers from Kafka's
// controller.quorum.election.timeout.ms and fetch.timeout.ms: a follower
// that hears nothing from the leader for fetch starts an election (raft's
// HeartbeatTimeout); a candidate waits election for votes, but at least
// fetch (raft's ElectionTimeout may not be shorter than its
// HeartbeatTimeout, while Kafka's defaults are 1 s and 2 s); a leader that
// hears from no majority for fetch steps down (LeaderLeaseTimeout). Kafka's
// leader resigns after 1.5 x fetch without fetches from a majority (its
// check-quorum timeout); raft allows no lease longer than HeartbeatTimeout,
// so fetch is the nearest. Half of fetch (1 s) lost the leader five times
// in two minutes at load 45 on 2 cores with 20,000 replicas per broker. A
// deposed leader that has not yet noticed cannot commit: raft needs the
// majority it lost.
func (c *Config) KafkaTimeouts(election, fetch time.Duration) {
	c.HeartbeatTimeout = fetch
	c.ElectionTimeout = max(election, fetch)
	c.LeaderLeaseTimeout = fetch
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	var kafka Config
	kafka.KafkaTimeouts(time.Second, 2*time.Second)
	def(&c.HeartbeatTimeout, kafka.HeartbeatTimeout)
	def(&c.ElectionTimeout, kafka.ElectionTimeout)
	def(&c.LeaderLeaseTimeout, kafka.LeaderLeaseTimeout)
	def(&c.CommitTimeout, 20*time.Millisecond)
	def(&c.SnapshotInterval, 10*time.Second)
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = 1024
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = 256
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// ErrNotLeader is Propose's error on a node that is not the raft leader;
// it wraps NOT_CONTROLLER.
var ErrNotLeader = fmt.Errorf("not the metadata quorum leader: %w", kerr.NotController)

// ErrLeadershipLost is Propose's error when leadership was lost while the
// command was in flight: it may or may not have been committed. Commands
// are written so that retrying against the new leader is safe.
var ErrLeadershipLost = raft.ErrLeadershipLost

// Node is one broker's member of the metadata quorum: a raft node over
// the FSM, plus (while it leads) the membership loop that adds every
// registered broker that is not a voter as a non-voter, and removes the
// non-voters that were unregistered.
type Node struct {
	cfg   Config
	log   *slog.Logger
	fsm   *FSM
	raft  *raft.Raft
	trans *raft.NetworkTransport
	store *raftboltdb.BoltStore
	logs  raft.LogStore // what raft reads: store behind the log cache

	stop      chan struct{}
	wg        sync.WaitGroup // the membership loop
	closeOnce sync.Once
	closeErr  error
}

// Open starts a node. When NodeID is a voter and Dir holds no raft state,
// it bootstraps the cluster with the full voter set (every voter does the
// same; raft tolerates identical bootstraps).
func Open(cfg Config) (*Node, error) {
	cfg.setDefaults()
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating quorum dir %s: %w", cfg.Dir, err)
	}
	n := &Node{cfg: cfg, log: cfg.Logger.With("node", cfg.NodeID), fsm: NewFSM(), stop: make(chan struct{})}
	if err := n.open(); err != nil {
		n.closeStores()
		return nil, err
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.membershipLoop()
	}()
	return n, nil
}

// raftLogCache is how many of the newest metadata log entries raft keeps
// decoded (raft.LogCache): a replication batch (MaxAppendEntries, 64) and
// the entry before it.
const raftLogCache = 128

func (n *Node) open() error {
	hl := newHCLog(n.log, "raft")
	store, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(n.cfg.Dir, "raft.db")})
	if err != nil {
		return fmt.Errorf("opening raft log %s: %w", n.cfg.Dir, err)
	}
	n.store = store
	snaps, err := raft.NewFileSnapshotStoreWithLogger(n.cfg.Dir, 2, hl)
	if err != nil {
		return fmt.Errorf("opening raft snapshots in %s: %w", n.cfg.Dir, err)
	}
	n.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: n.cfg.Stream, MaxPool: 3, Timeout: 2 * time.Second, Logger: hl,
	})
	// The last entries stay decoded in memory. Between appends raft
	// re-sends the commit index to each follower every CommitTimeout,
	// reading the follower's previous entry each time: without a cache
	// that decoded the last entry from bolt 20-40 times a second per
	// follower, and with a 1 MB AlterPartitions last (20,000 partitions'
	// ISR expansions) it made 800 MB of garbage in 35 s.
	logs, err := raft.NewLogCache(raftLogCache, store)
	if err != nil {
		return err
	}
	n.logs = logs
	rc := n.raftConfig()
	existing, err := raft.HasExistingState(logs, store, snaps)
	if err != nil {
		return fmt.Errorf("checking raft state in %s: %w", n.cfg.Dir, err)
	}
	if !existing && n.isVoter() {
		if err := raft.BootstrapCluster(rc, logs, store, snaps, n.trans, n.voterConfiguration()); err != nil {
			return fmt.Errorf("bootstrapping the metadata quorum: %w", err)
		}
	}
	r, err := raft.NewRaft(rc, n.fsm, logs, store, snaps, n.trans)
	if err != nil {
		return fmt.Errorf("starting raft: %w", err)
	}
	n.raft = r
	return nil
}

func (n *Node) raftConfig() *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = serverID(n.cfg.NodeID)
	rc.HeartbeatTimeout = n.cfg.HeartbeatTimeout
	rc.ElectionTimeout = n.cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = n.cfg.LeaderLeaseTimeout
	rc.CommitTimeout = n.cfg.CommitTimeout
	rc.SnapshotInterval = n.cfg.SnapshotInterval
	rc.SnapshotThreshold = n.cfg.SnapshotThreshold
	rc.TrailingLogs = n.cfg.TrailingLogs
	rc.Logger = newHCLog(n.log, "raft")
	return rc
}

func (n *Node) isVoter() bool { return n.isConfiguredVoter(n.cfg.NodeID) }

func (n *Node) voterConfiguration() raft.Configuration {
	var c raft.Configuration
	for _, v := range n.cfg.Voters {
		c.Servers = append(c.Servers, raft.Server{Suffrage: raft.Voter, ID: serverID(v.ID), Address: raft.ServerAddress(v.Addr)})
	}
	return c
}

func serverID(id int32) raft.ServerID { return raft.ServerID(strconv.Itoa(int(id))) }

// Image returns the local node's current image.
func (n *Node) Image() *Image { return n.fsm.Image() }

// Watch returns the current image and a channel closed when a newer one
// is published (see FSM.Watch).
func (n *Node) Watch() (*Image, <-chan struct{}) { return n.fsm.Watch() }

// IsLeader reports whether this node is the raft leader (the controller).
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// LeaderID returns the current leader's node id, false when unknown.
func (n *Node) LeaderID() (int32, bool) {
	_, id := n.raft.LeaderWithID()
	v, err := strconv.ParseInt(string(id), 10, 32)
	if id == "" || err != nil {
		return -1, false
	}
	return int32(v), true
}

// Term is the current raft term: a leader that lost and regained
// leadership is in a new term.
func (n *Node) Term() uint64 { return n.raft.CurrentTerm() }

// AppliedIndex is the raft index of the last entry applied locally; a
// broker has caught up when it reaches the leader's commit index.
func (n *Node) AppliedIndex() uint64 { return n.raft.AppliedIndex() }

// CommitIndex is the highest index this node knows to be committed.
func (n *Node) CommitIndex() uint64 { return n.raft.CommitIndex() }

// WaitForLeader polls until some node leads (returning its id) or ctx ends.
func (n *Node) WaitForLeader(ctx context.Context) (int32, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if id, ok := n.LeaderID(); ok {
			return id, nil
		}
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("waiting for a metadata quorum leader: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// Propose commits c and returns its result once applied locally (so the
// leader's Image already includes it). Only the leader proposes: others
// get ErrNotLeader. The command's own failure is returned as the error
// (wrapping a kerr code); raft failures are wrapped as they are
// (ErrLeadershipLost: outcome unknown). ctx's deadline bounds the wait to
// enqueue the command; once enqueued, the wait ends when it is applied or
// leadership is lost.
func (n *Node) Propose(ctx context.Context, c Command) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !n.IsLeader() {
		return nil, ErrNotLeader
	}
	data, err := Encode(c)
	if err != nil {
		return nil, err
	}
	var timeout time.Duration
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	f := n.raft.Apply(data, timeout)
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) {
			return nil, ErrNotLeader
		}
		return nil, fmt.Errorf("proposing %s: %w", c.Op(), err)
	}
	r, _ := f.Response().(Result)
	return r.Value, r.Err
}

// Entries decodes the commands in this node's log from index from to
// its last entry, in order (raft's own entries skipped; entries already
// compacted into a snapshot are not there): what was written, for
// inspection and tests.
func (n *Node) Entries(from uint64) ([]Command, error) {
	last, err := n.store.LastIndex()
	if err != nil {
		return nil, fmt.Errorf("reading the metadata log: %w", err)
	}
	var out []Command
	for i := max(from, 1); i <= last; i++ {
		var e raft.Log
		if err := n.store.GetLog(i, &e); errors.Is(err, raft.ErrLogNotFound) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("reading metadata log entry %d: %w", i, err)
		}
		if e.Type != raft.LogCommand {
			continue
		}
		c, err := Decode(e.Data)
		if err != nil {
			return nil, fmt.Errorf("metadata log entry %d: %w", i, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// Barrier returns once every entry before it is applied to this node's
// image (leader only). A new leader applies the entries its predecessor
// committed only after its own first entry commits, so until a barrier
// returns its image can lack them. ctx's deadline bounds the wait to
// enqueue, as in Propose.
func (n *Node) Barrier(ctx context.Context) error {
	var timeout time.Duration
	if dl, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(dl), time.Millisecond)
	}
	if err := n.raft.Barrier(timeout).Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) {
			return ErrNotLeader
		}
		return fmt.Errorf("waiting for the metadata log to be applied: %w", err)
	}
	return nil
}

// AddNonvoter adds broker id at addr to the raft configuration as a
// non-voter (leader only). The membership loop does this by itself for
// every registered broker, and removes a non-voter that is not
// registered; this is for operators and tests.
func (n *Node) AddNonvoter(id int32, addr string) error {
	if err := n.raft.AddNonvoter(serverID(id), raft.ServerAddress(addr), 0, 5*time.Second).Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) {
			return ErrNotLeader
		}
		return fmt.Errorf("adding non-voter %d at %s: %w", id, addr, err)
	}
	return nil
}

// RemoveServer removes broker id from the raft configuration (leader
// only). The membership loop does this by itself for non-voters once they
// are unregistered; this is for operators and tests.
func (n *Node) RemoveServer(id int32) error {
	if err := n.raft.RemoveServer(serverID(id), 0, 5*time.Second).Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) {
			return ErrNotLeader
		}
		return fmt.Errorf("removing server %d: %w", id, err)
	}
	return nil
}

// Snapshot takes a snapshot now and compacts the log (down to
// TrailingLogs entries).
func (n *Node) Snapshot() error {
	if err := n.raft.Snapshot().Error(); err != nil {
		return fmt.Errorf("metadata snapshot: %w", err)
	}
	return nil
}

// Close shuts raft down and waits for the node's goroutines; it does not
// remove the node from the quorum. Later calls return the first's result.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		close(n.stop)
		err := n.raft.Shutdown().Error()
		n.wg.Wait()
		if cerr := n.closeStores(); err == nil {
			err = cerr
		}
		n.closeErr = err
	})
	return n.closeErr
}

func (n *Node) closeStores() error {
	var err error
	if n.trans != nil {
		err = n.trans.Close()
	}
	if n.store != nil {
		if cerr := n.store.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// membershipLoop runs for the node's life: whenever this node leads and
// the image or the leadership changes, registered brokers missing from
// the raft configuration are added as non-voters (or get their new
// address), and non-voters no longer registered (UnregisterBroker) are
// removed, so the leader stops replicating to a broker gone for good.
// Voters are never removed: the voter set is controller.quorum.voters,
// fixed. Failures are retried after a second.
func (n *Node) membershipLoop() {
	leaderCh := n.raft.LeaderCh()
	for {
		img, changed := n.fsm.Watch()
		var retry <-chan time.Time
		if n.IsLeader() {
			if err := n.reconcileMembers(img); err != nil {
				n.log.Warn("reconciling quorum members", "err", err)
				retry = time.After(time.Second)
			}
		}
		select {
		case <-n.stop:
			return
		case <-changed:
		case <-leaderCh:
		case <-retry:
		}
	}
}

func (n *Node) reconcileMembers(img *Image) error {
	servers, err := n.servers()
	if err != nil {
		return err
	}
	for _, b := range img.AllBrokers() {
		s, ok := servers[serverID(b.ID)]
		if b.RaftAddr == "" || ok && (s.Suffrage != raft.Nonvoter || s.Address == raft.ServerAddress(b.RaftAddr)) {
			continue
		}
		n.log.Info("adding non-voter", "broker", b.ID, "addr", b.RaftAddr)
		if err := n.AddNonvoter(b.ID, b.RaftAddr); err != nil {
			return err
		}
	}
	return n.removeUnregistered(img, servers)
}

// removeUnregistered removes the non-voters img does not register. A new
// leader's image can lag its log (raft applies committed entries after the
// election), so a broker registered moments ago could look unregistered:
// before removing anything the leader waits on a barrier, which returns
// once every earlier entry is applied, and decides again on that image.
func (n *Node) removeUnregistered(img *Image, servers map[raft.ServerID]raft.Server) error {
	if len(n.unregisteredNonvoters(img, servers)) == 0 {
		return nil
	}
	if err := n.raft.Barrier(5 * time.Second).Error(); err != nil {
		return fmt.Errorf("waiting for the metadata log to be applied: %w", err)
	}
	for _, id := range n.unregisteredNonvoters(n.fsm.Image(), servers) {
		n.log.Info("removing non-voter: the broker was unregistered", "broker", id)
		if err := n.RemoveServer(id); err != nil {
			return err
		}
	}
	return nil
}

// unregisteredNonvoters are the non-voters in servers that img does not
// register and that are not configured voters, sorted.
func (n *Node) unregisteredNonvoters(img *Image, servers map[raft.ServerID]raft.Server) []int32 {
	var out []int32
	for sid, s := range servers {
		id, err := strconv.ParseInt(string(sid), 10, 32)
		if err != nil || s.Suffrage != raft.Nonvoter || n.isConfiguredVoter(int32(id)) {
			continue
		}
		if _, ok := img.Broker(int32(id)); !ok {
			out = append(out, int32(id))
		}
	}
	slices.Sort(out)
	return out
}

func (n *Node) isConfiguredVoter(id int32) bool {
	for _, v := range n.cfg.Voters {
		if v.ID == id {
			return true
		}
	}
	return false
}

// servers returns the current raft configuration by server id.
func (n *Node) servers() (map[raft.ServerID]raft.Server, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	out := map[raft.ServerID]raft.Server{}
	for _, s := range f.Configuration().Servers {
		out[s.ID] = s
	}
	return out, nil
}

// Members returns the raft configuration as this node knows it: the
// voters' and the non-voters' broker ids, each sorted.
func (n *Node) Members() (voters, nonvoters []int32, err error) {
	servers, err := n.servers()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the raft configuration: %w", err)
	}
	for sid, s := range servers {
		id, err := strconv.ParseInt(string(sid), 10, 32)
		if err != nil {
			continue
		}
		if s.Suffrage == raft.Voter {
			voters = append(voters, int32(id))
		} else {
			nonvoters = append(nonvoters, int32(id))
		}
	}
	slices.Sort(voters)
	slices.Sort(nonvoters)
	return voters, nonvoters, nil
}
