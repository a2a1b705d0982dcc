package log

import (
	"errors"
	"sort"
)

// Read returns whole batches starting with the batch that contains offset, up
// to maxBytes in total, never including a batch whose base offset is >=
// maxOffset (the high watermark or last stable offset). If minOneBatch and the
// first batch is larger than maxBytes, it is returned whole anyway (KIP-74).
// offset == LogEndOffset gives (nil, nil); below LogStartOffset or above
// LogEndOffset gives ErrOffsetOutOfRange. The result is a new slice owned by
// the caller, who may hand it back with ReleaseRead when done (readpool.go).
// Read holds no lock while it reads the files.
func (l *Log) Read(offset int64, maxBytes int, maxOffset int64, minOneBatch bool) ([]byte, error) {
	return readSegments(l, offset, maxOffset, func(s *segment, offset int64) ([]byte, bool, error) {
		b, more, err := s.read(offset, maxBytes, maxOffset, minOneBatch)
		s.release()
		return b, more, err
	})
}

// readSegments is Read's and ReadSlice's walk: from the segment holding
// offset, read takes each segment with a reference (which it releases or
// keeps) and says whether the answer lies in the next one instead (more).
// Offsets outside the log give ErrOffsetOutOfRange; offset == LogEndOffset
// or at or above maxOffset gives the zero T.
func readSegments[T any](l *Log, offset, maxOffset int64, read func(s *segment, offset int64) (T, bool, error)) (T, error) {
	var none T
	for {
		if l.closed.Load() {
			return none, ErrClosed
		}
		if l.offline.Load() {
			return none, l.offlineErr("read")
		}
		start, leo := l.logStart.Load(), l.leo.Load()
		if offset < start || offset > leo {
			return none, ErrOffsetOutOfRange
		}
		if offset == leo || offset >= maxOffset {
			return none, nil
		}
		s, ok, err := l.acquireSegment(offset)
		if err != nil {
			return none, err
		}
		if !ok {
			continue // deleted under us: look again
		}
		v, more, err := read(s, offset)
		if err != nil || !more {
			return v, err
		}
		next, ok := l.nextSegmentBase(s.base)
		if !ok {
			return none, nil
		}
		offset = next
	}
}

// acquireSegment takes a reference on the segment that holds offset.
func (l *Log) acquireSegment(offset int64) (*segment, bool, error) {
	segs := l.segments()
	i := sort.Search(len(segs), func(i int) bool { return segs[i].base > offset }) - 1
	if i < 0 {
		return nil, false, ErrOffsetOutOfRange
	}
	if !segs[i].acquire() {
		return nil, false, nil
	}
	return segs[i], true, nil
}

func (l *Log) nextSegmentBase(base int64) (int64, bool) {
	segs := l.segments()
	i := sort.Search(len(segs), func(i int) bool { return segs[i].base > base })
	if i == len(segs) {
		return 0, false
	}
	return segs[i].base, true
}

// acquireAll takes a reference on every segment still open, oldest first.
func (l *Log) acquireAll() []*segment {
	segs := l.segments()
	out := make([]*segment, 0, len(segs))
	for _, s := range segs {
		if s.acquire() {
			out = append(out, s)
		}
	}
	return out
}

func releaseAll(segs []*segment) {
	for _, s := range segs {
		s.release()
	}
}

// OffsetForTimestamp returns the earliest offset at or after the log start
// offset whose record timestamp is >= ts, with that timestamp, exact per
// record as in Kafka: compressed batches are decompressed (at most
// MaxDecompressedBatch bytes each) to find the record. In LogAppendTime
// batches every record carries the batch's maxTimestamp. found=false when
// there is no such record. A batch whose records cannot be read gives an
// error wrapping ErrCorruptBatch. No lock is held while reading or
// decompressing.
func (l *Log) OffsetForTimestamp(ts int64) (offset int64, timestamp int64, found bool, err error) {
	if l.closed.Load() {
		return 0, 0, false, ErrClosed
	}
	if l.offline.Load() {
		return 0, 0, false, l.offlineErr("offset for timestamp")
	}
	segs := l.acquireAll()
	defer releaseAll(segs)
	start := l.logStart.Load()
	for _, s := range segs {
		if maxTs, _ := s.maxTimestamp(); maxTs < ts {
			continue
		}
		r, ok, err := s.offsetForTimestamp(ts, start)
		if err != nil {
			if errors.Is(err, ErrCorruptBatch) {
				l.logger.Warn("timestamp lookup: unreadable batch", "dir", l.dir, "segment", s.base, "err", err)
			}
			return 0, 0, false, err
		}
		if ok {
			return r.offset, r.timestamp, true, nil
		}
	}
	return 0, 0, false, nil
}

func (s *segment) offsetForTimestamp(ts, startOffset int64) (record, bool, error) {
	from := max(startOffset, s.base)
	s.mu.RLock()
	if rel, ok := s.mu.tidx.lookup(ts); ok {
		from = max(from, s.base+int64(rel))
	}
	pos := s.mu.idx.lookup(from - s.base)
	s.mu.RUnlock()
	sc := newBatchScanner(s.reader(), pos, s.size.Load(), false)
	for sc.next() {
		h := sc.hdr
		if h.LastOffset() < startOffset || h.MaxTimestamp < ts {
			continue
		}
		// Like Kafka, a batch whose header promises a timestamp its records
		// do not have is passed over.
		r, ok, err := recordAtTimestamp(sc.batch, h, ts, startOffset)
		if err != nil || ok {
			return r, ok, err
		}
	}
	if sc.err != nil && errors.Is(sc.err, ErrStorage) {
		return record{}, false, sc.err
	}
	return record{}, false, nil
}

// MaxTimestamp returns the offset and timestamp of the first record with the
// largest timestamp in the log (ListOffsets -3, KIP-734), exact per record
// as Kafka 3.8+ answers: the batch that first reached that timestamp is read
// and, if compressed, decompressed. In a LogAppendTime batch that is its
// first record. If the batch cannot be read, the answer is its last offset.
func (l *Log) MaxTimestamp() (offset int64, timestamp int64, found bool) {
	segs := l.acquireAll()
	defer releaseAll(segs)
	timestamp = -1
	var best *segment
	for _, s := range segs {
		if t, off := s.maxTimestamp(); t > timestamp {
			best, offset, timestamp, found = s, off, t, true
		}
	}
	if !found {
		return offset, timestamp, false
	}
	exact, ok, err := best.offsetOfMaxTimestamp(offset, timestamp)
	if err != nil {
		l.logger.Warn("max timestamp lookup: answering at batch granularity", "dir", l.dir, "segment", best.base, "err", err)
	}
	if ok {
		offset = exact
	}
	return offset, timestamp, true
}

// offsetOfMaxTimestamp finds the record with timestamp maxTs in the batch
// holding lastOffset.
func (s *segment) offsetOfMaxTimestamp(lastOffset, maxTs int64) (int64, bool, error) {
	pos, h, ok := s.findBatch(lastOffset)
	if !ok || h.MaxTimestamp != maxTs {
		return 0, false, nil // truncated under us
	}
	if h.LogAppendTime() {
		return h.BaseOffset, true, nil
	}
	b := make([]byte, h.TotalSize())
	if _, err := s.reader().ReadAt(b, pos); err != nil {
		return 0, false, storageErr(err, "read segment %020d at %d", s.base, pos)
	}
	return offsetOfMaxTimestamp(b, h)
}
