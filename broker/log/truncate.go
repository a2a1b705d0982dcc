package log

import (
	"errors"
	"fmt"
	"math"
)

// Truncate removes every batch at or after offset (follower truncation after
// a leader change). A batch that straddles offset is removed whole, so the log
// end offset becomes its base offset. Offsets below the log start offset
// empty the log, which then starts at offset. Producer state is rebuilt for
// the new end.
func (l *Log) Truncate(offset int64) error {
	l.cpMu.Lock()
	defer l.cpMu.Unlock()
	l.mu.Lock()
	err := l.truncateLocked(offset)
	l.mu.Unlock()
	if err != nil {
		return fmt.Errorf("truncate to %d: %w", offset, err)
	}
	return l.writeCheckpoint()
}

func (l *Log) truncateLocked(offset int64) error {
	if err := l.usableLocked("truncate"); err != nil {
		return err
	}
	if offset >= l.leo.Load() {
		return nil
	}
	if offset < l.logStart.Load() {
		return l.restartAtLocked(offset)
	}
	segs := l.segments()
	keep := len(segs)
	for keep > 1 && segs[keep-1].base > offset {
		keep--
	}
	var errs []error
	for _, s := range segs[keep:] {
		l.addSize(-s.size.Load())
		errs = append(errs, s.doom())
		s.release()
	}
	kept := append([]*segment(nil), segs[:keep]...)
	l.segs.Store(&kept)
	newEnd, err := l.truncateSegmentLocked(kept[keep-1], offset)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	l.leo.Store(newEnd)
	l.noteTruncatedLocked(newEnd)
	l.mu.recoveryPoint = min(l.mu.recoveryPoint, newEnd)
	if err := l.epochs.TruncateFromEnd(newEnd); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, l.loadProducerStateLocked())
	return errors.Join(errs...)
}

// truncateSegmentLocked cuts a segment at the batch holding offset and
// rebuilds its indexes; it returns the new log end offset.
func (l *Log) truncateSegmentLocked(s *segment, offset int64) (int64, error) {
	pos, h, ok := s.findBatch(offset)
	newEnd := offset
	if ok {
		newEnd = h.BaseOffset
	} else {
		pos = s.size.Load()
	}
	s.gen.Add(1) // odd: FileSlices made before or during this are not intact
	if err := s.truncateFile(pos); err != nil {
		return 0, l.failLocked(storageErr(err, "truncate segment %020d", s.base))
	}
	l.addSize(pos - s.size.Load())
	s.size.Store(pos)
	if _, _, err := l.reindexLocked(s, false); err != nil {
		return 0, err
	}
	s.gen.Add(1) // even: size and indexes match the file again
	if pos == 0 {
		s.rollBaseMs = -1
	}
	return max(newEnd, s.base), nil
}

// restartAtLocked deletes every segment and starts an empty log at offset.
func (l *Log) restartAtLocked(offset int64) error {
	for _, o := range l.segments() {
		if o.base == offset {
			o.gen.Add(1) // its file is about to be emptied in place; odd for good
		}
	}
	s, err := createSegment(l.fs, l.files, l.dir, offset)
	if err != nil {
		return err
	}
	old := l.segments()
	var errs []error
	for _, o := range old {
		if o.base == offset {
			continue // createSegment already replaced its files
		}
		errs = append(errs, o.doom())
	}
	segs := []*segment{s}
	l.logStart.Store(offset)
	l.leo.Store(offset)
	l.segs.Store(&segs)
	for _, o := range old {
		o.release()
	}
	l.addSize(-l.size.Load())
	l.noteTruncatedLocked(offset)
	l.mu.recoveryPoint = offset
	if l.epochs != nil {
		errs = append(errs, l.epochs.TruncateFromEnd(math.MinInt64))
	}
	for len(l.mu.snapshots) > 0 {
		l.removeSnapshotLocked(0)
	}
	l.mu.producers = make(producerState)
	l.rebuildOngoingLocked()
	return errors.Join(errs...)
}

// TruncateFullyAndStartAt empties the log and restarts it at offset: a
// follower whose fetch offset fell below the leader's log start does this
// before fetching from the leader's start.
func (l *Log) TruncateFullyAndStartAt(offset int64) error {
	l.cpMu.Lock()
	defer l.cpMu.Unlock()
	l.mu.Lock()
	err := l.usableLocked("restart")
	if err == nil {
		err = l.restartAtLocked(offset)
	}
	l.mu.Unlock()
	if err != nil {
		return fmt.Errorf("restart at %d: %w", offset, err)
	}
	return l.writeCheckpoint()
}

// noteTruncatedLocked tells the cleaner the log was cut back to end: a
// cleaning under way does not swap in, and the next one treats what lies
// past end as dirty.
func (l *Log) noteTruncatedLocked(end int64) {
	l.mu.truncations++
	l.mu.truncatedTo = min(l.mu.truncatedTo, end)
}
