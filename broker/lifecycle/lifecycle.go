package lifecycle

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/config"
	"github.com/weirhq/weir/broker/protocol"
	"github.com/weirhq/weir/broker/quorum"
	"github.com/weirhq/weir/broker/replica"
	"github.com/weirhq/weir/broker/replication"
)

// The broker's side of the KRaft lifecycle: register with the active
// controller, heartbeat it, send it the ISR changes this broker's
// partition leaders want, and ask it for a controlled shutdown when
// stopping. One goroutine owns the controller connection.

const lifecycleTick = 100 * time.Millisecond

// shrinkScanEvery is how often the ISR loop checks whole ISRs for lagging
// followers (at most; half of replica.lag.time.max.ms when that is less).
const shrinkScanEvery = time.Second

// Quorum is what the lifecycle and the controller need of the metadata
// quorum (*quorum.Node).
type Quorum interface {
	Image() *quorum.Image
	IsLeader() bool
	LeaderID() (int32, bool)
	Propose(ctx context.Context, c quorum.Command) (any, error)
	// Barrier returns once every earlier entry is applied to Image
	// (leader only).
	Barrier(ctx context.Context) error
	Term() uint64 // the raft term
}

// Options are the lifecycle's dependencies, all from the broker that owns
// it.
type Options struct {
	NodeID    int32
	Rack      string          // broker.rack
	ClusterID string          // this broker's cluster id
	Listener  config.Listener // the advertised listener it registers
	// Dial connects to the controller (nil: TCP; TLS on an SSL
	// inter-broker listener).
	Dial protocol.Dialer
	// Listeners are the other advertised listeners, registered after
	// Listener (which brokers reach each other on).
	Listeners []config.Listener
	Voters    map[int32]string
	Timing    Timing
	LagMax    time.Duration // replica.lag.time.max.ms
	Quorum    Quorum
	Logger    *slog.Logger
	// Now is the broker's clock (heartbeat due times, ISR lag). Timers,
	// socket deadlines and the controlled shutdown's bound run on the
	// wall clock.
	Now func() time.Time
	// PeerAddr is another broker's Kafka address: from its registration,
	// or for a voter not yet registered, from the voters.
	PeerAddr func(id int32) (string, bool)
	// Partitions are the hosted partitions' replicas; Lookup finds one.
	Partitions func() []*replication.Replica
	Lookup     func(topic string, partition int32) *replication.Replica
	// Goroutine runs f on a goroutine the broker waits for at shutdown.
	Goroutine func(f func())
	// ISRChanged, when set, counts the ISR changes of this broker's led
	// partitions that the controller's answer committed
	// (ReplicaManager IsrShrinksPerSec, IsrExpandsPerSec); those its
	// metadata settled first are replication.Options.ISRChanged's.
	ISRChanged func(shrinks, expands int)
}

// Lifecycle is this broker's side of the KRaft broker lifecycle.
type Lifecycle struct {
	ctx         context.Context
	o           Options
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
	// shrinkScan is when sendISRChanges last looked for lagging
	// followers (isrLoop's goroutine only).
	shrinkScan time.Time

	// stopReq asks the loop for a controlled shutdown; the reply channel
	// is closed when it is done (or gave up).
	stopReq chan chan struct{}
}

// New returns the lifecycle; Run runs it until ctx is done.
func New(ctx context.Context, o Options) *Lifecycle {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	l := &Lifecycle{ctx: ctx, o: o, stopReq: make(chan chan struct{})}
	l.beat, l.isr = &ctrlConn{l: l, to: -1}, &ctrlConn{l: l, to: -1}
	rand.Read(l.incarnation[:])
	l.mu.epoch = -1
	return l
}

// BrokerEpoch is the epoch of this process's registration; -1 until
// registered.
func (l *Lifecycle) BrokerEpoch() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.epoch
}

func (l *Lifecycle) setEpoch(e int64) {
	l.mu.Lock()
	l.mu.epoch = e
	l.mu.Unlock()
}

