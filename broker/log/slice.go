package log

import (
	"errors"
	"os"
	"sort"
)

// ReadSlice is Read without the read: it finds the same whole batches (the
// same start, end and rules) and returns where they lie in a segment file,
// so the Fetch path can send them with sendfile(2) and the bytes never
// enter user space (issue 14). The range is found from the batch headers
// and the offset index: the start with findBatch, the end at the batch
// that reaches maxOffset and at the last whole batch within maxBytes (the
// nearest index entry below the limit, then a few headers), never a
// partial batch.
//
// The slice holds a reference on its segment and a pin on its open file:
// the file stays open (the FileCache skips it) and on disk (a segment
// deleted meanwhile is removed at its last release) until Release.
// Retention, compaction's swap and deletion leave a pinned file's bytes as
// they were; only truncation rewrites a file in place, and Intact says
// whether one has begun on the segment since the slice was made.
//
// offset == LogEndOffset or nothing below maxOffset gives (nil, nil).
// ErrNoSlice means the bytes cannot be sent from a file (the log is not on
// the disk filesystem, or its segment is being truncated): use Read.
func (l *Log) ReadSlice(offset int64, maxBytes int, maxOffset int64, minOneBatch bool) (*FileSlice, error) {
	return readSegments(l, offset, maxOffset, func(s *segment, offset int64) (*FileSlice, bool, error) {
		sl, more, err := s.slice(offset, maxBytes, maxOffset, minOneBatch)
		if sl == nil {
			s.release() // a slice keeps the reference until its Release
		}
		return sl, more, err
	})
}

// ErrNoSlice is ReadSlice's answer when the bytes must be read instead.
var ErrNoSlice = errors.New("log: record bytes cannot be sent from the segment file")

// FileSlice is a run of whole batches in a segment's .log file: Len bytes
// at Offset of File. Release it once sent.
type FileSlice struct {
	s    *segment
	f    *openFile
	pos  int64
	n    int
	gen  uint64 // s.gen when the range was found
	done bool
}

// File is the open segment file; valid until Release.
func (sl *FileSlice) File() *os.File { return sl.f.osf }

// Offset is where the bytes start in File.
func (sl *FileSlice) Offset() int64 { return sl.pos }

// Len is the number of bytes.
func (sl *FileSlice) Len() int { return sl.n }

// Intact reports whether no truncation of the segment has begun since the
// slice was made: checked after the bytes were read (sent), true means
// they were the batches the slice was made for.
func (sl *FileSlice) Intact() bool { return sl.s.gen.Load() == sl.gen }

// Release unpins the file and drops the segment reference; a second call
// does nothing.
func (sl *FileSlice) Release() {
	if sl == nil || sl.done {
		return
	}
	sl.done = true
	sl.s.unpin()
	sl.s.release()
}

// slice finds the bytes segment.read would return; see Log.ReadSlice. The
// caller's segment reference passes to the slice when one is returned.
func (s *segment) slice(offset int64, maxBytes int, maxOffset int64, minOneBatch bool) (*FileSlice, bool, error) {
	gen := s.gen.Load()
	if gen&1 != 0 {
		return nil, false, ErrNoSlice // a truncation is under way
	}
	// Pinned first, so the headers read below and the bytes sent later
	// come from one open file.
	f, err := s.pin()
	if err != nil {
		return nil, false, err
	}
	if f.osf == nil {
		s.unpin()
		return nil, false, ErrNoSlice
	}
	pos, h, ok := s.findBatch(offset)
	if !ok {
		s.unpin()
		return nil, true, nil
	}
	if h.BaseOffset >= maxOffset {
		s.unpin()
		return nil, false, nil
	}
	end := pos + int64(h.TotalSize())
	if int64(h.TotalSize()) > int64(maxBytes) {
		if !minOneBatch {
			s.unpin()
			return nil, false, nil
		}
	} else {
		end = s.wholeBatchesEnd(pos, min(pos+int64(maxBytes), s.endBelow(maxOffset)), maxOffset)
	}
	return &FileSlice{s: s, f: f, pos: pos, n: int(end - pos), gen: gen}, false, nil
}

// endBelow is the file position where the batches with base offsets below
// maxOffset end.
func (s *segment) endBelow(maxOffset int64) int64 {
	pos, h, ok := s.findBatch(maxOffset)
	switch {
	case !ok:
		return pos // the segment's end
	case h.BaseOffset >= maxOffset:
		return pos
	}
	return pos + int64(h.TotalSize())
}

// wholeBatchesEnd is the end of the last whole batch that starts at or
// after from (a batch start) and ends by limit, from limit's nearest
// indexed batch start below it; from if none fits.
func (s *segment) wholeBatchesEnd(from, limit, maxOffset int64) int64 {
	pos := max(from, s.batchStartBefore(limit))
	size := s.size.Load()
	for {
		h, ok := s.readBatchHeader(pos, size)
		if !ok || h.BaseOffset >= maxOffset || pos+int64(h.TotalSize()) > limit {
			return pos
		}
		pos += int64(h.TotalSize())
	}
}

// batchStartBefore is the position of the last indexed batch starting at
// or before limit (0 if none).
func (s *segment) batchStartBefore(limit int64) int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	idx := s.mu.idx
	i := sort.Search(len(idx), func(i int) bool { return int64(idx[i].pos) > limit })
	if i == 0 {
		return 0
	}
	return int64(idx[i-1].pos)
}
