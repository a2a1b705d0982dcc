package log

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/weirhq/weir/internal/vfs"
)

// segment is one segment of a log: the .log file of whole batches, and its
// sparse indexes, held in memory and written to .index and .timeindex.
type segment struct {
	base    int64
	fs      vfs.FS
	dir     string
	segFile              // the .log file, opened on demand through a FileCache (filecache.go)
	size    atomic.Int64 // bytes of whole batches; readers never read past it

	// refs counts the segment list's reference plus one per reader; the
	// files close at zero. doomed: removed from the log, delete the files
	// (already renamed to .deleted) at zero.
	refs    atomic.Int32
	doomed  atomic.Bool
	doomTag string // set before doomed: the deleted files are base.ext+doomTag+.deleted

	// gen counts truncations of the .log file in place: odd while one is
	// under way (the file cut and size not yet set). A FileSlice sent
	// while it stayed the same was sent intact (slice.go).
	gen atomic.Uint64

	// Writer-only state, touched under Log.mu.
	bytesSinceIndex int
	rollBaseMs      int64 // append time of the first batch (ms); -1 while empty

	mu struct {
		sync.RWMutex
		idx           offsetIndex
		tidx          timeIndex
		maxTs         int64 // largest batch maxTimestamp; -1 when none
		offsetOfMaxTs int64
		idxSaved      int // entries already written to the .index file
		tidxSaved     int
		aborted       []abortedEntry // the .txnindex entries, in marker order (txn.go)
	}
}

func segmentPath(dir string, base int64, ext string) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", base, ext))
}

func (s *segment) path(ext string) string { return segmentPath(s.dir, s.base, ext) }

// newSegment makes a segment whose .log file, f, is open under the name
// base.log+suffix; the file is in fc, pinned once for the caller, who
// unpins it.
func newSegment(fs vfs.FS, fc *FileCache, dir string, base int64, f vfs.File, suffix string, size int64) *segment {
	s := &segment{base: base, fs: fs, dir: dir, rollBaseMs: -1}
	s.fc, s.suffix = fc, suffix
	s.size.Store(size)
	s.refs.Store(1)
	s.mu.maxTs = -1
	s.mu.offsetOfMaxTs = -1
	s.fmu.Lock()
	victims := s.installLocked(f)
	s.fmu.Unlock()
	fc.evict(victims)
	return s
}

// createSegment creates the files of an empty segment.
func createSegment(fs vfs.FS, fc *FileCache, dir string, base int64) (*segment, error) {
	f, err := fs.Create(segmentPath(dir, base, ".log"))
	if err != nil {
		return nil, storageErr(err, "create segment %020d", base)
	}
	s := newSegment(fs, fc, dir, base, f, "", 0)
	s.unpin()
	if err := fs.Remove(s.path(".txnindex")); err != nil && !vfs.IsNotExist(err) {
		s.closeFile()
		return nil, storageErr(err, "create segment %020d", base)
	}
	if err := s.rewriteIndexes(); err != nil {
		s.closeFile()
		return nil, err
	}
	return s, nil
}

// openSegment opens the .log file of an existing segment.
func openSegment(fs vfs.FS, fc *FileCache, dir string, base int64) (*segment, error) {
	f, err := fs.OpenReadWrite(segmentPath(dir, base, ".log"))
	if err != nil {
		return nil, storageErr(err, "open segment %020d", base)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, storageErr(err, "stat segment %020d", base)
	}
	s := newSegment(fs, fc, dir, base, f, "", fi.Size())
	s.unpin()
	return s, nil
}

// segReader reads the segment's .log file, pinning it for each call: what
// a batchScanner reads through.
type segReader struct{ s *segment }

func (r segReader) ReadAt(b []byte, off int64) (int, error) {
	f, err := r.s.pin()
	if err != nil {
		return 0, err
	}
	defer r.s.unpin()
	return f.f.ReadAt(b, off)
}

func (s *segment) reader() segReader { return segReader{s} }

// writeAt writes b at off in the .log file.
func (s *segment) writeAt(b []byte, off int64) (int, error) {
	f, err := s.pin()
	if err != nil {
		return 0, err
	}
	n, err := f.f.WriteAt(b, off)
	s.dirty.Store(true)
	s.unpin()
	return n, err
}

// truncateFile cuts the .log file at size.
func (s *segment) truncateFile(size int64) error {
	f, err := s.pin()
	if err != nil {
		return err
	}
	err = f.f.Truncate(size)
	s.dirty.Store(true)
	s.unpin()
	return err
}

