package log

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/weirhq/weir/internal/vfs"
)

const (
	deletedSuffix = ".deleted"
	tmpSuffix     = ".tmp"
)

// strayExts are files a crash can leave behind: deleted segments whose last
// reader never finished, compaction outputs (a committed .swap is completed
// first, see completeSwaps), half-written files.
var strayExts = []string{deletedSuffix, cleanedSuffix, swapSuffix, cleanRangeExt, tmpSuffix}

// Open opens or creates the log of one partition in dir and recovers it:
// segments below the recovery point are trusted (their indexes are loaded,
// or rebuilt if missing or damaged); from the segment holding the recovery
// point on, every batch is checked (header, CRC) and a torn or corrupt tail is
// cut at the last whole batch. Stray files are deleted and the producer state
// is loaded from the newest snapshot and the batches after it.
func Open(dir string, cfg Config, opts Options) (*Log, error) {
	l := &Log{fs: vfs.OrDefault(opts.FS), files: opts.Files, dir: dir, logger: opts.Logger, now: opts.Now, closedAt: opts.ClosedAt}
	if l.files == nil {
		l.files = DefaultFileCache
	}
	l.firstUnstable.Store(-1)
	if l.logger == nil {
		l.logger = slog.New(slog.DiscardHandler)
	}
	if l.now == nil {
		l.now = time.Now
	}
	l.mu.cfg = cfg.withDefaults()
	l.mu.lastFlush = l.now()
	l.mu.truncatedTo = math.MaxInt64
	if err := l.fs.MkdirAll(dir, 0o755); err != nil {
		return nil, storageErr(err, "open log %s", dir)
	}
	if err := l.recover(); err != nil {
		l.closeFiles()
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	if err := l.openEpochs(); err != nil {
		l.closeFiles()
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	if err := l.Flush(); err != nil {
		l.closeFiles()
		return nil, fmt.Errorf("open log %s: %w", dir, err)
	}
	l.joinUsage(opts.Usage)
	return l, nil
}

// openEpochs loads the leader-epoch checkpoint and trims it to the
// recovered log; with no checkpoint it is rebuilt from the batch headers.
func (l *Log) openEpochs() error {
	_, statErr := l.fs.Stat(filepath.Join(l.dir, EpochCacheFile))
	c, err := OpenEpochCache(l.fs, l.dir)
	if err != nil {
		l.logger.Warn("rebuilding the leader-epoch checkpoint", "dir", l.dir, "err", err)
		c, statErr = newEpochCache(l.fs, l.dir), fs.ErrNotExist
	}
	l.epochs = c
	if statErr != nil && l.leo.Load() > l.logStart.Load() {
		if err := l.rebuildEpochs(); err != nil {
			return err
		}
	} else if err := l.rederiveEpochs(l.epochsFrom); err != nil {
		return err
	}
	if err := c.TruncateFromEnd(l.leo.Load()); err != nil {
		return err
	}
	return c.TruncateFromStart(l.logStart.Load())
}

// rebuildEpochs scans every batch header for its partition leader epoch.
func (l *Log) rebuildEpochs() error {
	for _, s := range l.segments() {
		sc := newBatchScanner(s.reader(), 0, s.size.Load(), false)
		for sc.next() {
			l.epochs.AssignFromBatch(sc.hdr.PartitionLeaderEpoch, sc.hdr.BaseOffset)
		}
		if sc.err != nil {
			return fmt.Errorf("rebuilding leader epochs from segment %020d: %w", s.base, sc.err)
		}
	}
	return nil
}

// rederiveEpochs reads the leader epochs of the batches at or past from
// (the recovery point) from their headers: the checkpoint is durable only
// for the batches below it (EpochCache.AssignFromBatch). Entries the
// checkpoint has from there on are dropped first and a batch adds an
// entry only when its epoch is newer than every one kept, as Kafka's
// LogSegment.recover does. Open's Flush makes the result durable.
func (l *Log) rederiveEpochs(from int64) error {
	if from >= l.leo.Load() {
		return nil
	}
	l.epochs.dropFrom(from)
	segs := l.segments()
	for i, s := range segs {
		if i+1 < len(segs) && segs[i+1].base <= from {
			continue
		}
		sc := newBatchScanner(s.reader(), 0, s.size.Load(), false)
		for sc.next() {
			if sc.hdr.BaseOffset >= from {
				l.epochs.assignIfNewer(sc.hdr.PartitionLeaderEpoch, sc.hdr.BaseOffset)
			}
		}
		if sc.err != nil {
			return fmt.Errorf("reading leader epochs from segment %020d: %w", s.base, sc.err)
		}
	}
	return nil
}

// closeFiles releases the segments of a log that failed to open.
func (l *Log) closeFiles() {
	if p := l.segs.Load(); p != nil {
		for _, s := range *p {
			s.release()
		}
	}
}

// recover loads the directory. It runs before the Log is shared.
func (l *Log) recover() error {
	bases, err := l.scanDir()
	if err != nil {
		return err
	}
	cp, err := readCheckpoint(l.fs, l.dir)
	if err != nil {
		if !vfs.IsNotExist(err) {
			l.logger.Warn("ignoring checkpoint", "dir", l.dir, "err", err)
		}
		cp = checkpoint{recoveryPoint: -1}
	} else if c := l.closedAt; c != nil && cp == c.from {
		cp = c.to // what CloseAll made durable after this checkpoint
	}
	if len(bases) == 0 {
		bases = []int64{max(cp.logStart, 0)}
		s, err := createSegment(l.fs, l.files, l.dir, bases[0])
		if err != nil {
			return err
		}
		l.segs.Store(&[]*segment{s})
		l.leo.Store(bases[0])
	} else if err := l.loadSegments(bases, cp.recoveryPoint); err != nil {
		return err
	}
	segs := l.segments()
	l.logStart.Store(max(cp.logStart, segs[0].base))
	if l.logStart.Load() > l.leo.Load() {
		l.logger.Warn("log start offset beyond the recovered end: emptying the log", "dir", l.dir,
			"logStartOffset", l.logStart.Load(), "logEndOffset", l.leo.Load())
		if err := l.restartAtLocked(l.logStart.Load()); err != nil {
			return err
		}
	}
	for _, s := range l.segments() {
		l.addSize(s.size.Load())
	}
	// Open ends with a Flush, which fsyncs from the segment holding the
	// recovery point: everything this recovery scanned.
	l.mu.recoveryPoint = min(cp.recoveryPoint, l.leo.Load())
	l.epochsFrom = l.mu.recoveryPoint
	if cp.recoveryPoint < 0 {
		l.mu.recoveryPoint = l.active().base
		// No recovery point known: the leader-epoch checkpoint may lack
		// the epoch of any batch (rederiveEpochs reads them all).
		l.epochsFrom = l.logStart.Load()
	}
	return l.loadProducerStateLocked()
}

// scanDir removes stray files and returns the base offsets of the segments,
// ascending; it also notes the producer snapshots.
func (l *Log) scanDir() ([]int64, error) {
	if err := l.completeSwaps(); err != nil {
		return nil, err
	}
	names, err := l.fs.List(l.dir)
	if err != nil {
		return nil, storageErr(err, "read dir")
	}
	var bases []int64
	indexes := map[int64][]string{}
	for _, name := range names {
		path := filepath.Join(l.dir, name)
		if slices.ContainsFunc(strayExts, func(x string) bool { return strings.HasSuffix(name, x) }) {
			l.removeStray(path)
			continue
		}
		ext := filepath.Ext(name)
		off, ok := parseBase(strings.TrimSuffix(name, ext))
		if !ok {
			continue
		}
		switch ext {
		case ".log":
			bases = append(bases, off)
		case ".index", ".timeindex", ".txnindex":
			indexes[off] = append(indexes[off], path)
		case ".snapshot":
			l.mu.snapshots = append(l.mu.snapshots, off)
		}
	}
	slices.Sort(bases)
	slices.Sort(l.mu.snapshots)
	for off, paths := range indexes {
		if _, found := slices.BinarySearch(bases, off); !found {
			for _, p := range paths {
				l.removeStray(p)
			}
		}
	}
	return bases, nil
}

func parseBase(s string) (int64, bool) {
	if len(s) != 20 {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}

// loadSegments opens the segments, trusting those below the one holding the
// recovery point and the part of that one below it (rp < 0: none known,
// recover all of the last segment).
func (l *Log) loadSegments(bases []int64, rp int64) error {
	from := len(bases) - 1
	if rp >= 0 {
		from = max(0, sortSearch(bases, rp))
	}
	var segs []*segment
	l.segs.Store(&segs)
	for i, base := range bases {
		s, err := openSegment(l.fs, l.files, l.dir, base)
		if err != nil {
			return err
		}
		segs = append(segs, s)
		l.segs.Store(&segs)
		var next int64
		var truncated bool
		switch {
		case i < from:
			if l.loadTrustedIndexes(s) {
				continue
			}
			next, truncated, err = l.reindexLocked(s, true)
		case i == from && rp >= 0 && l.loadTrustedIndexes(s):
			next, truncated, err = l.recoverTailLocked(s, rp)
		default:
			next, truncated, err = l.reindexLocked(s, true)
		}
		if err != nil {
			return err
		}
		l.leo.Store(next)
		if truncated && i >= from && i < len(bases)-1 {
			return l.dropSegmentsAfter(bases[i+1:])
		}
	}
	return nil
}

// loadTrustedIndexes loads the index files of a flushed segment; false (and
// a log line, unless they are simply missing) when they must be rebuilt.
func (l *Log) loadTrustedIndexes(s *segment) bool {
	err := s.loadIndexes()
	if err != nil && !vfs.IsNotExist(err) {
		l.logger.Warn("rebuilding index", "dir", l.dir, "segment", fmt.Sprintf("%020d", s.base), "err", err)
	}
	return err == nil
}

// sortSearch returns the index of the last base <= off, or -1.
func sortSearch(bases []int64, off int64) int {
	i, found := slices.BinarySearch(bases, off)
	if found {
		return i
	}
	return i - 1
}

// dropSegmentsAfter deletes the files of segments that follow a corrupt one
// during recovery: their data is no longer contiguous with the log.
func (l *Log) dropSegmentsAfter(bases []int64) error {
	for _, base := range bases {
		l.logger.Warn("deleting segment after a corrupt one", "dir", l.dir, "segment", fmt.Sprintf("%020d", base))
		for _, ext := range []string{".log", ".index", ".timeindex", ".txnindex"} {
			if err := l.fs.Remove(segmentPath(l.dir, base, ext)); err != nil && !vfs.IsNotExist(err) {
				return storageErr(err, "delete segment %020d", base)
			}
		}
	}
	return nil
}

// reindexLocked scans a whole segment and rebuilds its indexes. With verify
// it checks every batch (CRC, record count, increasing offsets) and cuts the
// file at the first bad one. It returns the offset after the last batch (the
// base offset if there is none) and whether it cut the file.
func (l *Log) reindexLocked(s *segment, verify bool) (int64, bool, error) {
	s.mu.Lock()
	s.resetIndexes()
	s.mu.Unlock()
	verifyFrom := int64(math.MaxInt64)
	if verify {
		verifyFrom = math.MinInt64
	}
	return l.scanLocked(s, 0, verifyFrom)
}

// recoverTailLocked recovers the segment holding the recovery point rp, whose
// indexes were loaded: batches below rp were fsynced with their index entries,
// so it keeps the entries up to rp, walks the headers from the last of them
// and checks only the batches from rp on.
func (l *Log) recoverTailLocked(s *segment, rp int64) (int64, bool, error) {
	s.mu.Lock()
	idx, tidx := s.mu.idx, s.mu.tidx
	s.mu.idx = idx[:sort.Search(len(idx), func(i int) bool { return s.base+int64(idx[i].rel) >= rp })]
	s.mu.tidx = tidx[:sort.Search(len(tidx), func(i int) bool { return s.base+int64(tidx[i].rel) >= rp })]
	s.mu.maxTs, s.mu.offsetOfMaxTs = -1, -1
	if n := len(s.mu.tidx); n > 0 {
		s.mu.maxTs, s.mu.offsetOfMaxTs = s.mu.tidx[n-1].ts, s.base+int64(s.mu.tidx[n-1].rel)
	}
	from := int64(0)
	if n := len(s.mu.idx); n > 0 {
		from = int64(s.mu.idx[n-1].pos)
	}
	s.bytesSinceIndex = 0
	s.mu.Unlock()
	if first, ok := s.readBatchHeader(0, s.size.Load()); ok {
		s.rollBaseMs = first.MaxTimestamp
	}
	return l.scanLocked(s, from, rp)
}

// scanLocked walks a segment's batches from position from, indexing them,
// and checks the CRC and record count of those at or after offset
// verifyFrom. Unless verifyFrom is MaxInt64 (no checks: a rebuild after
// truncation), the file is cut at the first bad batch. It returns the offset
// after the last batch (the base offset if none) and whether it cut the file.
func (l *Log) scanLocked(s *segment, from, verifyFrom int64) (int64, bool, error) {
	interval := l.mu.cfg.IndexIntervalBytes
	next, size := s.base, s.size.Load()
	sc := newBatchScanner(s.reader(), from, size, false)
	var bad error
	s.mu.Lock()
	for sc.next() {
		h := sc.hdr
		start := sc.pos - int64(h.TotalSize())
		if h.BaseOffset >= verifyFrom {
			bad = checkBatchBody(h, sc.batch)
		}
		if bad == nil && (h.BaseOffset < next || !s.fitsOffsets(h.LastOffset())) {
			bad = fmt.Errorf("%w: base offset %d, expected >= %d", ErrCorruptBatch, h.BaseOffset, next)
		}
		if bad != nil {
			bad = fmt.Errorf("batch at %d: %w", start, bad)
			sc.pos = start
			break
		}
		if s.rollBaseMs < 0 {
			s.rollBaseMs = h.MaxTimestamp
		}
		s.indexBatch(h.LastOffset(), h.MaxTimestamp, start, h.TotalSize(), interval)
		next = h.LastOffset() + 1
	}
	s.mu.Unlock()
	if bad == nil {
		bad = sc.err
	}
	if bad != nil && errors.Is(bad, ErrStorage) {
		return 0, false, fmt.Errorf("recover segment %020d: %w", s.base, bad)
	}
	if bad != nil && next == s.base && from > 0 {
		// The indexed batch the walk started from is bad: the trusted part
		// is not what the index says. Check the whole segment instead.
		l.logger.Warn("index points at a bad batch: rescanning the segment", "dir", l.dir,
			"segment", fmt.Sprintf("%020d", s.base), "reason", bad)
		return l.reindexLocked(s, true)
	}
	truncated := false
	if bad != nil && verifyFrom != math.MaxInt64 && sc.pos < size {
		l.logger.Warn("truncating log at the last whole batch", "dir", l.dir, "segment", fmt.Sprintf("%020d", s.base),
			"position", sc.pos, "dropped_bytes", size-sc.pos, "reason", bad)
		if err := s.truncateFile(sc.pos); err != nil {
			return 0, false, storageErr(err, "truncate segment %020d", s.base)
		}
		s.size.Store(sc.pos)
		truncated = true
	}
	if s.rollBaseMs < 0 && s.size.Load() > 0 {
		s.rollBaseMs = l.now().UnixMilli()
	}
	return next, truncated, s.rewriteIndexes()
}
