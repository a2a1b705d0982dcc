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
}

// startMarkers begins writing the markers of the Prepare state just
// stored (t.mu held). They are sent once t.mu is released: by send,
// which every caller of startMarkers arranges through pending.
func (t *txn) startMarkers() {
	ms := &markerState{remaining: map[TopicPartition]bool{}}
	for _, tp := range t.meta.partitions {
		ms.remaining[tp] = true
	}
	t.markers = ms
}

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
	t.markers = nil
	t.c.completed(next.state)
}
