package lifecycle

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/config"
	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/protocol"
	"github.com/weirhq/weir/broker/quorum"
	"github.com/weirhq/weir/broker/replica"
	"github.com/weirhq/weir/broker/replication"
	"github.com/weirhq/weir/internal/await"
)

// fakeController answers the lifecycle's requests on a real listener, as
// the active controller would, and records what it was asked.
type fakeController struct {
	ln net.Listener
	wg sync.WaitGroup
	mu struct {
		sync.Mutex
		registered   int
		heartbeats   int
		wantShutdown bool
		isrRequests  [][]int32
		conns        []net.Conn
	}
}

func startFakeController(t *testing.T) *fakeController {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fc := &fakeController{ln: ln}
	fc.wg.Add(1)
	go fc.accept()
	t.Cleanup(func() {
		ln.Close()
		fc.mu.Lock()
		for _, c := range fc.mu.conns {
			c.Close()
		}
		fc.mu.Unlock()
		fc.wg.Wait()
	})
	return fc
}

func (fc *fakeController) accept() {
	defer fc.wg.Done()
	for {
		c, err := fc.ln.Accept()
		if err != nil {
			return
		}
		fc.mu.Lock()
		fc.mu.conns = append(fc.mu.conns, c)
		fc.mu.Unlock()
		fc.wg.Add(1)
		go fc.serve(c)
	}
}

func (fc *fakeController) serve(c net.Conn) {
	defer fc.wg.Done()
	defer c.Close()
	for {
		frame, err := protocol.ReadFrame(c, nil, 1<<20)
		if err != nil {
			return
		}
		req, err := protocol.ParseRequest(frame)
		if err != nil {
			return
		}
		if _, err := c.Write(protocol.AppendResponse(nil, req.CorrelationID, fc.answer(req.Body))); err != nil {
			return
		}
	}
}

