package pipeline

import (
	"sync"
	"time"

	"github.com/weirhq/weir/agent/snapshot"
)

// sink is one exporter's queue and counters.
type sink struct {
	exp  snapshot.Exporter
	wake chan struct{} // capacity 1: a pending "queue not empty" signal

	mu struct {
		sync.Mutex
		queue       []*snapshot.Snapshot // oldest first, len ≤ size
		size        int
		exported    uint64
		errors      uint64
		dropped     uint64
		lastErr     string
		lastSuccess time.Time
	}
}

func newSink(e snapshot.Exporter, size int) *sink {
	k := &sink{exp: e, wake: make(chan struct{}, 1)}
	k.mu.size = size
	k.mu.queue = make([]*snapshot.Snapshot, 0, size)
	return k
}

// push appends s, dropping the oldest queued snapshot if the queue is full.
func (k *sink) push(s *snapshot.Snapshot) {
	k.mu.Lock()
	if len(k.mu.queue) == k.mu.size {
		copy(k.mu.queue, k.mu.queue[1:])
		k.mu.queue = k.mu.queue[:len(k.mu.queue)-1]
		k.mu.dropped++
	}
	k.mu.queue = append(k.mu.queue, s)
	k.mu.Unlock()
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// pop removes and returns the oldest queued snapshot, or nil.
func (k *sink) pop() *snapshot.Snapshot {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.mu.queue) == 0 {
		return nil
	}
	s := k.mu.queue[0]
	copy(k.mu.queue, k.mu.queue[1:])
	k.mu.queue[len(k.mu.queue)-1] = nil
	k.mu.queue = k.mu.queue[:len(k.mu.queue)-1]
	return s
}

// done counts the outcome of one Export.
func (k *sink) done(err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err != nil {
		k.mu.errors++
		k.mu.lastErr = err.Error()
		return
	}
	k.mu.exported++
	k.mu.lastSuccess = time.Now()
}

func (k *sink) health() snapshot.ExporterHealth {
	k.mu.Lock()
	defer k.mu.Unlock()
	return snapshot.ExporterHealth{
		Name:        k.exp.Name(),
		Exported:    k.mu.exported,
		Errors:      k.mu.errors,
		Dropped:     k.mu.dropped,
		Queued:      len(k.mu.queue),
		LastError:   k.mu.lastErr,
		LastSuccess: k.mu.lastSuccess,
	}
}
