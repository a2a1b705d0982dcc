package log

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strings"
	"time"

	"github.com/weirhq/weir/internal/vfs"
)

// A cleaned group of segments replaces the originals in three steps, each
// a state recovery can finish or undo (docs/ONDISK.md, "Compaction"):
//
//  1. write <base>.log.cleaned, .index.cleaned, .timeindex.cleaned and
//     <base>.cleanrange.cleaned (the end of the group's offset range),
//     fsync them; a crash now leaves .cleaned files, deleted on open.
//  2. rename them to .swap, the .log last, and fsync the directory; from
//     here the swap is committed: recovery deletes every original whose
//     base offset lies in [base, end) and renames the .swap files in place.
//  3. under l.mu: rename the originals to .deleted, rename the .swap files
//     in place, publish the new segment list, delete the range file.
const (
	cleanedSuffix  = ".cleaned"
	swapSuffix     = ".swap"
	cleanRangeExt  = ".cleanrange"
	cleanRangeMag  = "WCSR"
	cleanRangeSize = 18 // magic | version uint16 | end int64 | crc32c
)

// segmentExts are a segment's files, the .log last: renaming it commits.
var segmentExts = []string{".index", ".timeindex", cleanRangeExt, ".log"}

// errSimulatedCrash stops a cleaning where a test's crash hook says.
var errSimulatedCrash = errors.New("simulated crash")

// crashAt reports whether a test asked the cleaner to stop dead at stage.
func (l *Log) crashAt(stage string) bool { return l.cleanerCrash != nil && l.cleanerCrash(stage) }

// finishGroup commits the cleaned segment w written from group g and
// swaps it in. A single segment that came out unchanged is left alone.
func (l *Log) finishGroup(w *cleanedWriter, g segmentGroup, changed bool, gen uint64, res *CleanResult) error {
	if !changed && len(g.segs) == 1 {
		res.SegmentsUnchanged++
		w.abandon()
		return nil
	}
	if err := w.commit(g); err != nil {
		if !errors.Is(err, errSimulatedCrash) {
			w.abandon()
		}
		return err
	}
	if l.crashAt("swap") {
		return errSimulatedCrash
	}
	l.mu.Lock()
	err := l.swapInLocked(g, w.seg, gen)
	l.mu.Unlock()
	if errors.Is(err, errCleanAborted) {
		w.abandon()
		return err
	}
	if err != nil {
		return err
	}
	w.seg.unpin() // the writer's pin: the segment is the log's now
	res.SegmentsIn += len(g.segs)
	res.SegmentsOut++
	for _, s := range g.segs {
		res.BytesIn += s.size.Load()
	}
	res.BytesOut += w.pos
	return nil
}

// cleanedWriter writes one cleaned segment and its indexes.
type cleanedWriter struct {
	l        *Log
	seg      *segment // the new segment; its .log is open under its .cleaned (later .swap) name
	w        *bufio.Writer
	pos      int64
	interval int
	suffix   string // where its files are now: .cleaned, then .swap, then ""
}

func (l *Log) newCleanedWriter(base int64) (*cleanedWriter, error) {
	path := segmentPath(l.dir, base, ".log"+cleanedSuffix)
	f, err := l.fs.Create(path)
	if err != nil {
		return nil, storageErr(err, "create cleaned segment %020d", base)
	}
	l.mu.Lock()
	interval := l.mu.cfg.IndexIntervalBytes
	l.mu.Unlock()
	// Pinned until swapped in or abandoned: the bufio.Writer writes to f.
	s := newSegment(l.fs, l.files, l.dir, base, f, cleanedSuffix, 0)
	return &cleanedWriter{l: l, seg: s, w: bufio.NewWriterSize(f, 1<<20), interval: interval, suffix: cleanedSuffix}, nil
}

// copySegment filters every batch of s into the writer; changed reports
// whether anything differs from the original.
func (w *cleanedWriter) copySegment(s *segment, f *batchFilter) (changed bool, err error) {
	sc := newBatchScanner(s.reader(), 0, s.size.Load(), true)
	for sc.next() {
		out, ch, err := f.filter(sc.batch, sc.hdr)
		if err != nil {
			return false, fmt.Errorf("clean segment %020d: %w", s.base, err)
		}
		changed = changed || ch
		if out != nil {
			if err := w.write(out, sc.hdr); err != nil {
				return false, err
			}
		}
	}
	if sc.err != nil {
		return false, fmt.Errorf("clean segment %020d: %w", s.base, sc.err)
	}
	return changed, nil
}

// write appends one batch (h: its original header; offsets and
// timestamps are unchanged) and indexes it.
func (w *cleanedWriter) write(b []byte, h BatchHeader) error {
	if _, err := w.w.Write(b); err != nil {
		return storageErr(err, "write cleaned segment %020d", w.seg.base)
	}
	s := w.seg
	s.mu.Lock()
	s.indexBatch(h.LastOffset(), h.MaxTimestamp, w.pos, len(b), w.interval)
	s.mu.Unlock()
	if s.rollBaseMs < 0 {
		s.rollBaseMs = h.MaxTimestamp
	}
	w.pos += int64(len(b))
	return nil
}