func (fc *fakeController) answer(body kmsg.Request) kmsg.Response {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	switch r := body.(type) {
	case *kmsg.BrokerRegistrationRequest:
		fc.mu.registered++
		resp := r.ResponseKind().(*kmsg.BrokerRegistrationResponse)
		resp.BrokerEpoch = 7
		return resp
	case *kmsg.BrokerHeartbeatRequest:
		fc.mu.heartbeats++
		fc.mu.wantShutdown = fc.mu.wantShutdown || r.WantShutdown
		resp := r.ResponseKind().(*kmsg.BrokerHeartbeatResponse)
		resp.ShouldShutdown = r.WantShutdown
		return resp
	case *kmsg.AlterPartitionRequest:
		resp := r.ResponseKind().(*kmsg.AlterPartitionResponse)
		for _, rt := range r.Topics {
			st := kmsg.NewAlterPartitionResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				fc.mu.isrRequests = append(fc.mu.isrRequests, rp.NewISR)
				sp := kmsg.NewAlterPartitionResponseTopicPartition()
				sp.Partition, sp.LeaderID, sp.LeaderEpoch = rp.Partition, r.BrokerID, rp.LeaderEpoch
				sp.ISR, sp.PartitionEpoch = rp.NewISR, rp.PartitionEpoch+1
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp
	}
	panic("fake controller: unexpected request " + kmsg.NameForKey(body.Key()))
}

// The lifecycle against a controller over the wire: it registers and
// heartbeats, asks for the ISR change its leader wants when a follower
// lags (on the broker's clock) and applies the answer, and on a
// controlled shutdown asks to be fenced and stops once the controller
// agrees.
func TestLifecycleRegistersHeartbeatsShrinksTheISRAndShutsDown(t *testing.T) {
	fc := startFakeController(t)
	var skew atomic.Int64 // how far the broker's clock runs ahead of the wall clock
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }

	img := quorum.EmptyImage()
	img.Brokers[1] = quorum.Broker{ID: 1, Epoch: 7}
	img.Brokers[2] = quorum.Broker{ID: 2, Epoch: 8}
	q := &fakeQuorum{img: img, leader: true}
	q.leaderID = 9

	l, err := wlog.Open(filepath.Join(t.TempDir(), "t-0"), wlog.Config{}, wlog.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	rep := replication.NewReplica("t", 0, l, 1, now)
	rep.State(func(p *replica.Partition) {
		p.BecomeLeader(replica.Assignment{Leader: 1, LeaderEpoch: 3, PartitionEpoch: 5, Replicas: []int32{1, 2}, ISR: []int32{1, 2}}, 0, 0, now())
	})

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	life := New(ctx, Options{
		NodeID: 1, ClusterID: "c", Listener: listenerOf(t, fc.ln), Timing: Timing{Session: 2 * time.Second, Heartbeat: 50 * time.Millisecond},
		LagMax: 10 * time.Second, Quorum: q, Logger: slog.New(slog.DiscardHandler), Now: now,
		PeerAddr:   func(id int32) (string, bool) { return fc.ln.Addr().String(), id == 9 },
		Partitions: func() []*replication.Replica { return []*replication.Replica{rep} },
		Lookup: func(topic string, p int32) *replication.Replica {
			if topic == "t" && p == 0 {
				return rep
			}
			return nil
		},
		Goroutine: func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() },
	})
	done := make(chan struct{})
	wg.Add(1)
	go func() { defer wg.Done(); life.Run(); close(done) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	await.True(t, 5*time.Second, "registered and heartbeating", func() bool {
		fc.mu.Lock()
		defer fc.mu.Unlock()
		return life.BrokerEpoch() == 7 && fc.mu.registered == 1 && fc.mu.heartbeats >= 2
	})
	if life.Fenced() {
		t.Fatal("registered at the image's epoch and unfenced, but Fenced")
	}
	if !rep.InISR(2) {
		t.Fatal("follower 2 left the ISR before lagging")
	}
	skew.Store(int64(time.Minute)) // follower 2 has not fetched for a minute of broker time
	await.True(t, 5*time.Second, "the ISR shrank to [1]", func() bool { return !rep.InISR(2) })
	fc.mu.Lock()
	if !slices.EqualFunc(fc.mu.isrRequests, [][]int32{{1}}, slices.Equal) {
		t.Errorf("ISR requests %v, want one for [1]", fc.mu.isrRequests)
	}
	fc.mu.Unlock()

	life.RequestShutdown()
	<-done
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if !fc.mu.wantShutdown {
		t.Fatal("stopped without asking the controller for a controlled shutdown")
	}
}

func listenerOf(t *testing.T, ln net.Listener) (l config.Listener) {
	t.Helper()
	ta, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		t.Fatal(errors.New("not a TCP listener"))
	}
	l.Name, l.Host, l.Port = "PLAINTEXT", "127.0.0.1", ta.Port
	return l
}

// TestISROutcome: only the controller's own refusal clears a pending ISR
// change; an answer that leaves the outcome unknown keeps it pending (and
// sends it again), one saying the partition moved on waits for metadata.
func TestISROutcome(t *testing.T) {
	for _, tt := range []struct {
		code int16
		want int
	}{
		{0, isrCommitted},
		{kerr.OperationNotAttempted.Code, isrRefused},
		{kerr.IneligibleReplica.Code, isrRefused},
		{kerr.InvalidRequest.Code, isrRefused},
		{kerr.InvalidUpdateVersion.Code, isrSettledByMetadata},
		{kerr.FencedLeaderEpoch.Code, isrSettledByMetadata},
		{kerr.UnknownTopicOrPartition.Code, isrSettledByMetadata},
		{kerr.NotController.Code, isrUnknown},
		{kerr.RequestTimedOut.Code, isrUnknown},
		{kerr.UnknownServerError.Code, isrUnknown},
	} {
		if got := isrOutcome(tt.code); got != tt.want {
			t.Errorf("isrOutcome(%s) = %d, want %d", kerr.ErrorForCode(tt.code), got, tt.want)
		}
	}
}
