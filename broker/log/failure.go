package log

import (
	"errors"
	"fmt"
)

// A log fails, and goes offline, when the disk may no longer hold what the
// log believes it holds (docs/ONDISK.md, "Storage errors"):
//
//   - an fsync of a segment, an index or the directory failed (EIO): the
//     kernel may have dropped the dirty pages and cleared the error, so a
//     second fsync could succeed over lost data (PostgreSQL's fsyncgate).
//     The recovery point does not advance past the failed flush;
//   - a failed append could not be undone (the truncate back failed too);
//   - a truncation or a compaction swap stopped halfway.
//
// A failed log answers every append, read, flush, truncation and
// DeleteRecords with an error wrapping ErrStorage (the broker's
// KAFKA_STORAGE_ERROR) and writes nothing more, not even at Close. The
// background maintenance calls (MaybeRoll, EnforceRetention, Clean) do
// nothing and return no error: the failure was logged once, when it
// happened, and the maintenance loop would otherwise log it every second. Opening it again (a broker restart) recovers it
// from its last checkpoint: everything after the recovery point is checked
// batch by batch and a torn tail cut, as after a crash.
//
// A write that fails and is undone (ENOSPC, a short write, EIO on write)
// does not fail the log: the append returns its error, nothing of it stays,
// and the next append is tried afresh, so the partition resumes by itself
// once space is freed.

// failLocked takes the log offline with err as the reason (the first reason
// stays). Caller holds l.mu.
func (l *Log) failLocked(err error) error {
	if l.mu.failed == nil {
		l.mu.failed = err
		l.offline.Store(true)
		l.logger.Error("log failed: offline until reopened", "dir", l.dir, "err", err)
	}
	return l.mu.failed
}

// Failed returns why the log went offline, nil while it is healthy.
func (l *Log) Failed() error {
	if !l.offline.Load() {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mu.failed
}

// usableLocked says whether the log takes changes: ErrClosed, or the
// failure (wrapping ErrStorage) that took it offline. Caller holds l.mu.
func (l *Log) usableLocked(op string) error {
	if l.closed.Load() {
		return ErrClosed
	}
	if l.mu.failed != nil {
		return fmt.Errorf("%s: log offline after an earlier failure: %w", op, l.mu.failed)
	}
	return nil
}

// offlineErr is what a read of a failed log returns.
func (l *Log) offlineErr(op string) error {
	if err := l.Failed(); err != nil {
		return fmt.Errorf("%s: log offline after an earlier failure: %w", op, err)
	}
	return errors.Join(ErrStorage, errors.New(op+": log offline"))
}
