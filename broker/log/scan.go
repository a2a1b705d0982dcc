package log

import (
	"errors"
	"fmt"
	"io"
)

const scanChunk = 1 << 20

// batchScanner walks the batches of a segment file, reading it in large
// chunks. After next returns false, err says why the walk stopped early (nil
// at a clean end): a torn or corrupt batch at pos.
type batchScanner struct {
	r      io.ReaderAt
	end    int64 // bytes of the file to walk
	pos    int64 // position of the next batch
	verify bool  // check CRC and record count, not just the header

	buf    []byte
	bufPos int64 // file position of buf[0]

	hdr   BatchHeader
	batch []byte // the current batch; valid until the next call
	err   error
}

func newBatchScanner(r io.ReaderAt, from, end int64, verify bool) *batchScanner {
	return &batchScanner{r: r, pos: from, end: end, verify: verify}
}

// next advances to the next batch.
func (s *batchScanner) next() bool {
	if s.err != nil || s.pos >= s.end {
		return false
	}
	if s.end-s.pos < BatchHeaderSize {
		s.err = fmt.Errorf("%w: torn batch header at %d", ErrCorruptBatch, s.pos)
		return false
	}
	b, err := s.window(s.pos, BatchHeaderSize)
	if err != nil {
		s.err = err
		return false
	}
	h, _ := ParseBatchHeader(b)
	if h.Magic != 2 || h.Length < minBatchLength {
		s.err = fmt.Errorf("%w: bad batch header at %d (magic %d, length %d)", ErrCorruptBatch, s.pos, h.Magic, h.Length)
		return false
	}
	if int64(h.TotalSize()) > s.end-s.pos {
		s.err = fmt.Errorf("%w: torn batch at %d: %d bytes of %d", ErrCorruptBatch, s.pos, s.end-s.pos, h.TotalSize())
		return false
	}
	if s.batch, err = s.window(s.pos, h.TotalSize()); err != nil {
		s.err = err
		return false
	}
	if s.verify {
		if err := checkBatchBody(h, s.batch); err != nil {
			s.err = fmt.Errorf("batch at %d: %w", s.pos, err)
			return false
		}
	}
	s.hdr = h
	s.pos += int64(h.TotalSize())
	return true
}

// window returns n bytes of the file at pos, reading a chunk if needed.
func (s *batchScanner) window(pos int64, n int) ([]byte, error) {
	if pos >= s.bufPos && pos+int64(n) <= s.bufPos+int64(len(s.buf)) {
		off := pos - s.bufPos
		return s.buf[off : off+int64(n)], nil
	}
	want := int(min(max(int64(n), scanChunk), s.end-pos))
	if cap(s.buf) < want {
		s.buf = make([]byte, want)
	}
	s.buf = s.buf[:want]
	got, err := s.r.ReadAt(s.buf, pos)
	s.bufPos = pos
	s.buf = s.buf[:got]
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, storageErr(err, "read batch at %d", pos)
	}
	return s.buf[:n], nil
}
