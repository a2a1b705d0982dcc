package pipeline

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/weirhq/weir/agent/snapshot"
	"github.com/weirhq/weir/internal/await"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder keeps the broker ids of the snapshots it exported.
type recorder struct {
	name string
	mu   sync.Mutex
	got  []int32
}

func (r *recorder) Name() string { return r.name }
func (r *recorder) Export(_ context.Context, s *snapshot.Snapshot) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, s.BrokerID)
	return nil
}
func (r *recorder) ids() []int32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int32(nil), r.got...)
}

// blocked never returns from Export until released or its context ends.
type blocked struct {
	entered chan struct{}
	release chan struct{}
}

func (b *blocked) Name() string { return "blocked" }
func (b *blocked) Export(ctx context.Context, _ *snapshot.Snapshot) error {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	select {
	case <-b.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type failing struct{}

func (failing) Name() string                                     { return "failing" }
func (failing) Export(context.Context, *snapshot.Snapshot) error { return errors.New("sink down") }

func TestBlockedExporterDropsOldestOthersContinue(t *testing.T) {
	ok := &recorder{name: "ok"}
	bl := &blocked{entered: make(chan struct{}, 1), release: make(chan struct{})}
	p := New([]snapshot.Exporter{bl, ok, failing{}}, Options{QueueSize: 3})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()

	p.Publish(&snapshot.Snapshot{BrokerID: 0})
	<-bl.entered // the blocked exporter holds snapshot 0 from now on
	const n = 100
	for i := int32(1); i <= n; i++ {
		p.Publish(&snapshot.Snapshot{BrokerID: i})
		// Collection runs at an interval a healthy sink keeps up with.
		await.True(t, 5*time.Second, "the healthy exporter to keep up", func() bool { return len(ok.ids()) == int(i)+1 })
	}
	for i, id := range ok.ids() {
		if id != int32(i) {
			t.Fatalf("healthy exporter got %v, want 0..%d in order", ok.ids(), n)
		}
	}
	await.True(t, 5*time.Second, "the failing exporter to count its errors", func() bool { h := p.Health()[2]; return h.Errors+h.Dropped == n+1 })

	h := p.Health()[0]
	if h.Queued != 3 || h.Dropped != n-3 {
		t.Fatalf("blocked exporter: queued %d dropped %d, want 3 and %d", h.Queued, h.Dropped, n-3)
	}
	// Released, it exports the newest snapshots it kept, not the oldest.
	close(bl.release)
	await.True(t, 5*time.Second, "the blocked exporter to drain", func() bool { return p.Health()[0].Exported == 4 })
	if f := p.Health()[2]; f.LastError != "sink down" || f.Exported != 0 {
		t.Fatalf("failing exporter health %+v", f)
	}
	cancel()
	<-done
}

func TestRunReturnsWhileExportIsBlocked(t *testing.T) {
	bl := &blocked{entered: make(chan struct{}, 1), release: make(chan struct{})}
	p := New([]snapshot.Exporter{bl}, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	p.Publish(&snapshot.Snapshot{})
	<-bl.entered
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestExportTimeout(t *testing.T) {
	bl := &blocked{entered: make(chan struct{}, 1), release: make(chan struct{})}
	p := New([]snapshot.Exporter{bl}, Options{ExportTimeout: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	p.Publish(&snapshot.Snapshot{})
	await.True(t, 5*time.Second, "the export to time out", func() bool { return p.Health()[0].Errors == 1 })
	if h := p.Health()[0]; h.LastError != context.DeadlineExceeded.Error() {
		t.Fatalf("last error %q, want deadline exceeded", h.LastError)
	}
	cancel()
	<-done
}