// Fenced reports whether this broker is fenced or not yet registered by
// this process (a registration from before a restart does not count).
func (l *Lifecycle) Fenced() bool {
	br, ok := l.o.Quorum.Image().Broker(l.o.NodeID)
	return !ok || br.Fenced || br.Epoch != l.BrokerEpoch()
}

// Run registers, heartbeats and sends ISR changes (on a second goroutine,
// through Options.Goroutine) until the context is done or a controlled
// shutdown was requested.
func (l *Lifecycle) Run() {
	tick := time.NewTicker(lifecycleTick)
	defer tick.Stop()
	defer l.beat.close()
	l.o.Goroutine(l.isrLoop)
	for {
		select {
		case <-l.ctx.Done():
			return
		case reply := <-l.stopReq:
			l.controlledShutdown(5 * time.Second)
			close(reply)
			return
		case <-tick.C:
		}
		if err := l.step(); err != nil {
			l.o.Logger.Debug("talking to the controller failed", "err", err)
			l.beat.close()
		}
	}
}

// isrLoop sends the ISR changes led partitions want, on its own
// connection.
func (l *Lifecycle) isrLoop() {
	tick := time.NewTicker(lifecycleTick)
	defer tick.Stop()
	defer l.isr.close()
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-tick.C:
		}
		if l.BrokerEpoch() < 0 {
			continue
		}
		if err := l.sendISRChanges(); err != nil {
			l.o.Logger.Debug("sending ISR changes failed", "err", err)
			l.isr.close()
		}
	}
}

// step registers if needed and heartbeats when due.
func (l *Lifecycle) step() error {
	if _, err := l.beat.get(); err != nil {
		return err
	}
	if l.BrokerEpoch() < 0 {
		return l.register()
	}
	if l.o.Now().Sub(l.lastBeat) >= l.o.Timing.Heartbeat || l.Fenced() {
		return l.heartbeat(false)
	}
	return nil
}

// heartbeatTimeout bounds one heartbeat exchange: well inside a session,
// so a stopped controller is given up on in time to reach the next one.
func (l *Lifecycle) heartbeatTimeout() time.Duration {
	return l.o.Timing.Session * 3 / 8
}

// ctrlConn is a connection to the active controller, reopened when the
// controller changes. It is owned by one goroutine.
type ctrlConn struct {
	l     *Lifecycle
	conn  *protocol.Peer
	to    int32
	probe int // the voter to try next while no leader is known
}

