package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/protocol"
	"github.com/weirhq/weir/broker/replica"
)

// The broker's side of the KRaft lifecycle: register with the active
// controller, heartbeat it, send it the ISR changes this broker's
// partition leaders want, and ask it for a controlled shutdown when
// stopping. One goroutine owns the controller connection.

const lifecycleTick = 100 * time.Millisecond

type lifecycle struct {
	b           *Broker
	incarnation [16]byte

	// Heartbeats and registration go over beat, ISR changes over isr, each
	// owned by its own goroutine: a slow ISR change (a stopped controller)
	// must never hold back the heartbeats that keep this broker unfenced.
	beat, isr *ctrlConn

	mu struct {
		sync.Mutex
		epoch int64 // broker epoch from registration; -1 until registered
	}
	lastBeat time.Time

	// stopReq asks the loop for a controlled shutdown; the reply channel
	// is closed when it is done (or gave up).
	stopReq chan chan struct{}
}

func newLifecycle(b *Broker) *lifecycle {
	l := &lifecycle{b: b, stopReq: make(chan chan struct{})}
	l.beat, l.isr = &ctrlConn{b: b, to: -1}, &ctrlConn{b: b, to: -1}
	rand.Read(l.incarnation[:])
	l.mu.epoch = -1
	return l
}

func (l *lifecycle) brokerEpoch() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.epoch
}

func (l *lifecycle) setEpoch(e int64) {
	l.mu.Lock()
	l.mu.epoch = e
	l.mu.Unlock()
}

func (l *lifecycle) run() {
	tick := time.NewTicker(lifecycleTick)
	defer tick.Stop()
	defer l.beat.close()
	l.b.goroutine(l.isrLoop)
	for {
		select {
		case <-l.b.ctx.Done():
			return
		case reply := <-l.stopReq:
			l.controlledShutdown(5 * time.Second)
			close(reply)
			return
		case <-tick.C:
		}
		if err := l.step(); err != nil {
			l.b.logger.Debug("talking to the controller failed", "err", err)
			l.beat.close()
		}
	}
}

// isrLoop sends the ISR changes led partitions want, on its own
// connection.
func (l *lifecycle) isrLoop() {
	tick := time.NewTicker(lifecycleTick)
	defer tick.Stop()
	defer l.isr.close()
	for {
		select {
		case <-l.b.ctx.Done():
			return
		case <-tick.C:
		}
		if l.brokerEpoch() < 0 {
			continue
		}
		if err := l.sendISRChanges(); err != nil {
			l.b.logger.Debug("sending ISR changes failed", "err", err)
			l.isr.close()
		}
	}
}

// step registers if needed and heartbeats when due.
func (l *lifecycle) step() error {
	if _, err := l.beat.get(); err != nil {
		return err
	}
	if l.brokerEpoch() < 0 {
		return l.register()
	}
	if time.Since(l.lastBeat) >= l.b.timing.heartbeat || l.b.fenced() {
		return l.heartbeat(false)
	}
	return nil
}

// heartbeatTimeout bounds one heartbeat exchange: well inside a session,
// so a stopped controller is given up on in time to reach the next one.
func (l *lifecycle) heartbeatTimeout() time.Duration {
	return l.b.timing.session * 3 / 8
}

// ctrlConn is a connection to the active controller, reopened when the
// controller changes. It is owned by one goroutine.
type ctrlConn struct {
	b     *Broker
	conn  *protocol.Peer
	to    int32
	probe int // the voter to try next while no leader is known
}

func (c *ctrlConn) get() (*protocol.Peer, error) {
	b := c.b
	ctrl, ok := b.node.LeaderID()
	if !ok {
		// A broker that is not a voter learns the leader only once it is
		// in the quorum, which needs its registration: until then, try
		// the voters in turn (the others answer NOT_CONTROLLER).
		if b.isVoter(b.cfg.NodeID) || len(b.voters) == 0 {
			return nil, errors.New("no active controller")
		}
		ids := make([]int32, 0, len(b.voters))
		for id := range b.voters {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		c.probe = (c.probe + 1) % len(ids)
		ctrl = ids[c.probe]
	}
	if c.conn != nil && c.to == ctrl {
		return c.conn, nil
	}
	c.close()
	addr, ok := b.peerAddr(ctrl)
	if !ok {
		return nil, fmt.Errorf("no address for controller %d", ctrl)
	}
	ctx, cancel := context.WithTimeout(b.ctx, time.Second)
	defer cancel()
	pc, err := protocol.DialPeer(ctx, addr, "weir-broker-"+itoa(int(b.cfg.NodeID)))
	if err != nil {
		return nil, err
	}
	c.conn, c.to = pc, ctrl
	return pc, nil
}

func (c *ctrlConn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.to = nil, -1
	}
}

func (l *lifecycle) register() error {
	b := l.b
	adv := b.advertised()
	req := kmsg.NewPtrBrokerRegistrationRequest()
	req.SetVersion(1)
	req.BrokerID, req.ClusterID, req.IncarnationID = b.cfg.NodeID, b.clusterID(), l.incarnation
	ln := kmsg.NewBrokerRegistrationRequestListener()
	ln.Name, ln.Host, ln.Port = adv.Name, adv.Host, uint16(adv.Port)
	req.Listeners = append(req.Listeners, ln)
	if b.cfg.BrokerRack != "" {
		req.Rack = strPtr(b.cfg.BrokerRack)
	}
	raw, err := l.beat.conn.Request(req, 3*time.Second)
	if err != nil {
		return err
	}
	resp := raw.(*kmsg.BrokerRegistrationResponse)
	if resp.ErrorCode != 0 {
		l.beat.close()
		return fmt.Errorf("registering: %w", kerr.ErrorForCode(resp.ErrorCode))
	}
	l.setEpoch(resp.BrokerEpoch)
	b.logger.Info("registered with the controller", "controller", l.beat.to, "broker_epoch", resp.BrokerEpoch)
	return l.heartbeat(false)
}

