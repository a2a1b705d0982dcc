package log

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Log compaction (cleanup.policy=compact), Kafka's LogCleaner for one
// partition. Clean plans under l.mu, then reads the segments and writes the
// cleaned copies holding no lock (appends, reads and flushes go on), and
// takes l.mu again only to swap each cleaned group of segments into the
// list. Readers that hold an old segment keep reading its file (renamed to
// .deleted, removed on its last release).
//
// The log splits into a clean section, [log start, first dirty offset),
// compacted before, and a dirty section from the first dirty offset (the
// cleaner checkpoint) up to the first uncleanable offset: the active
// segment, the caller's MaxOffset (high watermark), and the first segment
// with a record newer than min.compaction.lag.ms. A cleaning maps each key
// of the dirty section to its last offset, then rewrites every segment from
// the start of the log to the end of the dirty section keeping, per key,
// only that record. Offsets never change: a batch keeps its header and
// loses records. File map: cleaner.go (planning, Clean), cleaner_filter.go
// (offset map, records, batch rewriting), cleaner_swap.go (cleaned files,
// swap, crash recovery), cleaner_checkpoint.go.

// CleanOptions are a compacted topic's settings for one Clean.
type CleanOptions struct {
	MaxOffset         int64         // clean only below it: the high watermark (first unstable offset)
	DeleteRetention   time.Duration // delete.retention.ms: how long a tombstone outlives its first cleaning
	MinCompactionLag  time.Duration // min.compaction.lag.ms: younger records are not compacted
	MaxCompactionLag  time.Duration // max.compaction.lag.ms: older dirty records are compacted whatever the ratio (<=0 or huge: off)
	MinCleanableRatio float64       // min.cleanable.dirty.ratio: dirty bytes / (clean + dirty bytes) needed to clean
	Backoff           time.Duration // least time between two cleanings (0: DefaultCleanBackoff)
	MaxMapBytes       int64         // memory for the key → offset map (0: DefaultMaxMapBytes)
}

const (
	// DefaultCleanBackoff is the least time between two cleanings of a log.
	DefaultCleanBackoff = 2 * time.Second
	// DefaultMaxMapBytes bounds the offset map, as log.cleaner.dedupe.buffer.size does.
	DefaultMaxMapBytes = 128 << 20
	// cleanFailureBackoff is how long a log whose cleaning failed waits.
	cleanFailureBackoff = time.Minute
)

// CleanResult describes what a Clean did.
type CleanResult struct {
	Cleaned                  bool    // segments were rewritten (or found clean)
	Reason                   string  // why it cleaned: "dirty ratio", "max compaction lag", "delete horizon"
	DirtyRatio               float64 // at planning
	FirstDirty, End          int64   // the dirty section mapped: [FirstDirty, End)
	SegmentsIn, SegmentsOut  int
	BytesIn, BytesOut        int64
	RecordsRead, RecordsKept int64
	TombstonesDropped        int64
	Aborted                  bool // a concurrent truncation or deletion changed the segments: nothing swapped
	Took                     time.Duration
	NextDeleteHorizon        int64 // unix ms when a kept tombstone becomes removable; MaxInt64 if none
	SegmentsUnchanged        int   // single segments that would come out the same: not rewritten
	EmptyBatchesKept         int   // producers' newest batches kept with no records
}

// errCleanAborted: the segments changed under the cleaner; it tries again later.
var errCleanAborted = errors.New("segments changed during cleaning")

// Clean compacts the log if it is due: the dirty ratio is at least
// MinCleanableRatio, or a dirty record is older than MaxCompactionLag, or a
// kept tombstone's delete horizon has passed. It returns quickly when the
// log was cleaned less than Backoff ago. Clean calls are serialised; the
// broker's maintenance loop makes them.
func (l *Log) Clean(now time.Time, opts CleanOptions) (CleanResult, error) {
	l.cleanMu.Lock()
	defer l.cleanMu.Unlock()
	if l.closed.Load() {
		return CleanResult{}, ErrClosed
	}
	if l.offline.Load() {
		return CleanResult{}, nil // offline: nothing to maintain (failure.go)
	}
	if now.Before(l.cleaner.notBefore) {
		return CleanResult{}, nil
	}
	l.loadCleanerCheckpoint()
	p, ok := l.planClean(now, opts)
	if !ok {
		return CleanResult{DirtyRatio: p.ratio}, nil
	}
	defer releaseAll(p.segs)
	start := time.Now()
	res, err := l.runClean(p, now, opts)
	res.Took = time.Since(start)
	backoff := opts.Backoff
	if backoff <= 0 {
		backoff = DefaultCleanBackoff
	}
	switch {
	case errors.Is(err, errCleanAborted):
		res.Aborted, err = true, nil
	case err != nil:
		backoff = max(backoff, cleanFailureBackoff)
		err = fmt.Errorf("clean %s: %w", l.dir, err)
	}
	l.cleaner.notBefore = now.Add(backoff)
	return res, err
}

