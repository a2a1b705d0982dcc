package quorum

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/weirhq/weir/internal/await"
)

func TestSessions(t *testing.T) {
	c := newTestCluster(t, 1, 0)
	c.register(1)
	c.propose(RegisterBroker{ID: 2, IncarnationID: "x", Host: "h", Port: 2})
	node := c.leader(5 * time.Second).node
	b2, _ := node.Image().Broker(2)

	var clock atomic.Int64 // seconds
	s := NewSessions(node, 9*time.Second, func() time.Time { return time.Unix(clock.Load(), 0) })
	ctx := context.Background()

	// Not caught up with its own registration: stays fenced.
	if fenced, err := s.Heartbeat(ctx, 2, b2.Epoch, uint64(b2.Epoch)-1); err != nil || !fenced {
		t.Fatalf("heartbeat before catching up: fenced=%v %v", fenced, err)
	}
	if fenced, err := s.Heartbeat(ctx, 2, b2.Epoch, uint64(b2.Epoch)); err != nil || fenced {
		t.Fatalf("caught-up heartbeat: fenced=%v %v", fenced, err)
	}
	if !node.Image().IsLive(2) {
		t.Fatal("broker 2 not unfenced")
	}
	if _, err := s.Heartbeat(ctx, 2, b2.Epoch+1, 0); !errors.Is(err, kerr.StaleBrokerEpoch) {
		t.Fatalf("stale epoch: %v", err)
	}

	// Broker 1 keeps beating, broker 2 goes quiet: after the session
	// timeout only 2 is fenced.
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(runCtx, 5*time.Millisecond) })
	defer func() { cancel(); wg.Wait() }()
	clock.Store(5)
	b1, _ := node.Image().Broker(1)
	if _, err := s.Heartbeat(ctx, 1, b1.Epoch, node.AppliedIndex()); err != nil {
		t.Fatal(err)
	}
	clock.Store(12)
	await.For(t, 5*time.Second, "broker 2 fenced", func() error {
		if node.Image().IsLive(2) {
			return errors.New("broker 2 still live")
		}
		return nil
	})
	if !node.Image().IsLive(1) {
		t.Fatal("broker 1 fenced too")
	}
}
