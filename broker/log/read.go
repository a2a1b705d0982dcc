package log

import (
	"encoding/binary"
	"errors"
	"sort"
)

// Read returns whole batches starting with the batch that contains offset, up
// to maxBytes in total, never including a batch whose base offset is >=
// maxOffset (the high watermark or last stable offset). If minOneBatch and the
// first batch is larger than maxBytes, it is returned whole anyway (KIP-74).
// offset == LogEndOffset gives (nil, nil); below LogStartOffset or above
// LogEndOffset gives ErrOffsetOutOfRange. The result is a new slice owned by
// the caller. Read holds no lock while it reads the files.
func (l *Log) Read(offset int64, maxBytes int, maxOffset int64, minOneBatch bool) ([]byte, error) {
	for {
		if l.closed.Load() {
			return nil, ErrClosed
		}
		start, leo := l.logStart.Load(), l.leo.Load()
		if offset < start || offset > leo {
			return nil, ErrOffsetOutOfRange
		}
		if offset == leo || offset >= maxOffset {
			return nil, nil
		}
		s, ok, err := l.acquireSegment(offset)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // deleted under us: look again
		}
		b, more, err := s.read(offset, maxBytes, maxOffset, minOneBatch)
		s.release()
		if err != nil || !more {
			return b, err
		}
		next, ok := l.nextSegmentBase(s.base)
		if !ok {
			return nil, nil
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

// OffsetForTimestamp returns the earliest offset whose record timestamp is >=
// ts, with that timestamp. Inside uncompressed batches it finds the exact
// record; for compressed batches it answers with the batch's base offset and
// maxTimestamp. found=false when there is no such record.
func (l *Log) OffsetForTimestamp(ts int64) (offset int64, timestamp int64, found bool, err error) {
	if l.closed.Load() {
		return 0, 0, false, ErrClosed
	}
	segs := l.acquireAll()
	defer releaseAll(segs)
	start := l.logStart.Load()
	for _, s := range segs {
		if maxTs, _ := s.maxTimestamp(); maxTs < ts {
			continue
		}
		off, t, ok, err := s.offsetForTimestamp(ts, start)
		if err != nil || ok {
			return off, t, ok, err
		}
	}
	return 0, 0, false, nil
}

func (s *segment) offsetForTimestamp(ts, startOffset int64) (int64, int64, bool, error) {
	from := max(startOffset, s.base)
	s.mu.RLock()
	if rel, ok := s.mu.tidx.lookup(ts); ok {
		from = max(from, s.base+int64(rel))
	}
	pos := s.mu.idx.lookup(from - s.base)
	s.mu.RUnlock()
	sc := newBatchScanner(s.log, pos, s.size.Load(), false)
	for sc.next() {
		h := sc.hdr
		if h.LastOffset() < startOffset || h.MaxTimestamp < ts {
			continue
		}
		if h.Compression() != 0 || h.LogAppendTime() || h.Control() {
			return max(h.BaseOffset, startOffset), h.MaxTimestamp, true, nil
		}
		if off, t, ok := recordAtTimestamp(sc.batch, h, ts, startOffset); ok {
			return off, t, true, nil
		}
		return max(h.BaseOffset, startOffset), h.MaxTimestamp, true, nil
	}
	if sc.err != nil && errors.Is(sc.err, ErrStorage) {
		return 0, 0, false, sc.err
	}
	return 0, 0, false, nil
}

// recordAtTimestamp decodes the records of an uncompressed batch and returns
// the first one at or after startOffset with timestamp >= ts. Record layout:
// length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
// then key, value and headers, which it skips using the length.
func recordAtTimestamp(batch []byte, h BatchHeader, ts, startOffset int64) (int64, int64, bool) {
	p := batch[BatchHeaderSize:]
	for range h.NumRecords {
		length, n := binary.Varint(p)
		if n <= 0 || length < 0 || int64(len(p)-n) < length {
			return 0, 0, false
		}
		rec := p[n : n+int(length)]
		p = p[n+int(length):]
		if len(rec) < 1 {
			return 0, 0, false
		}
		tsDelta, n1 := binary.Varint(rec[1:])
		if n1 <= 0 {
			return 0, 0, false
		}
		offDelta, n2 := binary.Varint(rec[1+n1:])
		if n2 <= 0 {
			return 0, 0, false
		}
		off, t := h.BaseOffset+offDelta, h.BaseTimestamp+tsDelta
		if off >= startOffset && t >= ts {
			return off, t, true
		}
	}
	return 0, 0, false
}

// MaxTimestamp returns the offset and timestamp of the record with the
// largest timestamp (ListOffsets -3, KIP-734), at batch granularity: the
// offset is the last offset of the batch that carried it.
func (l *Log) MaxTimestamp() (offset int64, timestamp int64, found bool) {
	segs := l.acquireAll()
	defer releaseAll(segs)
	timestamp = -1
	for _, s := range segs {
		if t, off := s.maxTimestamp(); t > timestamp {
			offset, timestamp, found = off, t, true
		}
	}
	return offset, timestamp, found
}