// cleanPlan is what planClean decided: the segments to read (references
// held), oldest first, and where the dirty section starts.
type cleanPlan struct {
	segs       []*segment // from the first segment to the last cleanable one
	ends       []int64    // ends[i]: the base offset of the segment after segs[i]
	dirtyIdx   int        // segs[dirtyIdx] holds the first dirty offset
	firstDirty int64
	ratio      float64
	reason     string
	gen        uint64          // l.mu.truncations when planned
	lastBatch  map[int64]int64 // producer id → last offset of its last batch
	aborted    abortedSet      // the aborted transactions' offset ranges (txn.go)
	cfg        Config
}

// planClean decides whether the log is due for cleaning and takes
// references on the segments to clean.
func (l *Log) planClean(now time.Time, opts CleanOptions) (cleanPlan, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	segs := l.segments()
	sec := l.sectionsLocked(segs, now, opts)
	p := cleanPlan{firstDirty: sec.firstDirty, gen: l.mu.truncations, cfg: l.mu.cfg}
	if sec.dirtyBytes > 0 {
		p.ratio = float64(sec.dirtyBytes) / float64(sec.cleanBytes+sec.dirtyBytes)
	}
	if sec.end == sec.first {
		return p, false
	}
	switch {
	case sec.dirtyBytes > 0 && p.ratio >= opts.MinCleanableRatio:
		p.reason = "dirty ratio"
	case sec.dirtyBytes > 0 && l.compactionLagExceeded(segs[sec.dirty], now, opts.MaxCompactionLag):
		p.reason = "max compaction lag"
	case l.cleaner.cp.nextHorizon <= now.UnixMilli():
		p.reason = "delete horizon"
	default:
		return p, false
	}
	for i := sec.first; i < sec.end; i++ {
		if !segs[i].acquire() {
			releaseAll(p.segs)
			return p, false
		}
		p.segs = append(p.segs, segs[i])
		p.ends = append(p.ends, segs[i+1].base)
	}
	p.dirtyIdx = sec.dirty - sec.first
	p.lastBatch = l.producerLastBatchesLocked()
	p.aborted = abortedRanges(segs)
	return p, true
}

// sections is the split of the segment list a cleaning works on: segs[first:end]
// are cleanable (inactive, wholly below the first uncleanable offset), of
// which segs[dirty:end] hold the dirty section, from firstDirty.
type sections struct {
	first, dirty, end      int
	firstDirty             int64
	cleanBytes, dirtyBytes int64
}

func (l *Log) sectionsLocked(segs []*segment, now time.Time, opts CleanOptions) sections {
	start, leo := l.logStart.Load(), l.leo.Load()
	sec := sections{firstDirty: l.cleaner.cp.firstDirty}
	if sec.firstDirty < start || sec.firstDirty > leo || l.mu.truncatedTo < sec.firstDirty {
		sec.firstDirty = start
	}
	l.mu.truncatedTo = math.MaxInt64
	for sec.first < len(segs)-1 && segs[sec.first+1].base <= start {
		sec.first++ // wholly below the log start: retention deletes it
	}
	limit := l.uncleanableOffsetLocked(segs, sec.firstDirty, now, opts)
	sec.end, sec.dirty = sec.first, sec.first
	for sec.end < len(segs)-1 && segs[sec.end+1].base <= limit {
		sec.end++
	}
	for sec.dirty < sec.end && segs[sec.dirty+1].base <= sec.firstDirty {
		sec.dirty++
	}
	for i := sec.first; i < sec.end; i++ {
		if i < sec.dirty {
			sec.cleanBytes += segs[i].size.Load()
		} else {
			sec.dirtyBytes += segs[i].size.Load()
		}
	}
	return sec
}

// uncleanableOffsetLocked is the first offset the cleaner may not touch:
// the active segment, maxOffset, and the first dirty segment holding a
// record younger than min.compaction.lag.ms.
func (l *Log) uncleanableOffsetLocked(segs []*segment, firstDirty int64, now time.Time, opts CleanOptions) int64 {
	limit := min(segs[len(segs)-1].base, max(opts.MaxOffset, 0))
	if fu := l.firstUnstable.Load(); fu >= 0 {
		// An undecided transaction's records must not shadow older
		// values: cleaning stops at the first unstable offset, as Kafka's.
		limit = min(limit, fu)
	}
	if opts.MinCompactionLag <= 0 {
		return limit
	}
	horizon := saturatingSub(now.UnixMilli(), opts.MinCompactionLag)
	for i, s := range segs[:len(segs)-1] {
		if segs[i+1].base <= firstDirty {
			continue
		}
		if s.base >= limit {
			break
		}
		if segmentLargestTimestamp(s) > horizon {
			return min(limit, s.base)
		}
	}
	return limit
}

// compactionLagExceeded reports whether the first dirty segment's first
// batch is older than max.compaction.lag.ms (Kafka looks at the same).
func (l *Log) compactionLagExceeded(s *segment, now time.Time, lag time.Duration) bool {
	if lag <= 0 || lag >= time.Duration(math.MaxInt64)/2 {
		return false
	}
	h, ok := s.readBatchHeader(0, s.size.Load())
	return ok && h.MaxTimestamp < saturatingSub(now.UnixMilli(), lag)
}

