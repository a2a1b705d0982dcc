package lifecycle

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/weirhq/weir/broker/quorum"
)

// The controller is the raft leader among the brokers (KRaft's combined
// mode): it registers brokers, fences those whose heartbeats stop, commits
// ISR changes and reassignments, and answers the admin requests that
// change metadata. Every broker runs this code; it acts only while its
// node leads, and a new leader starts with a full session of grace for
// every broker, as KRaft does.

const controllerTick = 100 * time.Millisecond

// ProposeTimeout bounds one proposal to the quorum (and a request
// forwarded to the controller, which makes one).
const ProposeTimeout = 10 * time.Second

// Timing are the KRaft intervals, read once from the (read-only) configs.
type Timing struct {
	Session   time.Duration // broker.session.timeout.ms
	Heartbeat time.Duration // broker.heartbeat.interval.ms
	Imbalance time.Duration // leader.imbalance.check.interval.seconds
}

// TimingOf reads the intervals from the broker's configs; a value that is
// not a positive number is a second.
func TimingOf(cfg interface {
	Value(string) (string, bool)
}) Timing {
	get := func(key string, unit time.Duration) time.Duration {
		v, _ := cfg.Value(key) // the config table supplies the default
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return time.Second
		}
		return time.Duration(n) * unit
	}
	return Timing{
		Session:   get("broker.session.timeout.ms", time.Millisecond),
		Heartbeat: get("broker.heartbeat.interval.ms", time.Millisecond),
		Imbalance: get("leader.imbalance.check.interval.seconds", time.Second),
	}
}

// ControllerOptions are the controller's dependencies.
type ControllerOptions struct {
	NodeID        int32
	ClusterID     string // this broker's: a new metadata log is initialised with it
	Timing        Timing
	AutoRebalance bool // auto.leader.rebalance.enable
	Quorum        Quorum
	Logger        *slog.Logger
	Now           func() time.Time // the broker's clock
	// BootstrapFeatures are the feature levels a new metadata log starts
	// at (InitCluster); nil: quorum.BootstrapFeatures.
	BootstrapFeatures map[string]int16
}

// Controller is the controller's side: the leader-only state (heartbeats
// seen) and the loop that acts on it.
type Controller struct {
	ctx context.Context
	o   ControllerOptions
	mu  struct {
		sync.Mutex
		tracker *quorum.HeartbeatTracker // nil while not leading
		term    uint64                   // the raft term tracker was made in
	}
	lastRebalance time.Time // owned by the Run goroutine
}

// NewController returns the controller; Run runs its loop until ctx is
// done, and proposals made through it are cancelled then.
func NewController(ctx context.Context, o ControllerOptions) *Controller {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.BootstrapFeatures == nil {
		o.BootstrapFeatures = quorum.BootstrapFeatures
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Controller{ctx: ctx, o: o}
}

// Beat records a heartbeat; false when this broker is not the active
// controller (it does not lead, or has not taken over in this term).
func (c *Controller) Beat(id int32, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.activeLocked() {
		return false
	}
	c.mu.tracker.Beat(id, now)
	return true
}

// Forget stops tracking the heartbeats of an unregistered broker.
func (c *Controller) Forget(id int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.tracker != nil {
		c.mu.tracker.Forget(id)
	}
}

// Run is the controller loop: every tick, while leading, fence brokers
// whose session expired, finish reassignments whose targets are in sync,
// and now and then move leadership back to preferred replicas.
func (c *Controller) Run() {
	tick := time.NewTicker(controllerTick)
	defer tick.Stop()
	c.lastRebalance = c.o.Now()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
		}
		c.step(c.o.Now())
	}
}

// step is one tick of the loop.
func (c *Controller) step(now time.Time) {
	if !c.o.Quorum.IsLeader() {
		c.mu.Lock()
		c.mu.tracker = nil
		c.mu.Unlock()
		return
	}
	if !c.active() && !c.takeOver() {
		return
	}
	img := c.o.Quorum.Image()
	if img.ClusterID != c.o.ClusterID {
		c.initCluster(img)
		return
	}
	for _, cmd := range c.fences(img, now) {
		c.o.Logger.Warn("fencing broker: its session expired", "broker", cmd.(quorum.FenceBroker).ID)
		c.Propose(cmd)
	}
	c.finishReassignments(img)
	if c.o.AutoRebalance && now.Sub(c.lastRebalance) >= c.o.Timing.Imbalance {
		c.lastRebalance = now
		c.rebalanceLeaders(img)
	}
}

// initCluster records the cluster id in a new metadata log, with the
// feature levels a new cluster starts at.
func (c *Controller) initCluster(img *quorum.Image) {
	if img.ClusterID == "" {
		c.Propose(quorum.InitCluster{ClusterID: c.o.ClusterID, Features: c.o.BootstrapFeatures})
	} else if img.ClusterID != c.o.ClusterID {
		c.o.Logger.Error("the metadata log belongs to another cluster", "metadata_cluster_id", img.ClusterID, "cluster.id", c.o.ClusterID)
	}
}

