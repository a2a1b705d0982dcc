package log

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/weirhq/weir/internal/vfs"
)

// EnforceRetention deletes the oldest segments, never the active one, that
// lie entirely below the log start offset, whose largest timestamp is older
// than retention.ms, or while the log is larger than retention.bytes. It
// advances the log start offset and returns the number of segments deleted.
func (l *Log) EnforceRetention(now time.Time) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return 0, ErrClosed
	}
	if l.mu.failed != nil {
		return 0, nil // offline: nothing to maintain (failure.go)
	}
	segs, cfg := l.segments(), l.mu.cfg
	n := l.belowStartLocked(l.logStart.Load())
	if cfg.RetentionMs > 0 {
		limit := now.UnixMilli() - cfg.RetentionMs.Milliseconds()
		k := 0
		for k < len(segs)-1 && segmentLargestTimestamp(segs[k]) < limit {
			k++
		}
		n = max(n, k)
	}
	if cfg.RetentionBytes > 0 {
		diff, k := l.size.Load()-cfg.RetentionBytes, 0
		for k < len(segs)-1 && diff-segs[k].size.Load() >= 0 {
			diff -= segs[k].size.Load()
			k++
		}
		n = max(n, k)
	}
	return n, l.deleteOldestLocked(n, "retention")
}

// segmentLargestTimestamp is the segment's largest record timestamp, or the
// modification time of its file when it has none (Kafka's rule).
func segmentLargestTimestamp(s *segment) int64 {
	if ts, _ := s.maxTimestamp(); ts >= 0 {
		return ts
	}
	fi, err := s.stat()
	if err != nil {
		return math.MaxInt64 // unknown: keep it
	}
	return fi.ModTime().UnixMilli()
}

// belowStartLocked counts the oldest segments whose successor starts at or
// below offset: they hold nothing readable.
func (l *Log) belowStartLocked(offset int64) int {
	segs, k := l.segments(), 0
	for k < len(segs)-1 && segs[k+1].base <= offset {
		k++
	}
	return k
}

// deleteOldestLocked removes the n oldest segments from the log and deletes
// their files once no reader holds them.
func (l *Log) deleteOldestLocked(n int, why string) error {
	if n <= 0 {
		return nil
	}
	old := l.segments()
	segs := append([]*segment(nil), old[n:]...)
	if segs[0].base > l.logStart.Load() {
		l.logStart.Store(segs[0].base) // before the list: readers check the start first
	}
	if err := l.epochs.TruncateFromStart(l.logStart.Load()); err != nil {
		l.logger.Error("trimming the leader-epoch checkpoint failed", "dir", l.dir, "err", err)
	}
	l.segs.Store(&segs)
	var errs []error
	for _, s := range old[:n] {
		l.addSize(-s.size.Load())
		if err := s.doom(); err != nil {
			errs = append(errs, err)
		}
		s.release()
		l.logger.Info("deleted segment", "dir", l.dir, "segment", fmt.Sprintf("%020d", s.base), "reason", why)
	}
	return errors.Join(errs...)
}

// DeleteRecordsBefore advances the log start offset to offset, persists it,
// and deletes the segments entirely below it. It returns the new log start
// offset; offset > LogEndOffset gives ErrOffsetOutOfRange.
func (l *Log) DeleteRecordsBefore(offset int64) (int64, error) {
	l.cpMu.Lock()
	defer l.cpMu.Unlock()
	l.mu.Lock()
	if err := l.usableLocked("delete records"); err != nil {
		l.mu.Unlock()
		return 0, err
	}
	if offset > l.leo.Load() || offset < 0 {
		l.mu.Unlock()
		return 0, fmt.Errorf("delete records before %d: log end offset %d: %w", offset, l.leo.Load(), ErrOffsetOutOfRange)
	}
	if offset <= l.logStart.Load() {
		l.mu.Unlock()
		return l.logStart.Load(), nil
	}
	l.logStart.Store(offset)
	err := l.deleteOldestLocked(l.belowStartLocked(offset), "delete records")
	err = errors.Join(err, l.epochs.TruncateFromStart(offset))
	l.mu.Unlock()
	if cerr := l.writeCheckpoint(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	return offset, err
}

// removeStray deletes a leftover file at open.
func (l *Log) removeStray(name string) {
	if err := l.fs.Remove(name); err != nil && !vfs.IsNotExist(err) {
		l.logger.Warn("remove stray file", "file", name, "err", err)
		return
	}
	l.logger.Info("removed stray file", "file", name)
}