// stat stats the .log file.
func (s *segment) stat() (os.FileInfo, error) {
	f, err := s.pin()
	if err != nil {
		return nil, err
	}
	defer s.unpin()
	return f.f.Stat()
}

// acquire takes a reader's reference; false if the segment is already closed.
func (s *segment) acquire() bool {
	for {
		r := s.refs.Load()
		if r <= 0 {
			return false
		}
		if s.refs.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

// release drops a reference; the last one closes the files and, for a
// deleted segment, removes them.
func (s *segment) release() {
	if s.refs.Add(-1) != 0 {
		return
	}
	s.closeFile()
	if s.doomed.Load() {
		for _, ext := range []string{".log", ".index", ".timeindex", ".txnindex"} {
			s.fs.Remove(s.path(ext + s.doomTag + deletedSuffix))
		}
	}
}

// doomSeq makes deleted segments' names unique: a segment truncated away
// and rolled again has the same base offset, and while a reader still holds
// the first, its file (reopened by name after the FileCache evicted it, and
// removed by name at its last release) must not be the second's.
var doomSeq atomic.Uint64

// doom renames the segment's files to base.ext.N.deleted (N unique in the
// process); they are removed when the last reference goes. The caller
// holds Log.mu and then releases the list's reference.
func (s *segment) doom() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.doomTag = fmt.Sprintf(".%d", doomSeq.Add(1))
	s.doomed.Store(true)
	deleted := s.doomTag + deletedSuffix
	var errs []error
	for _, ext := range []string{".index", ".timeindex", ".txnindex"} {
		if err := s.fs.Rename(s.path(ext), s.path(ext+deleted)); err != nil && !vfs.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	s.fmu.Lock()
	if err := s.fs.Rename(s.path(".log"+s.suffix), s.path(".log"+deleted)); err == nil {
		s.suffix = deleted
	} else if !vfs.IsNotExist(err) {
		errs = append(errs, err)
	}
	s.fmu.Unlock()
	if err := errors.Join(errs...); err != nil {
		return storageErr(err, "delete segment %020d", s.base)
	}
	return nil
}

// indexBatch records a batch appended at pos in the in-memory indexes, the
// way Kafka's LogSegment.append does. Caller holds s.mu and Log.mu.
func (s *segment) indexBatch(lastOffset, maxTs, pos int64, size, interval int) {
	if maxTs > s.mu.maxTs {
		s.mu.maxTs = maxTs
		s.mu.offsetOfMaxTs = lastOffset
	}
	if s.bytesSinceIndex > interval {
		s.mu.idx = append(s.mu.idx, offsetEntry{uint32(lastOffset - s.base), uint32(pos)})
		s.appendTimeEntry()
		s.bytesSinceIndex = 0
	}
	s.bytesSinceIndex += size
}

// appendTimeEntry adds (maxTs, offsetOfMaxTs) to the time index if the
// timestamp grew. Caller holds s.mu.
func (s *segment) appendTimeEntry() {
	n := len(s.mu.tidx)
	if s.mu.maxTs < 0 || (n > 0 && s.mu.tidx[n-1].ts >= s.mu.maxTs) {
		return
	}
	s.mu.tidx = append(s.mu.tidx, timeEntry{s.mu.maxTs, uint32(s.mu.offsetOfMaxTs - s.base)})
}

// resetIndexes forgets the in-memory indexes before a rebuild.
func (s *segment) resetIndexes() {
	s.mu.idx, s.mu.tidx = nil, nil
	s.mu.maxTs, s.mu.offsetOfMaxTs = -1, -1
	s.mu.idxSaved, s.mu.tidxSaved = 0, 0
	s.bytesSinceIndex = 0
}

// lookup returns the position to scan from for offset.
func (s *segment) lookup(offset int64) int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.idx.lookup(offset - s.base)
}

func (s *segment) maxTimestamp() (ts, offset int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.mu.maxTs, s.mu.offsetOfMaxTs
}

// finalize ends a segment's life as the active segment: the time index gets
// a last entry for the largest timestamp, and the indexes are written out.
func (s *segment) finalize(sync bool) error {
	s.mu.Lock()
	s.appendTimeEntry()
	s.mu.Unlock()
	return s.persistIndexes(sync)
}

// persistIndexes writes the index entries not yet on disk, fsyncing the
// files if sync.
func (s *segment) persistIndexes(sync bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.doomed.Load() {
		return nil
	}
	if err := writeIndexTail(s.fs, s.path(".index"), s.mu.idx[s.mu.idxSaved:].encode(nil), int64(s.mu.idxSaved)*offsetEntrySize, false, sync); err != nil {
		return fmt.Errorf("segment %020d: %w", s.base, err)
	}
	s.mu.idxSaved = len(s.mu.idx)
	if err := writeIndexTail(s.fs, s.path(".timeindex"), s.mu.tidx[s.mu.tidxSaved:].encode(nil), int64(s.mu.tidxSaved)*timeEntrySize, false, sync); err != nil {
		return fmt.Errorf("segment %020d: %w", s.base, err)
	}
	s.mu.tidxSaved = len(s.mu.tidx)
	if sync && len(s.mu.aborted) > 0 {
		return s.syncTxnIndexLocked()
	}
	return nil
}

// writeIndexesUnsynced writes the index tails and the whole .txnindex
// without fsyncing them, for a later SyncFS (CloseAll).
func (s *segment) writeIndexesUnsynced() error {
	if err := s.persistIndexes(false); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.doomed.Load() || len(s.mu.aborted) == 0 {
		return nil
	}
	return s.writeTxnIndexLocked(false)
}

// syncTxnIndexLocked writes out and fsyncs the whole .txnindex. Caller
// holds s.mu.
func (s *segment) syncTxnIndexLocked() error { return s.writeTxnIndexLocked(true) }

func (s *segment) writeTxnIndexLocked(sync bool) error {
	var b []byte
	for _, e := range s.mu.aborted {
		b = e.encode(b)
	}
	if err := writeIndexTail(s.fs, s.path(".txnindex"), b, 0, true, sync); err != nil {
		return fmt.Errorf("segment %020d: %w", s.base, err)
	}
	return nil
}

// rewriteIndexes replaces both index files with the in-memory indexes.
func (s *segment) rewriteIndexes() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := writeIndexTail(s.fs, s.path(".index"), s.mu.idx.encode(nil), 0, true, false); err != nil {
		return fmt.Errorf("segment %020d: %w", s.base, err)
	}
	s.mu.idxSaved = len(s.mu.idx)
	if err := writeIndexTail(s.fs, s.path(".timeindex"), s.mu.tidx.encode(nil), 0, true, false); err != nil {
		return fmt.Errorf("segment %020d: %w", s.base, err)
	}
	s.mu.tidxSaved = len(s.mu.tidx)
	return nil
}

