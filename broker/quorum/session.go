package quorum

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Sessions is the leader's broker-session keeper, the I/O shell around
// HeartbeatTracker, FenceExpired and OnHeartbeat: the broker feeds it the
// BrokerHeartbeat requests that reach the leader and calls Run from one of
// its tracked goroutines. It acts only while its node leads; on each new
// leadership term it starts every registered broker with a fresh session,
// so a new leader never fences brokers for the old leader's silence.
type Sessions struct {
	node    *Node
	timeout time.Duration
	now     func() time.Time
	log     *slog.Logger

	mu struct {
		sync.Mutex
		tracker *HeartbeatTracker
		term    uint64 // the leadership term tracker belongs to
	}
}

// NewSessions returns a keeper for node with broker.session.timeout.ms
// sessionTimeout (Kafka's default is 9 s); now is the clock.
func NewSessions(node *Node, sessionTimeout time.Duration, now func() time.Time) *Sessions {
	return &Sessions{node: node, timeout: sessionTimeout, now: now, log: node.log}
}

// trackerLocked returns the tracker of the current term, resetting it
// when leadership is new; nil when the node does not lead.
func (s *Sessions) trackerLocked(img *Image, now time.Time) *HeartbeatTracker {
	if !s.node.IsLeader() {
		s.mu.tracker = nil
		return nil
	}
	if term := s.node.raft.CurrentTerm(); s.mu.tracker == nil || term != s.mu.term {
		s.mu.tracker, s.mu.term = NewHeartbeatTracker(), term
		for id := range img.Brokers {
			s.mu.tracker.Beat(id, now)
		}
	}
	return s.mu.tracker
}

// Heartbeat handles broker id's heartbeat on the leader. appliedIndex is
// the broker's last applied metadata index: a fenced broker that has
// applied its own registration (KRaft's rule) is unfenced. It returns
// whether the broker is fenced after the heartbeat; ErrNotLeader off the
// leader; STALE_BROKER_EPOCH or BROKER_ID_NOT_REGISTERED for a broker that
// must register again.
func (s *Sessions) Heartbeat(ctx context.Context, id int32, epoch int64, appliedIndex uint64) (fenced bool, err error) {
	img := s.node.Image()
	cmd, err := s.beat(img, id, epoch, appliedIndex)
	if err != nil {
		return true, err
	}
	if cmd == nil {
		return img.Brokers[id].Fenced, nil
	}
	if _, err := s.node.Propose(ctx, cmd); err != nil {
		return true, err
	}
	return false, nil
}

func (s *Sessions) beat(img *Image, id int32, epoch int64, appliedIndex uint64) (Command, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	tr := s.trackerLocked(img, now)
	if tr == nil {
		return nil, ErrNotLeader
	}
	b, registered := img.Brokers[id]
	cmd, err := OnHeartbeat(img, id, epoch, registered && appliedIndex >= uint64(b.Epoch))
	if err == nil {
		tr.Beat(id, now)
	}
	return cmd, err
}

// Run fences brokers whose session expired, checking every tick, until
// ctx ends.
func (s *Sessions) Run(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, cmd := range s.expired() {
			if _, err := s.node.Propose(ctx, cmd); err != nil {
				s.log.Warn("fencing a broker whose session expired", "cmd", cmd, "err", err)
			} else {
				s.log.Info("fenced a broker whose session expired", "cmd", cmd)
			}
		}
	}
}

func (s *Sessions) expired() []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	img, now := s.node.Image(), s.now()
	tr := s.trackerLocked(img, now)
	if tr == nil {
		return nil
	}
	return FenceExpired(img, tr, now, s.timeout)
}
