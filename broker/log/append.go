package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// AppendOptions are the leader's settings for one Append.
type AppendOptions struct {
	LeaderEpoch   int32     // written into partitionLeaderEpoch of every batch
	LogAppendTime bool      // message.timestamp.type=LogAppendTime: set attribute bit 3, maxTimestamp=now, recompute CRC
	Now           time.Time // append time (ms precision); zero: the log's clock
	// Admit, when set, is asked with the bytes about to be written, after
	// the duplicate check (a retry of a batch already in the log is
	// acknowledged without asking) and under the log's lock; an error
	// refuses the append and is returned as is. It must not take locks.
	Admit func(n int64) error
	// FromCoordinator: the batches are a coordinator's (Kafka's
	// AppendOrigin.Coordinator: TxnOffsetCommit's transactional offsets),
	// written without sequence numbers, so none are checked.
	FromCoordinator bool
}

// AppendInfo describes what an Append did.
type AppendInfo struct {
	FirstOffset, LastOffset int64 // offsets assigned (for a duplicate: those of the original batch)
	LogAppendTime           int64 // ms, or -1 when CreateTime
	LogStartOffset          int64
	Duplicate               bool // idempotent retry of a batch already in the log: nothing appended
}

// Append assigns offsets to batches checked by ValidateBatches (hdrs are its
// result for records), checks and updates the idempotent producer state, and
// writes the batches to the active segment with one write. Only baseOffset
// and partitionLeaderEpoch are patched (plus attributes, maxTimestamp and the
// CRC for LogAppendTime). records belongs to the log after the call. If a
// batch is a retry of one of the producer's last five, nothing is appended
// and the original's offsets are returned with Duplicate set.
func (l *Log) Append(records []byte, hdrs []BatchHeader, opts AppendOptions) (AppendInfo, error) {
	now := opts.Now
	if now.IsZero() {
		now = l.now()
	}
	l.mu.Lock()
	info, flush, err := l.appendClient(records, hdrs, opts, now)
	l.mu.Unlock()
	if err == nil && flush {
		if err := l.flush(); err != nil {
			return info, fmt.Errorf("append: %w", err)
		}
	}
	return info, err
}

func (l *Log) appendClient(records []byte, in []BatchHeader, opts AppendOptions, now time.Time) (AppendInfo, bool, error) {
	if err := l.appendable(records, in); err != nil {
		return AppendInfo{}, false, err
	}
	nowMs := now.UnixMilli()
	info := AppendInfo{FirstOffset: l.leo.Load(), LogAppendTime: -1, LogStartOffset: l.logStart.Load()}
	if opts.LogAppendTime {
		info.LogAppendTime = nowMs
	}
	hdrs := make([]BatchHeader, len(in))
	u := producerUpdate{state: l.mu.producers}
	next, at := info.FirstOffset, 0
	for i, h := range in {
		b := records[at : at+h.TotalSize()]
		at += len(b)
		if err := checkRecordCount(h); err != nil {
			return AppendInfo{}, false, fmt.Errorf("append: batch %d: %w", i, err)
		}
		h.BaseOffset, h.PartitionLeaderEpoch = next, opts.LeaderEpoch
		if opts.LogAppendTime {
			h.Attributes |= attrTimestampType
			h.MaxTimestamp = nowMs
		}
		if h.ProducerID >= 0 && opts.FromCoordinator {
			// No sequence to check, but a zombie's epoch is fenced.
			if e := u.entry(h.ProducerID); e != nil && h.ProducerEpoch < e.epoch {
				return AppendInfo{}, false, fmt.Errorf("append: producer %d: epoch %d is older than %d: %w", h.ProducerID, h.ProducerEpoch, e.epoch, ErrInvalidProducerEpoch)
			}
			u.stage(h, b)
		} else if h.ProducerID >= 0 {
			dup, isDup, err := u.client(h, b)
			if err != nil {
				return AppendInfo{}, false, fmt.Errorf("append: %w", err)
			}
			if isDup {
				info.FirstOffset, info.LastOffset, info.Duplicate = dup.firstOffset, dup.lastOffset, true
				if opts.LogAppendTime {
					info.LogAppendTime = dup.timestamp
				}
				return info, false, nil
			}
		}
		hdrs[i] = h
		next = h.LastOffset() + 1
	}
	info.LastOffset = next - 1
	if opts.Admit != nil {
		if err := opts.Admit(int64(len(records))); err != nil {
			return AppendInfo{}, false, err
		}
	}
	pos := 0
	for _, h := range hdrs {
		b := records[pos : pos+h.TotalSize()]
		patchBatch(b, h.BaseOffset, h.PartitionLeaderEpoch)
		if opts.LogAppendTime {
			setLogAppendTime(b, nowMs)
		}
		pos += len(b)
	}
	if err := l.writeLocked(records, hdrs, nowMs); err != nil {
		return AppendInfo{}, false, err
	}
	u.commit()
	l.completeTxnsLocked(&u)
	return info, l.shouldFlushLocked(now), nil
}

