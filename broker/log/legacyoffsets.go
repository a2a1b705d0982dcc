package log

import "github.com/weirhq/weir/internal/vfs"

// Timestamps ListOffsets v0 gives a meaning of their own.
const (
	legacyLatest        = -1
	legacyEarliest      = -2
	legacyEarliestLocal = -4
)

// LegacyOffsetsBefore answers ListOffsets v0 (before KIP-79) as Kafka 3.9's
// UnifiedLog.legacyFetchOffsetsBefore does, at segment granularity: each
// segment stands for its base offset (at least the log start offset) at
// its .log file's modification time, and a last segment holding data adds
// the log end offset at the present. Latest (-1) starts from the last of
// these, earliest (-2, and -4) from the first, any other timestamp from
// the last whose time is at or before it (none for a timestamp before
// every segment's: no offsets). At most max offsets are returned, from
// there towards the oldest, newest first.
func (l *Log) LegacyOffsetsBefore(ts int64, maxNum int) ([]int64, error) {
	segs := l.segments()
	start := l.LogStartOffset()
	type point struct{ offset, ms int64 }
	points := make([]point, 0, len(segs)+1)
	for _, s := range segs {
		fi, err := s.fs.Stat(s.path(".log"))
		switch {
		case err != nil && vfs.IsNotExist(err) && s.doomed.Load():
			continue // deleted (retention, a swap) since the list was taken
		case err != nil:
			return nil, storageErr(err, "stat segment %020d", s.base)
		}
		points = append(points, point{offset: max(s.base, start), ms: fi.ModTime().UnixMilli()})
	}
	if segs[len(segs)-1].size.Load() > 0 {
		points = append(points, point{offset: l.LogEndOffset(), ms: l.now().UnixMilli()})
	}
	from := len(points) - 1
	switch ts {
	case legacyLatest:
	case legacyEarliest, legacyEarliestLocal:
		from = 0
	default:
		for from >= 0 && points[from].ms > ts {
			from--
		}
	}
	out := make([]int64, 0, max(min(maxNum, from+1), 0))
	for i := from; i >= 0 && len(out) < maxNum; i-- {
		out = append(out, points[i].offset) // offsets never decrease along points: newest first
	}
	return out, nil
}
