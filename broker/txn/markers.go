package txn

import (
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// markerState is the progress of a Prepare state's markers: the
// partitions still without theirs, whether a WriteMarkers call is out,
// and when to try again after a failure.
type markerState struct {
	remaining map[TopicPartition]bool
	inFlight  bool
	retryAt   time.Time
	stopped   bool // a leader said this coordinator is fenced: wait for a reload
	// settled is closed (under t.mu) once the markers are over: the
	// Complete state stored, the coordinator fenced, or the id unloaded.
	settled chan struct{}
}

// settle closes ms.settled once (t.mu held).
func (ms *markerState) settle() {
	select {
	case <-ms.settled:
	default:
		close(ms.settled)
	}
}

// startMarkers begins writing the markers of the Prepare state just
// stored (t.mu held). They are sent once t.mu is released: by send,
// which every caller of startMarkers arranges through pending.
func (t *txn) startMarkers() {
	ms := &markerState{remaining: map[TopicPartition]bool{}, settled: make(chan struct{})}
	for _, tp := range t.meta.partitions {
		ms.remaining[tp] = true
	}
	t.dropMarkers()
	t.markers = ms
}

// dropMarkers ends t's marker state, if any, waking its waiters (t.mu
// held).
func (t *txn) dropMarkers() {
	if t.markers != nil {
		t.markers.settle()
		t.markers = nil
	}
}

// MarkersSettled is what a request answered CONCURRENT_TRANSACTIONS
// may wait on before asking again: a channel closed once the markers of
// id's Prepare state are written and the Complete state stored (or the id
// is unloaded here). It is nil when waiting would change nothing: the id
// is not served here or unknown, or its coordinator was fenced; and
// already closed when no markers are being written.
func (c *Coordinator) MarkersSettled(id string) <-chan struct{} {
	t, err := c.lock(id)
	if err != nil || t == nil {
		return nil
	}
	defer t.mu.Unlock()
	switch ms := t.markers; {
	case ms == nil && (t.meta.state == PrepareCommit || t.meta.state == PrepareAbort):
		return nil // never so (a Prepare state always has markers); asking again would change nothing
	case ms == nil:
		return closedChan
	case ms.stopped:
		return nil
	default:
		return ms.settled
	}
}

var closedChan = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// due returns the markers to send now (t.mu held), marking them in
// flight; ok is false when nothing is due.
func (t *txn) due(now time.Time) (Markers, bool) {
	ms := t.markers
	if ms == nil || ms.inFlight || ms.stopped || now.Before(ms.retryAt) {
		return Markers{}, false
	}
	ms.inFlight = true
	m := Markers{TransactionalID: t.id, ProducerID: t.meta.producerID, ProducerEpoch: t.meta.epoch,
		Commit: t.meta.state == PrepareCommit, CoordinatorEpoch: t.coordEpoch,
		Partitions: slices.Collect(maps.Keys(ms.remaining))}
	sortPartitions(m.Partitions)
	return m, true
}

// sendMarkers sends t's markers if they are due. t.mu must not be held:
// the writer may answer before returning.
func (t *txn) sendMarkers() {
	t.mu.Lock()
	m, ok := t.due(t.c.now())
	if ok && len(m.Partitions) == 0 {
		t.markersWritten(nil)
		ok = false
	}
	t.mu.Unlock()
	if ok {
		t.c.markers.WriteMarkers(m, func(failed map[TopicPartition]error) { t.markersDone(m, failed) })
	}
}

// markersDone takes a WriteMarkers answer. Partitions written (or gone)
// leave the remaining set; a leader that calls this coordinator fenced
// stops the sending until the partition is loaded again; the rest are
// retried after MarkerRetryBackoff. When none remain, the Complete state
// is stored.
func (t *txn) markersDone(m Markers, failed map[TopicPartition]error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ms := t.markers
	if t.gone || ms == nil || t.meta.producerID != m.ProducerID || t.meta.epoch != m.ProducerEpoch {
		return // unloaded, or an answer to markers of an earlier state
	}
	ms.inFlight = false
	for _, tp := range m.Partitions {
		err, bad := failed[tp]
		switch ke := errorCode(err); {
		case !bad || err == nil, ke == kerr.UnsupportedForMessageFormat:
			delete(ms.remaining, tp)
		case ke == kerr.UnknownTopicOrPartition && !t.c.partitionExists(tp):
			delete(ms.remaining, tp) // the topic was deleted: no marker is needed
		case ke == kerr.InvalidProducerEpoch || ke == kerr.TransactionCoordinatorFenced:
			ms.stopped = true
		}
	}
	if ms.stopped {
		t.c.logger.Warn("transaction markers refused: this coordinator is fenced", "transactional_id", t.id)
		ms.settle() // nothing more happens here until a reload
		return
	}
	if len(ms.remaining) > 0 {
		ms.retryAt = t.c.now().Add(t.c.cfg.MarkerRetryBackoff)
		return
	}
	t.markersWritten(ms)
}

// markersWritten stores the Complete state (t.mu held); if that fails it
// is tried again after MarkerRetryBackoff.
func (t *txn) markersWritten(ms *markerState) {
	next := t.meta.complete(t.c.now())
	if err := t.persist(next); err != nil {
		if ms == nil {
			ms = t.markers
		}
		ms.inFlight, ms.retryAt = false, t.c.now().Add(t.c.cfg.MarkerRetryBackoff)
		return
	}
	t.dropMarkers()
	t.c.completed(next.state)
}