// AppendReplica appends batches that already carry their offsets (follower
// replication). They must start at or after the log end offset (after it
// when the leader's log was compacted: as in Kafka, a follower takes the
// gap); offsets, leader epochs and timestamps are kept, and producer state
// is updated without checks.
func (l *Log) AppendReplica(records []byte, hdrs []BatchHeader) error {
	now := l.now()
	l.mu.Lock()
	flush, err := l.appendReplicaLocked(records, hdrs, now)
	l.mu.Unlock()
	if err == nil && flush {
		err = l.flush()
	}
	return err
}

func (l *Log) appendReplicaLocked(records []byte, hdrs []BatchHeader, now time.Time) (bool, error) {
	if err := l.appendable(records, hdrs); err != nil {
		return false, err
	}
	next := l.leo.Load()
	if hdrs[0].BaseOffset < next {
		return false, fmt.Errorf("append replica: first offset %d below the log end offset %d: %w", hdrs[0].BaseOffset, next, ErrOffsetOutOfRange)
	}
	u := producerUpdate{state: l.mu.producers}
	pos := 0
	for i, h := range hdrs {
		if h.BaseOffset < next || int64(binary.BigEndian.Uint64(records[pos:])) != h.BaseOffset {
			return false, fmt.Errorf("append replica: batch %d at offset %d, expected >= %d: %w", i, h.BaseOffset, next, ErrCorruptBatch)
		}
		if h.ProducerID >= 0 {
			u.stage(h, records[pos:pos+h.TotalSize()])
		}
		next = h.LastOffset() + 1
		pos += h.TotalSize()
	}
	if err := l.writeLocked(records, hdrs, now.UnixMilli()); err != nil {
		return false, err
	}
	u.commit()
	l.completeTxnsLocked(&u)
	return l.shouldFlushLocked(now), nil
}

// appendable checks that the log takes appends and that hdrs describe records.
func (l *Log) appendable(records []byte, hdrs []BatchHeader) error {
	if err := l.usableLocked("append"); err != nil {
		return err
	}
	if len(hdrs) == 0 {
		return fmt.Errorf("append: no batches: %w", ErrCorruptBatch)
	}
	pos := 0
	for i, h := range hdrs {
		if h.Length < minBatchLength || len(records)-pos < h.TotalSize() ||
			int32(binary.BigEndian.Uint32(records[pos+8:])) != h.Length {
			return fmt.Errorf("append: header %d does not describe the batch at byte %d: %w", i, pos, ErrCorruptBatch)
		}
		pos += h.TotalSize()
	}
	if pos != len(records) {
		return fmt.Errorf("append: %d bytes after the last batch: %w", len(records)-pos, ErrCorruptBatch)
	}
	return nil
}