// commit makes the cleaned segment durable under .cleaned names (step 1),
// then renames it to .swap (step 2).
func (w *cleanedWriter) commit(g segmentGroup) error {
	s, base := w.seg, w.seg.base
	if err := w.w.Flush(); err != nil {
		return storageErr(err, "write cleaned segment %020d", base)
	}
	if err := s.syncFile(); err != nil {
		return storageErr(err, "sync cleaned segment %020d", base)
	}
	s.size.Store(w.pos)
	// Time-based retention falls back on the file's mtime: keep the newest
	// of the originals', as Kafka does.
	if mt, ok := groupModTime(g); ok {
		_ = w.l.fs.Chtimes(w.path(".log"), mt, mt)
	}
	s.mu.Lock()
	s.appendTimeEntry()
	idx, tidx := s.mu.idx.encode(nil), s.mu.tidx.encode(nil)
	s.mu.idxSaved, s.mu.tidxSaved = len(s.mu.idx), len(s.mu.tidx)
	s.mu.Unlock()
	for _, f := range []struct {
		ext string
		b   []byte
	}{{".index", idx}, {".timeindex", tidx}, {cleanRangeExt, encodeCleanRange(g.end)}} {
		if err := writeIndexTail(w.l.fs, w.path(f.ext), f.b, 0, true, true); err != nil {
			return err
		}
	}
	if w.l.crashAt("cleaned") {
		return errSimulatedCrash
	}
	if err := s.renameLog(swapSuffix, func() error {
		for _, ext := range segmentExts {
			if err := w.l.fs.Rename(w.path(ext), segmentPath(w.l.dir, base, ext+swapSuffix)); err != nil {
				return storageErr(err, "rename cleaned segment %020d to %s", base, swapSuffix)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	w.suffix = swapSuffix
	return syncDir(w.l.fs, w.l.dir)
}

func (w *cleanedWriter) path(ext string) string {
	return segmentPath(w.l.dir, w.seg.base, ext+w.suffix)
}

// abandon closes and deletes the cleaned files (unless a simulated crash
// left them for the test to find).
func (w *cleanedWriter) abandon() {
	w.seg.closeFile()
	for _, ext := range segmentExts {
		w.l.fs.Remove(w.path(ext))
	}
}

func groupModTime(g segmentGroup) (time.Time, bool) {
	var newest time.Time
	for _, s := range g.segs {
		fi, err := s.stat()
		if err != nil {
			return time.Time{}, false
		}
		if fi.ModTime().After(newest) {
			newest = fi.ModTime()
		}
	}
	return newest, true
}

// swapInLocked replaces the group's segments by the cleaned one (step 3).
// errCleanAborted when the group is no longer what was cleaned: truncated,
// deleted by retention, or the log closed. Any other error leaves the
// .swap files for recovery and fails the log. Caller holds l.mu.
func (l *Log) swapInLocked(g segmentGroup, ns *segment, gen uint64) error {
	segs := l.segments()
	i := groupIndex(segs, g.segs)
	if l.closed.Load() || l.mu.failed != nil || l.mu.truncations != gen || i < 0 {
		return errCleanAborted
	}
	for j, old := range g.segs {
		if l.crashAt(fmt.Sprintf("doomed %d/%d", j, len(g.segs))) {
			return errSimulatedCrash
		}
		if err := old.doom(); err != nil {
			return l.failSwapLocked(ns.base, err)
		}
	}
	for _, ext := range segmentExts[:2] {
		if err := renameSwap(l.fs, l.dir, ns.base, ext); err != nil {
			return l.failSwapLocked(ns.base, err)
		}
	}
	if l.crashAt("renamed indexes") {
		return errSimulatedCrash
	}
	if err := ns.renameLog("", func() error { return renameSwap(l.fs, l.dir, ns.base, ".log") }); err != nil {
		return l.failSwapLocked(ns.base, err)
	}
	next := make([]*segment, 0, len(segs)-len(g.segs)+1)
	next = append(append(append(next, segs[:i]...), ns), segs[i+len(g.segs):]...)
	l.segs.Store(&next)
	l.addSize(ns.size.Load())
	for _, old := range g.segs {
		l.addSize(-old.size.Load())
		old.release()
	}
	if err := l.fs.Remove(segmentPath(l.dir, ns.base, cleanRangeExt+swapSuffix)); err != nil {
		l.logger.Warn("removing the clean range file", "dir", l.dir, "err", err)
	}
	l.logger.Info("compacted segments", "dir", l.dir, "segment", fmt.Sprintf("%020d", ns.base),
		"segments_in", len(g.segs), "bytes", ns.size.Load())
	return syncDir(l.fs, l.dir)
}

// groupIndex returns where group sits in segs, or -1 if it is not there
// whole (or would include the active segment).
func groupIndex(segs, group []*segment) int {
	for i, s := range segs {
		if s != group[0] {
			continue
		}
		if i+len(group) > len(segs)-1 {
			return -1
		}
		for j, g := range group {
			if segs[i+j] != g {
				return -1
			}
		}
		return i
	}
	return -1
}

// renameSwap renames <base><ext>.swap to <base><ext>.
func renameSwap(fs vfs.FS, dir string, base int64, ext string) error {
	from, to := segmentPath(dir, base, ext+swapSuffix), segmentPath(dir, base, ext)
	if err := fs.Rename(from, to); err != nil && !vfs.IsNotExist(err) {
		return storageErr(err, "swap in cleaned segment %020d", base)
	}
	return nil
}

// failSwapLocked stops appends after a swap failed halfway: the directory
// holds a committed .swap that only recovery (a restart) completes.
func (l *Log) failSwapLocked(base int64, err error) error {
	return l.failLocked(fmt.Errorf("swapping in cleaned segment %020d (a restart completes it): %w", base, err))
}

func encodeCleanRange(end int64) []byte {
	b := append([]byte(cleanRangeMag), 0, 1)
	b = binary.BigEndian.AppendUint64(b, uint64(end))
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeCleanRange(b []byte) (int64, error) {
	if len(b) != cleanRangeSize || string(b[:4]) != cleanRangeMag || binary.BigEndian.Uint16(b[4:]) != 1 ||
		crc32.Checksum(b[:14], castagnoli) != binary.BigEndian.Uint32(b[14:]) {
		return 0, errors.New("bad clean range file")
	}
	return int64(binary.BigEndian.Uint64(b[6:])), nil
}

// completeSwaps finishes, at open, every swap a crash interrupted after
// step 2: the originals in the swap's range are deleted and the .swap files
// renamed in place. Other .swap and .cleaned files are left to scanDir,
// which deletes them.
func (l *Log) completeSwaps() error {
	entries, err := l.fs.List(l.dir)
	if err != nil {
		return storageErr(err, "read dir")
	}
	done := false
	for _, e := range entries {
		name, ok := strings.CutSuffix(e, ".log"+swapSuffix)
		base, isBase := parseBase(name)
		if !ok || !isBase {
			continue
		}
		if err := l.completeSwap(entries, base); err != nil {
			return err
		}
		done = true
	}
	if done {
		return syncDir(l.fs, l.dir)
	}
	return nil
}

func (l *Log) completeSwap(entries []string, base int64) error {
	end, err := l.swapEnd(base)
	if err != nil {
		return err
	}
	l.logger.Warn("completing an interrupted compaction swap", "dir", l.dir,
		"segment", fmt.Sprintf("%020d", base), "replaces_below", end)
	for _, e := range entries {
		ext := filepath.Ext(e)
		b, ok := parseBase(strings.TrimSuffix(e, ext))
		if !ok || b < base || b >= end || (ext != ".log" && ext != ".index" && ext != ".timeindex") {
			continue
		}
		if err := l.fs.Remove(filepath.Join(l.dir, e)); err != nil && !vfs.IsNotExist(err) {
			return storageErr(err, "delete segment %020d replaced by compaction", b)
		}
	}
	for _, ext := range segmentExts[:2] {
		if err := renameSwap(l.fs, l.dir, base, ext); err != nil {
			return err
		}
	}
	if err := renameSwap(l.fs, l.dir, base, ".log"); err != nil {
		return err
	}
	l.fs.Remove(segmentPath(l.dir, base, cleanRangeExt+swapSuffix))
	return nil
}

// swapEnd is the end of the offset range a .swap segment replaces: from its
// range file or, if that is unreadable, the offset after its last batch
// (Kafka's rule).
func (l *Log) swapEnd(base int64) (int64, error) {
	b, err := vfs.ReadFile(l.fs, segmentPath(l.dir, base, cleanRangeExt+swapSuffix))
	if err == nil {
		if end, derr := decodeCleanRange(b); derr == nil {
			return end, nil
		} else {
			err = derr
		}
	}
	l.logger.Warn("compaction swap without its range: replacing up to its last batch", "dir", l.dir,
		"segment", fmt.Sprintf("%020d", base), "err", err)
	f, err := l.fs.Open(segmentPath(l.dir, base, ".log"+swapSuffix))
	if err != nil {
		return 0, storageErr(err, "open swap segment %020d", base)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, storageErr(err, "stat swap segment %020d", base)
	}
	end := base + 1
	sc := newBatchScanner(f, 0, fi.Size(), false)
	for sc.next() {
		end = sc.hdr.LastOffset() + 1
	}
	return end, nil
}
