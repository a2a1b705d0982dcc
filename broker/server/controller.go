package server

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/weirhq/weir/broker/quorum"
)

// The controller is the raft leader among the brokers (KRaft's combined
// mode): it registers brokers, fences those whose heartbeats stop, commits
// ISR changes and reassignments, and answers the admin requests that
// change metadata. Every broker runs this code; it acts only while its
// node leads, and a new leader starts with a full session of grace for
// every broker, as KRaft does.

const (
	controllerTick = 100 * time.Millisecond
	proposeTimeout = 10 * time.Second
)

// timing are the KRaft intervals, read once from the (read-only) configs.
type timing struct {
	session   time.Duration // broker.session.timeout.ms
	heartbeat time.Duration // broker.heartbeat.interval.ms
	imbalance time.Duration // leader.imbalance.check.interval.seconds
}

func timingOf(cfg interface {
	Value(string) (string, bool)
}) timing {
	get := func(key string, unit time.Duration) time.Duration {
		v, _ := cfg.Value(key) // the config table supplies the default
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return time.Second
		}
		return time.Duration(n) * unit
	}
	return timing{
		session:   get("broker.session.timeout.ms", time.Millisecond),
		heartbeat: get("broker.heartbeat.interval.ms", time.Millisecond),
		imbalance: get("leader.imbalance.check.interval.seconds", time.Second),
	}
}

// controller is the leader-only state: heartbeats seen.
type controller struct {
	b  *Broker
	mu struct {
		sync.Mutex
		tracker *quorum.HeartbeatTracker // nil while not leading
	}
}

func newController(b *Broker) *controller { return &controller{b: b} }

// beat records a heartbeat; false when this broker does not lead.
func (c *controller) beat(id int32, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.tracker == nil {
		return false
	}
	c.mu.tracker.Beat(id, now)
	return true
}

// forget stops tracking the heartbeats of an unregistered broker.
func (c *controller) forget(id int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.tracker != nil {
		c.mu.tracker.Forget(id)
	}
}

// run is the controller loop: every tick, while leading, fence brokers
// whose session expired, finish reassignments whose targets are in sync,
// and now and then move leadership back to preferred replicas.
func (c *controller) run() {
	b := c.b
	tick := time.NewTicker(controllerTick)
	defer tick.Stop()
	lastRebalance := b.now()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-tick.C:
		}
		if !b.node.IsLeader() {
			c.mu.Lock()
			c.mu.tracker = nil
			c.mu.Unlock()
			continue
		}
		now := b.now()
		img := b.node.Image()
		if img.ClusterID != b.cluster {
			b.initCluster(img)
			continue
		}
		c.mu.Lock()
		session := b.timing.session
		if c.mu.tracker == nil {
			// A new controller has heard from nobody. Live brokers find it
			// and heartbeat within a heartbeat interval plus one bounded
			// heartbeat attempt at the old controller (3/8 of a session),
			// so each gets a takeover grace of three intervals (never
			// more than a session) rather than a whole session: a broker
			// that died with the old controller is fenced that much sooner.
			grace := min(3*b.timing.heartbeat, session)
			c.mu.tracker = quorum.NewHeartbeatTracker()
			for _, br := range img.AllBrokers() {
				c.mu.tracker.Beat(br.ID, now.Add(grace-session))
			}
			b.logger.Info("this broker is now the active controller", "node.id", b.cfg.NodeID)
		}
		fences := quorum.FenceExpired(img, c.mu.tracker, now, session)
		c.mu.Unlock()
		for _, cmd := range fences {
			b.logger.Warn("fencing broker: its session expired", "broker", cmd.(quorum.FenceBroker).ID)
			c.propose(cmd)
		}
		c.finishReassignments(img)
		if b.cfg.AutoLeaderRebalance && now.Sub(lastRebalance) >= b.timing.imbalance {
			lastRebalance = now
			c.rebalanceLeaders(img)
		}
	}
}

func (c *controller) propose(cmd quorum.Command) (any, error) {
	ctx, cancel := context.WithTimeout(c.b.ctx, proposeTimeout)
	defer cancel()
	res, err := c.b.node.Propose(ctx, cmd)
	if err != nil && !errors.Is(err, context.Canceled) {
		c.b.logger.Debug("controller proposal failed", "op", cmd.Op(), "err", err)
	}
	return res, err
}

// finishReassignments completes reassignments whose target replicas are
// all in sync (those that only remove replicas are never completed by an
// ISR change).
func (c *controller) finishReassignments(img *quorum.Image) {
	for _, name := range img.TopicNames() {
		t, _ := img.Topic(name)
		for i, p := range t.Partitions {
			if !p.Reassigning() {
				continue
			}
			target := p.TargetReplicas()
			if allIn(target, p.ISR) {
				c.propose(quorum.CompleteReassignment{Topic: name, Partition: int32(i)})
			}
		}
	}
}

// rebalanceLeaders runs a preferred election for partitions led by other
// than their preferred replica while it is live and in sync
// (auto.leader.rebalance.enable).
func (c *controller) rebalanceLeaders(img *quorum.Image) {
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
		c.b.logger.Info("moving leadership back to preferred replicas", "partitions", len(tps))
		c.propose(quorum.ElectLeaders{Type: quorum.ElectPreferred, Partitions: tps})
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

// errCode maps a proposal error to a Kafka error code: NOT_CONTROLLER when
// leadership moved, the command's own kerr code, else REQUEST_TIMED_OUT.
func errCode(err error) int16 {
	var ke *kerr.Error
	switch {
	case err == nil:
		return 0
	case errors.Is(err, quorum.ErrNotLeader):
		return kerr.NotController.Code
	case errors.As(err, &ke):
		return ke.Code
	}
	return kerr.RequestTimedOut.Code
}