// heartbeat tells the controller this broker is alive and how far it has
// applied metadata; with shutdown it asks to be fenced before stopping.
// It returns whether the controller agreed to the shutdown.
func (l *lifecycle) heartbeat(shutdown bool) error {
	req := kmsg.NewPtrBrokerHeartbeatRequest()
	req.SetVersion(0)
	req.BrokerID, req.BrokerEpoch = l.b.cfg.NodeID, l.brokerEpoch()
	req.CurrentMetadataOffset = int64(l.b.node.Image().Version)
	req.WantShutdown = shutdown
	raw, err := l.beat.conn.Request(req, l.heartbeatTimeout())
	if err != nil {
		return err
	}
	resp := raw.(*kmsg.BrokerHeartbeatResponse)
	switch resp.ErrorCode {
	case 0:
		l.lastBeat = time.Now()
		if shutdown && !resp.ShouldShutdown {
			return errors.New("controller did not agree to the shutdown yet")
		}
		return nil
	case kerr.StaleBrokerEpoch.Code, kerr.BrokerIDNotRegistered.Code:
		l.setEpoch(-1) // register again
	case kerr.NotController.Code:
		l.beat.close() // find the controller again
	}
	return fmt.Errorf("heartbeat: %w", kerr.ErrorForCode(resp.ErrorCode))
}

// sendISRChanges asks the controller for the ISR changes led partitions
// want (a follower fell behind or caught up), one request for all.
func (l *lifecycle) sendISRChanges() error {
	b := l.b
	type change struct {
		p  *partition
		ch replica.ISRChange
	}
	var changes []change
	img := b.node.Image()
	for _, p := range b.allPartitions() {
		ch, ok := p.rep.NextISRChange(b.cfg.ReplicaLagTimeMax, img.IsLive)
		if ok {
			changes = append(changes, change{p, ch})
		}
	}
	if len(changes) == 0 {
		return nil
	}
	conn, err := l.isr.get()
	if err != nil {
		for _, c := range changes {
			c.p.rep.ISRChangeDone(nil, 0, 0)
		}
		return err
	}
	req := kmsg.NewPtrAlterPartitionRequest()
	req.SetVersion(1)
	req.BrokerID, req.BrokerEpoch = b.cfg.NodeID, l.brokerEpoch()
	idx := map[string]int{}
	for _, c := range changes {
		name := c.p.name()
		i, ok := idx[name]
		if !ok {
			i = len(req.Topics)
			idx[name] = i
			rt := kmsg.NewAlterPartitionRequestTopic()
			rt.Topic = name
			req.Topics = append(req.Topics, rt)
		}
		rp := kmsg.NewAlterPartitionRequestTopicPartition()
		rp.Partition, rp.LeaderEpoch, rp.PartitionEpoch, rp.NewISR = c.p.index, c.ch.LeaderEpoch, c.ch.PartitionEpoch, c.ch.ISR
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
		b.logger.Info("asking the controller to change an ISR", "topic", name, "partition", c.p.index, "isr", c.ch.ISR)
	}
	raw, err := conn.Request(req, 3*time.Second)
	if err != nil {
		for _, c := range changes {
			c.p.rep.ISRChangeDone(nil, 0, 0)
		}
		return err
	}
	resp := raw.(*kmsg.AlterPartitionResponse)
	done := map[*partition]bool{}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			p := b.lookup(rt.Topic, rp.Partition)
			if p == nil {
				continue
			}
			done[p] = true
			if rp.ErrorCode != 0 || resp.ErrorCode != 0 {
				p.rep.ISRChangeDone(nil, 0, 0)
				continue
			}
			p.rep.ISRChangeDone(rp.ISR, rp.LeaderEpoch, rp.PartitionEpoch)
		}
	}
	for _, c := range changes {
		if !done[c.p] {
			c.p.rep.ISRChangeDone(nil, 0, 0)
		}
	}
	return nil
}

// controlledShutdown asks the controller to fence this broker, moving its
// leaderships to other replicas before the broker stops, so producers and
// consumers fail over at once instead of after a session timeout.
func (l *lifecycle) controlledShutdown(timeout time.Duration) {
	if l.brokerEpoch() < 0 || len(l.b.node.Image().LiveBrokers()) <= 1 || !l.b.leadsAny() {
		return
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, ok := l.b.node.LeaderID(); !ok {
			break // no controller to ask (the quorum is down): just stop
		}
		if _, err := l.beat.get(); err == nil {
			if err = l.heartbeat(true); err == nil {
				l.b.logger.Info("controlled shutdown complete: leaderships moved")
				return
			}
		}
		l.beat.close()
		t := time.NewTimer(lifecycleTick)
		<-t.C
	}
	l.b.logger.Warn("controlled shutdown not acknowledged; stopping anyway (followers take over after broker.session.timeout.ms)")
}

// leadsAny reports whether this broker leads any partition.
func (b *Broker) leadsAny() bool {
	for _, p := range b.allPartitions() {
		if p.isLeader() {
			return true
		}
	}
	return false
}

// requestShutdown runs a controlled shutdown on the lifecycle goroutine
// and waits for it (bounded by the shutdown's own deadline).
func (l *lifecycle) requestShutdown() {
	reply := make(chan struct{})
	select {
	case l.stopReq <- reply:
		<-reply
	case <-l.b.ctx.Done():
	}
}