// writeIndexTail writes b at off in an index file, truncating the file to
// its real size (off+len(b)) so it never carries stale entries.
func writeIndexTail(fs vfs.FS, path string, b []byte, off int64, truncate, sync bool) error {
	if len(b) == 0 && !truncate && !sync {
		return nil
	}
	open := fs.OpenReadWrite
	if truncate {
		open = fs.Create
	}
	f, err := open(path)
	if err != nil {
		return storageErr(err, "write index %s", filepath.Base(path))
	}
	defer f.Close()
	if len(b) > 0 {
		if _, err := f.WriteAt(b, off); err != nil {
			return storageErr(err, "write index %s", filepath.Base(path))
		}
	}
	if err := f.Truncate(off + int64(len(b))); err != nil {
		return storageErr(err, "trim index %s", filepath.Base(path))
	}
	if sync {
		if err := f.Sync(); err != nil {
			return storageErr(err, "sync index %s", filepath.Base(path))
		}
	}
	return nil
}

// loadIndexes reads and sanity-checks the index files of a segment that was
// flushed before the last shutdown.
func (s *segment) loadIndexes() error {
	ib, err := vfs.ReadFile(s.fs, s.path(".index"))
	if err != nil {
		return err
	}
	tb, err := vfs.ReadFile(s.fs, s.path(".timeindex"))
	if err != nil {
		return err
	}
	idx, err := decodeOffsetIndex(ib, s.size.Load())
	if err != nil {
		return err
	}
	tidx, err := decodeTimeIndex(tb)
	if err != nil {
		return err
	}
	if err := s.checkLastIndexEntry(idx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.idx, s.mu.tidx = idx, tidx
	s.mu.idxSaved, s.mu.tidxSaved = len(idx), len(tidx)
	if n := len(tidx); n > 0 {
		s.mu.maxTs, s.mu.offsetOfMaxTs = tidx[n-1].ts, s.base+int64(tidx[n-1].rel)
	}
	return nil
}

// checkLastIndexEntry checks that the last offset index entry points at a
// batch whose last offset it names.
func (s *segment) checkLastIndexEntry(idx offsetIndex) error {
	if len(idx) == 0 {
		return nil
	}
	e := idx[len(idx)-1]
	var hb [BatchHeaderSize]byte
	if _, err := s.readAt(hb[:], int64(e.pos)); err != nil {
		return fmt.Errorf("%w: read batch at %d: %v", errBadIndex, e.pos, err)
	}
	h, _ := ParseBatchHeader(hb[:])
	if h.Magic != 2 || h.LastOffset() != s.base+int64(e.rel) {
		return fmt.Errorf("%w: last entry (%d, %d) does not match the batch there", errBadIndex, e.rel, e.pos)
	}
	return nil
}

// readAt reads a few bytes (a batch header, into the caller's stack) of
// the .log file at off. A stack buffer passed through the vfs.File
// interface would escape to the heap, an allocation per header on the read
// path, so the disk's *os.File is called directly and other filesystems
// read through a copy.
func (s *segment) readAt(b []byte, off int64) (int, error) {
	f, err := s.pin()
	if err != nil {
		return 0, err
	}
	defer s.unpin()
	if f.osf != nil {
		return f.osf.ReadAt(b, off)
	}
	return readAtCopy(f.f, b, off)
}

func readAtCopy(f vfs.File, b []byte, off int64) (int, error) {
	tmp := make([]byte, len(b))
	n, err := f.ReadAt(tmp, off)
	copy(b, tmp[:n])
	return n, err
}

// fitsOffsets reports whether offsets up to last can be indexed relative to
// the segment's base.
func (s *segment) fitsOffsets(last int64) bool { return last-s.base <= math.MaxUint32 }

// readBatchHeader reads the header of the batch at pos; ok=false at the end
// of the segment or when what is there is not a batch.
func (s *segment) readBatchHeader(pos, size int64) (BatchHeader, bool) {
	if pos+BatchHeaderSize > size {
		return BatchHeader{}, false
	}
	var hb [BatchHeaderSize]byte
	if n, err := s.readAt(hb[:], pos); n < len(hb) {
		_ = err // a short read: truncated under us
		return BatchHeader{}, false
	}
	h, _ := ParseBatchHeader(hb[:])
	if h.Magic != 2 || h.Length < minBatchLength || pos+int64(h.TotalSize()) > size {
		return BatchHeader{}, false
	}
	return h, true
}

// findBatch returns the position and header of the first batch whose last
// offset is >= offset; ok=false when the segment has none.
func (s *segment) findBatch(offset int64) (int64, BatchHeader, bool) {
	size := s.size.Load()
	pos := s.lookup(offset)
	for {
		h, ok := s.readBatchHeader(pos, size)
		if !ok {
			return pos, BatchHeader{}, false
		}
		if h.LastOffset() >= offset {
			return pos, h, true
		}
		pos += int64(h.TotalSize())
	}
}

// read returns whole batches from the one containing offset; see Log.Read.
// more=true when the segment holds nothing at or after offset, so the next
// segment should be tried.
func (s *segment) read(offset int64, maxBytes int, maxOffset int64, minOneBatch bool) (b []byte, more bool, err error) {
	pos, h, ok := s.findBatch(offset)
	if !ok {
		return nil, true, nil
	}
	if h.BaseOffset >= maxOffset {
		return nil, false, nil
	}
	size := s.size.Load()
	n := min(int64(maxBytes), size-pos)
	if int64(h.TotalSize()) > n {
		if !minOneBatch {
			return nil, false, nil
		}
		n = int64(h.TotalSize())
	}
	buf := readBuffer(n)
	got, err := s.reader().ReadAt(buf, pos)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, false, storageErr(err, "read segment %020d at %d", s.base, pos)
	}
	return buf[:wholeBatches(buf[:got], maxOffset)], false, nil
}

// wholeBatches returns the length of the prefix of b made of whole batches
// whose base offsets are below maxOffset.
func wholeBatches(b []byte, maxOffset int64) int {
	end := 0
	for len(b)-end >= BatchHeaderSize {
		h, _ := ParseBatchHeader(b[end:])
		if h.Magic != 2 || h.Length < minBatchLength || h.TotalSize() > len(b)-end || h.BaseOffset >= maxOffset {
			break
		}
		end += h.TotalSize()
	}
	return end
}