// active reports whether this controller has taken over in the current
// term: it tracks heartbeats (and answers them) only from then. A leader
// that lost leadership and won it back between two ticks takes over
// again, since another leader may have committed entries in between.
func (c *Controller) active() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.activeLocked()
}

func (c *Controller) activeLocked() bool {
	return c.mu.tracker != nil && c.mu.term == c.o.Quorum.Term()
}

// takeOver makes a new leader the active controller once its image holds
// every entry its predecessor committed (a raft barrier), as Kafka's
// controller claims leadership only after replaying the log to its
// epoch's start. Until then heartbeats get NOT_CONTROLLER: answered from
// an image that lacks a broker's latest registration or unfencing, they
// would send a healthy broker to register again (STALE_BROKER_EPOCH) or
// let a stopping one go before its leaderships moved (it looked fenced).
func (c *Controller) takeOver() bool {
	term := c.o.Quorum.Term() // before the barrier: a later term takes over again
	ctx, cancel := context.WithTimeout(c.ctx, ProposeTimeout)
	defer cancel()
	if err := c.o.Quorum.Barrier(ctx); err != nil {
		c.o.Logger.Debug("taking over as the controller: the metadata log is not applied yet", "err", err)
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.tracker, c.mu.term = quorum.NewHeartbeatTracker(), term
	c.o.Logger.Info("this broker is now the active controller", "node.id", c.o.NodeID, "term", term)
	return true
}

// fences are the FenceBroker commands for brokers whose session expired.
func (c *Controller) fences(img *quorum.Image, now time.Time) []quorum.Command {
	c.mu.Lock()
	defer c.mu.Unlock()
	session := c.o.Timing.Session
	// A new controller has heard from nobody. Live brokers find it and
	// heartbeat within a heartbeat interval plus one bounded heartbeat
	// attempt at the old controller (3/8 of a session), so each gets a
	// takeover grace of three intervals (never more than a session)
	// rather than a whole session: a broker that died with the old
	// controller is fenced that much sooner. A broker the tracker has
	// not heard of gets the same grace from when the image first shows
	// it (one registered through this controller is tracked by its
	// handler, but nothing else must be left untracked, never fenced).
	grace := min(3*c.o.Timing.Heartbeat, session)
	for _, br := range img.AllBrokers() {
		c.mu.tracker.Admit(br.ID, now.Add(grace-session))
	}
	return quorum.FenceExpired(img, c.mu.tracker, now, session)
}

// Propose commits cmd through the quorum (this broker must lead it) and
// returns its result.
func (c *Controller) Propose(cmd quorum.Command) (any, error) {
	ctx, cancel := context.WithTimeout(c.ctx, ProposeTimeout)
	defer cancel()
	res, err := c.o.Quorum.Propose(ctx, cmd)
	if err != nil && !errors.Is(err, context.Canceled) {
		c.o.Logger.Debug("controller proposal failed", "op", cmd.Op(), "err", err)
	}
	return res, err
}

// finishReassignments completes reassignments whose target replicas are
// all in sync (those that only remove replicas are never completed by an
// ISR change).
func (c *Controller) finishReassignments(img *quorum.Image) {
	for _, name := range img.TopicNames() {
		t, _ := img.Topic(name)
		for i, p := range t.Partitions {
			if !p.Reassigning() {
				continue
			}
			target := p.TargetReplicas()
			if allIn(target, p.ISR) {
				c.Propose(quorum.CompleteReassignment{Topic: name, Partition: int32(i)})
			}
		}
	}
}

// rebalanceLeaders runs a preferred election for partitions led by other
// than their preferred replica while it is live and in sync
// (auto.leader.rebalance.enable).
func (c *Controller) rebalanceLeaders(img *quorum.Image) {
	var tps []quorum.TopicPartition
	for _, name := range img.TopicNames() {
		t, _ := img.Topic(name)
		for i, p := range t.Partitions {
			if len(p.Replicas) == 0 {
				continue
			}
			pref := p.Replicas[0]
			if p.Leader != pref && img.IsLive(pref) && slices.Contains(p.ISR, pref) {
				tps = append(tps, quorum.TopicPartition{Topic: name, Partition: int32(i)})
			}
		}
	}
	if len(tps) > 0 {
		c.o.Logger.Info("moving leadership back to preferred replicas", "partitions", len(tps))
		c.Propose(quorum.ElectLeaders{Type: quorum.ElectPreferred, Partitions: tps})
	}
}

func allIn(xs, set []int32) bool {
	for _, x := range xs {
		if !slices.Contains(set, x) {
			return false
		}
	}
	return true
}