// writeLocked writes batches with their final offsets to the active segment
// (rolling first if needed) and indexes them. Caller holds l.mu.
func (l *Log) writeLocked(records []byte, hdrs []BatchHeader, nowMs int64) error {
	last := hdrs[len(hdrs)-1].LastOffset()
	if err := l.maybeRollLocked(int64(len(records)), last, nowMs); err != nil {
		return err
	}
	s := l.active()
	start := s.size.Load()
	if _, err := s.writeAt(records, start); err != nil {
		werr := storageErr(err, "append to segment %020d at %d", s.base, start)
		if terr := s.truncateFile(start); terr != nil {
			return l.failLocked(fmt.Errorf("cannot undo a partial write: %w", errors.Join(werr, terr)))
		}
		return werr
	}
	interval := l.mu.cfg.IndexIntervalBytes
	s.mu.Lock()
	pos := start
	for _, h := range hdrs {
		s.indexBatch(h.LastOffset(), h.MaxTimestamp, pos, h.TotalSize(), interval)
		pos += int64(h.TotalSize())
	}
	s.mu.Unlock()
	if s.rollBaseMs < 0 {
		s.rollBaseMs = nowMs
	}
	s.size.Store(pos)
	l.addSize(int64(len(records)))
	l.leo.Store(last + 1)
	for _, h := range hdrs {
		l.epochs.AssignFromBatch(h.PartitionLeaderEpoch, h.BaseOffset)
	}
	return nil
}

func (l *Log) shouldFlushLocked(now time.Time) bool {
	cfg := l.mu.cfg
	if cfg.FlushMessages > 0 && l.leo.Load()-l.mu.recoveryPoint >= cfg.FlushMessages {
		return true
	}
	return cfg.FlushMs > 0 && now.Sub(l.mu.lastFlush) >= cfg.FlushMs
}

// maybeRollLocked rolls the active segment if an append of n bytes ending at
// offset last does not belong in it: segment.bytes, segment.ms, a full index
// or relative offsets that would overflow.
func (l *Log) maybeRollLocked(n, last, nowMs int64) error {
	s, cfg := l.active(), l.mu.cfg
	if s.size.Load() == 0 {
		return nil
	}
	s.mu.RLock()
	full := len(s.mu.idx)*offsetEntrySize >= cfg.SegmentIndexBytes || len(s.mu.tidx)*timeEntrySize >= cfg.SegmentIndexBytes
	s.mu.RUnlock()
	if full || s.size.Load()+n > cfg.SegmentBytes || !s.fitsOffsets(last) || l.segmentExpired(s, nowMs) {
		return l.rollLocked()
	}
	return nil
}

func (l *Log) segmentExpired(s *segment, nowMs int64) bool {
	ms := l.mu.cfg.SegmentMs.Milliseconds()
	return ms > 0 && s.rollBaseMs >= 0 && nowMs-s.rollBaseMs >= ms
}

// MaybeRoll rolls the active segment if segment.ms has elapsed since its
// first batch was appended. The server calls it periodically.
func (l *Log) MaybeRoll(now time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return ErrClosed
	}
	if l.mu.failed != nil {
		return nil // offline: nothing to maintain (failure.go)
	}
	s := l.active()
	if s.size.Load() == 0 || !l.segmentExpired(s, now.UnixMilli()) {
		return nil
	}
	return l.rollLocked()
}

// rollLocked starts a new active segment at the log end offset, finalizes the
// old one and snapshots the producer state there.
func (l *Log) rollLocked() error {
	leo, old := l.leo.Load(), l.active()
	if err := old.finalize(false); err != nil {
		return fmt.Errorf("roll: %w", err)
	}
	s, err := createSegment(l.fs, l.files, l.dir, leo)
	if err != nil {
		return fmt.Errorf("roll: %w", err)
	}
	segs := append(append(make([]*segment, 0, len(l.segments())+1), l.segments()...), s)
	l.segs.Store(&segs)
	old.mu.Lock()
	if len(old.mu.aborted) > 0 {
		// The snapshot below covers the old segment's markers: its index
		// must be on disk first, since recovery replays only past it.
		if err := old.syncTxnIndexLocked(); err != nil {
			l.logger.Warn("sync aborted transaction index at roll", "dir", l.dir, "err", err)
		}
	}
	old.mu.Unlock()
	if err := l.writeSnapshotLocked(leo); err != nil {
		l.logger.Warn("producer snapshot at roll", "dir", l.dir, "err", err)
	}
	return nil
}