func (c *ctrlConn) get() (*protocol.Peer, error) {
	o := c.l.o
	ctrl, ok := o.Quorum.LeaderID()
	if !ok {
		// A broker that is not a voter learns the leader only once it is
		// in the quorum, which needs its registration: until then, try
		// the voters in turn (the others answer NOT_CONTROLLER).
		if _, voter := o.Voters[o.NodeID]; voter || len(o.Voters) == 0 {
			return nil, errors.New("no active controller")
		}
		ids := make([]int32, 0, len(o.Voters))
		for id := range o.Voters {
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
	addr, ok := o.PeerAddr(ctrl)
	if !ok {
		return nil, fmt.Errorf("no address for controller %d", ctrl)
	}
	ctx, cancel := context.WithTimeout(c.l.ctx, time.Second)
	defer cancel()
	pc, err := protocol.DialPeerWith(ctx, o.Dial, addr, "weir-broker-"+strconv.Itoa(int(o.NodeID)))
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

func (l *Lifecycle) register() error {
	o := l.o
	adv := o.Listener
	req := kmsg.NewPtrBrokerRegistrationRequest()
	req.SetVersion(1)
	req.BrokerID, req.ClusterID, req.IncarnationID = o.NodeID, o.ClusterID, l.incarnation
	ln := kmsg.NewBrokerRegistrationRequestListener()
	ln.Name, ln.Host, ln.Port = adv.Name, adv.Host, uint16(adv.Port)
	req.Listeners = append(req.Listeners, ln)
	for _, other := range o.Listeners {
		ln := kmsg.NewBrokerRegistrationRequestListener()
		ln.Name, ln.Host, ln.Port = other.Name, other.Host, uint16(other.Port)
		req.Listeners = append(req.Listeners, ln)
	}
	if o.Rack != "" {
		req.Rack = &o.Rack
	}
	ranges := quorum.SupportedRanges() // the levels this binary runs (docs/QUORUM.md, features)
	for _, name := range slices.Sorted(maps.Keys(ranges)) {
		f := kmsg.NewBrokerRegistrationRequestFeature()
		f.Name, f.MinSupportedVersion, f.MaxSupportedVersion = name, ranges[name].Min, ranges[name].Max
		req.Features = append(req.Features, f)
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
	o.Logger.Info("registered with the controller", "controller", l.beat.to, "broker_epoch", resp.BrokerEpoch)
	return l.heartbeat(false)
}

// heartbeat tells the controller this broker is alive and how far it has
// applied metadata; with shutdown it asks to be fenced before stopping.
// It returns whether the controller agreed to the shutdown.
func (l *Lifecycle) heartbeat(shutdown bool) error {
	req := kmsg.NewPtrBrokerHeartbeatRequest()
	req.SetVersion(0)
	req.BrokerID, req.BrokerEpoch = l.o.NodeID, l.BrokerEpoch()
	req.CurrentMetadataOffset = int64(l.o.Quorum.Image().Version)
	req.WantShutdown = shutdown
	raw, err := l.beat.conn.Request(req, l.heartbeatTimeout())
	if err != nil {
		return err
	}
	resp := raw.(*kmsg.BrokerHeartbeatResponse)
	switch resp.ErrorCode {
	case 0:
		l.lastBeat = l.o.Now()
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
func (l *Lifecycle) sendISRChanges() error {
	o := l.o
	type change struct {
		p  *replication.Replica
		ch replica.ISRChange
	}
	var changes []change
	img := o.Quorum.Image()
	now := o.Now()
	// Followers that caught up are looked for on every tick; followers
	// that fell behind once a second (a whole ISR is skipped otherwise):
	// with 20,000 partitions a full scan every 100 ms cost a tenth of a
	// core. Kafka's isr-expiration task runs every replica.lag.time.max.ms/2.
	scan := now.Sub(l.shrinkScan) >= min(shrinkScanEvery, o.LagMax/2)
	if scan {
		l.shrinkScan = now
	}
	for _, p := range o.Partitions() {
		ch, ok := p.NextISRChange(now, o.LagMax, img.IsLive, scan)
		if ok {
			changes = append(changes, change{p, ch})
		}
	}
	if len(changes) == 0 {
		return nil
	}
	// A change whose outcome is unknown stays pending and is sent again
	// (a resend can be the one that meets no controller), so this never
	// clears one: only the controller's own refusal does (isrRefused).
	unsettled := func() {
		for _, c := range changes {
			c.p.ISRChangeUnsettled(true)
		}
	}
	conn, err := l.isr.get()
	if err != nil {
		unsettled()
		return err
	}
	req := kmsg.NewPtrAlterPartitionRequest()
	req.SetVersion(1)
	req.BrokerID, req.BrokerEpoch = o.NodeID, l.BrokerEpoch()
	idx := map[string]int{}
	for _, c := range changes {
		name := c.p.Topic()
		i, ok := idx[name]
		if !ok {
			i = len(req.Topics)
			idx[name] = i
			rt := kmsg.NewAlterPartitionRequestTopic()
			rt.Topic = name
			req.Topics = append(req.Topics, rt)
		}
		rp := kmsg.NewAlterPartitionRequestTopicPartition()
		rp.Partition, rp.LeaderEpoch, rp.PartitionEpoch, rp.NewISR = c.p.Index(), c.ch.LeaderEpoch, c.ch.PartitionEpoch, c.ch.ISR
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
		o.Logger.Info("asking the controller to change an ISR", "topic", name, "partition", c.p.Index(), "isr", c.ch.ISR)
	}
	raw, err := conn.Request(req, 3*time.Second)
	if err != nil {
		unsettled()
		return err
	}
	resp := raw.(*kmsg.AlterPartitionResponse)
	if resp.ErrorCode != 0 {
		unsettled()
		return fmt.Errorf("alter partition: %w", kerr.ErrorForCode(resp.ErrorCode))
	}
	done := map[*replication.Replica]bool{}
	shrinks, expands := 0, 0
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			p := o.Lookup(rt.Topic, rp.Partition)
			if p == nil {
				continue
			}
			done[p] = true
			switch isrOutcome(rp.ErrorCode) {
			case isrCommitted:
				switch p.ISRChangeDone(rp.ISR, rp.LeaderEpoch, rp.PartitionEpoch) {
				case -1:
					shrinks++
				case 1:
					expands++
				}
			case isrRefused:
				p.ISRChangeDone(nil, 0, 0)
			case isrSettledByMetadata:
				p.ISRChangeUnsettled(false)
			default:
				p.ISRChangeUnsettled(true)
			}
		}
	}
	for _, c := range changes {
		if !done[c.p] {
			c.p.ISRChangeUnsettled(true)
		}
	}
	if o.ISRChanged != nil && shrinks+expands > 0 {
		o.ISRChanged(shrinks, expands)
	}
	return nil
}

// What an AlterPartition answer's code says about the change.
const (
	isrCommitted         = iota
	isrRefused           // not applied, and never will be: propose anew
	isrSettledByMetadata // the partition moved on; metadata will say how
	isrUnknown           // maybe applied: keep it pending and send it again
)

// isrOutcome sorts a partition's AlterPartition error code as Kafka's
// Partition.handleAlterPartitionError does. Only an explicit refusal
// resets the pending ISR; a lost leadership or a timeout may still commit
// the change, and INVALID_UPDATE_VERSION or FENCED_LEADER_EPOCH can answer
// a resend after an earlier attempt did commit. Weir's controller answers
// INVALID_REQUEST and STALE_BROKER_EPOCH only from the apply that refused
// the change, so those are refusals too.
func isrOutcome(code int16) int {
	switch code {
	case 0:
		return isrCommitted
	case kerr.OperationNotAttempted.Code, kerr.IneligibleReplica.Code, kerr.InvalidRequest.Code, kerr.StaleBrokerEpoch.Code:
		return isrRefused
	case kerr.InvalidUpdateVersion.Code, kerr.FencedLeaderEpoch.Code, kerr.UnknownTopicOrPartition.Code:
		return isrSettledByMetadata
	default:
		return isrUnknown
	}
}

// controlledShutdown asks the controller to fence this broker, moving its
// leaderships to other replicas before the broker stops, so producers and
// consumers fail over at once instead of after a session timeout.
//
// The timeout bounds a real wait (the process is stopping), so it is on
// the wall clock, as the timer between attempts is.
func (l *Lifecycle) controlledShutdown(timeout time.Duration) {
	if l.BrokerEpoch() < 0 || len(l.o.Quorum.Image().LiveBrokers()) <= 1 || !l.leadsAny() {
		return
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, ok := l.o.Quorum.LeaderID(); !ok {
			break // no controller to ask (the quorum is down): just stop
		}
		if _, err := l.beat.get(); err == nil {
			if err = l.heartbeat(true); err == nil {
				l.o.Logger.Info("controlled shutdown complete: leaderships moved")
				return
			}
		}
		l.beat.close()
		t := time.NewTimer(lifecycleTick)
		<-t.C
	}
	l.o.Logger.Warn("controlled shutdown not acknowledged; stopping anyway (followers take over after broker.session.timeout.ms)")
}

// leadsAny reports whether this broker leads any partition.
func (l *Lifecycle) leadsAny() bool {
	for _, p := range l.o.Partitions() {
		if p.IsLeader() {
			return true
		}
	}
	return false
}

// RequestShutdown runs a controlled shutdown on the lifecycle goroutine
// and waits for it (bounded by the shutdown's own deadline).
func (l *Lifecycle) RequestShutdown() {
	reply := make(chan struct{})
	select {
	case l.stopReq <- reply:
		<-reply
	case <-l.ctx.Done():
	}
}