// saturatingSub is ms - d in unix ms, without overflowing for "never".
func saturatingSub(ms int64, d time.Duration) int64 {
	dm := d.Milliseconds()
	if dm > 0 && ms < math.MinInt64+dm {
		return math.MinInt64
	}
	return ms - dm
}

// saturatingAdd is ms + d in unix ms, saturating at MaxInt64.
func saturatingAdd(ms int64, d time.Duration) int64 {
	dm := d.Milliseconds()
	if dm > 0 && ms > math.MaxInt64-dm {
		return math.MaxInt64
	}
	return ms + dm
}

// producerLastBatchesLocked maps each producer to the last offset of its
// newest batch: the cleaner keeps that batch (emptied if need be) so the
// producer's sequence state survives a rebuild from the log.
func (l *Log) producerLastBatchesLocked() map[int64]int64 {
	out := make(map[int64]int64, len(l.mu.producers))
	for pid, e := range l.mu.producers {
		if n := len(e.batches); n > 0 {
			out[pid] = e.batches[n-1].lastOffset
		}
	}
	return out
}

// runClean maps the dirty section, then rewrites and swaps in the
// segments up to its end, group by group.
func (l *Log) runClean(p cleanPlan, now time.Time, opts CleanOptions) (CleanResult, error) {
	res := CleanResult{Reason: p.reason, DirtyRatio: p.ratio, FirstDirty: p.firstDirty, NextDeleteHorizon: math.MaxInt64}
	maxMap := opts.MaxMapBytes
	if maxMap <= 0 {
		maxMap = DefaultMaxMapBytes
	}
	m, mapped, err := buildOffsetMap(p.segs[p.dirtyIdx:], p.firstDirty, maxMap, p.aborted)
	if err != nil {
		return res, err
	}
	end := p.dirtyIdx + mapped
	res.End = p.firstDirty
	if mapped > 0 {
		res.End = p.ends[end-1]
	}
	f := &batchFilter{
		keys: m, now: now.UnixMilli(), horizon: saturatingAdd(now.UnixMilli(), opts.DeleteRetention),
		lastBatch: p.lastBatch, nextHorizon: math.MaxInt64, aborted: p.aborted,
	}
	if err := l.cleanSegments(p.segs[:end], p.ends[:end], f, p, &res); err != nil {
		return res, err
	}
	res.Cleaned, res.RecordsRead, res.RecordsKept = true, f.read, f.kept
	res.TombstonesDropped, res.NextDeleteHorizon = f.tombstonesDropped, f.nextHorizon
	res.EmptyBatchesKept = f.emptyKept
	l.cleaner.cp = cleanerCheckpoint{firstDirty: res.End, nextHorizon: f.nextHorizon}
	if err := l.writeCleanerCheckpoint(); err != nil {
		return res, err
	}
	return res, nil
}

// segmentGroup is consecutive segments that clean into one.
type segmentGroup struct {
	segs []*segment
	end  int64 // base offset of the segment after the group
}

// cleanSegments rewrites segs through f into as few segments as fit:
// a segment joins the cleaned one being written while that stays within
// segment.bytes and segment.index.bytes even if nothing of the newcomer
// were removed, and its offsets stay within 32 bits of the cleaned
// segment's base. (Kafka's groupSegmentsBySize groups by the originals'
// sizes; going by what was written lets emptied segments merge at once.)
// Each group is swapped in as soon as it is written.
func (l *Log) cleanSegments(segs []*segment, ends []int64, f *batchFilter, p cleanPlan, res *CleanResult) error {
	var w *cleanedWriter
	var g segmentGroup
	changed := false
	for i, s := range segs {
		if w != nil && !w.fits(s, ends[i], p.cfg) {
			if err := l.finishGroup(w, g, changed, p.gen, res); err != nil {
				return err
			}
			w = nil
		}
		if w == nil {
			var err error
			if w, err = l.newCleanedWriter(s.base); err != nil {
				return err
			}
			g, changed = segmentGroup{segs: segs[i:i]}, false
		}
		ch, err := w.copySegment(s, f)
		if err != nil {
			w.abandon()
			return err
		}
		changed = changed || ch
		g.segs, g.end = g.segs[:len(g.segs)+1], ends[i]
	}
	if w == nil {
		return nil
	}
	return l.finishGroup(w, g, changed, p.gen, res)
}

// fits reports whether segment s (ending where end begins) may join the
// cleaned segment being written.
func (w *cleanedWriter) fits(s *segment, end int64, cfg Config) bool {
	return w.pos+s.size.Load() <= cfg.SegmentBytes &&
		w.seg.indexBytes()+s.indexBytes() <= int64(cfg.SegmentIndexBytes) &&
		end-1-w.seg.base <= math.MaxUint32
}

// indexBytes is the size of the segment's larger index.
func (s *segment) indexBytes() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return max(int64(len(s.mu.idx))*offsetEntrySize, int64(len(s.mu.tidx))*timeEntrySize)
}
