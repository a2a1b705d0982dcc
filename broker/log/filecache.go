package log

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"

	"github.com/weirhq/weir/internal/vfs"
)

// FileCache bounds the .log files held open by the logs that share it (by
// default every Log of the process: DefaultFileCache). A broker with 20,000
// partition replicas would otherwise keep 20,000 or more descriptors open
// and hit RLIMIT_NOFILE (issue 14).
//
// A segment's .log file is opened on first use and stays open until the
// cache needs its slot: the cache evicts, in CLOCK order (a cheap
// approximation of least recently used), files that no one is using at that
// moment. A use (segment.pin ... unpin) is a few atomic operations when the
// file is open, so appends and reads on open files cost what they did
// before; only a miss takes locks and calls open(2).
//
// Active segments are evictable too: a file evicted with writes not yet
// fsynced is fsynced first; if that fsync fails, the error is kept on the
// segment and the log's next flush returns it, which takes the log offline
// (failure.go: never fsync again what failed once, and the recovery point
// does not advance).
//
// The cap is soft: when every open file is in use, a miss opens one more
// rather than wait, so it is exceeded only while more files than the cap
// are in use at once. Indexes are not cached: they live in memory and
// their files are opened, written and closed in one go (segment.go).
type FileCache struct {
	max int

	mu   sync.Mutex
	hand *segment // CLOCK hand in the ring of open files (nil: empty ring)
	n    int      // files in the ring

	open      atomic.Int64  // files open, including ones being evicted
	steps     atomic.Uint64 // CLOCK hand moves (tests: an install's cost)
	hits      atomic.Uint64
	misses    atomic.Uint64
	evictions atomic.Uint64
}

// FileCacheStats are a FileCache's counters.
type FileCacheStats struct {
	Open      int64  // .log files open now
	Max       int    // the cap
	Hits      uint64 // uses of a file that was open
	Misses    uint64 // uses that opened it
	Evictions uint64 // files closed to make room
}

// NewFileCache returns a cache that keeps at most n files open (at least 1).
func NewFileCache(n int) *FileCache { return &FileCache{max: max(n, 1)} }

// DefaultFileCache is the cache of logs opened without Options.Files: 75 %
// of the soft RLIMIT_NOFILE at package init, leaving the rest to sockets,
// index files being written and checkpoints (see DefaultMaxOpenFiles).
var DefaultFileCache = NewFileCache(DefaultMaxOpenFiles())

// DefaultMaxOpenFiles is 75 % of the process's soft open-file limit, at
// least 64 (4096 when the limit is unknown or unlimited).
func DefaultMaxOpenFiles() int {
	n, ok := openFileLimit()
	if !ok || n <= 0 || n > 1<<30 {
		return 4096
	}
	return max(int(n*3/4), 64)
}

// OpenFileLimit is the process's soft RLIMIT_NOFILE (false: unknown or
// unlimited), which weir.log.max.open.files may not exceed.
func OpenFileLimit() (int, bool) {
	n, ok := openFileLimit()
	if !ok || n <= 0 || n > 1<<30 {
		return 0, false
	}
	return int(n), true
}

// SetMax changes the cap (weir.log.max.open.files); files over it are
// evicted on the next miss.
func (c *FileCache) SetMax(n int) {
	c.mu.Lock()
	c.max = max(n, 1)
	c.mu.Unlock()
}

// Stats returns the counters.
func (c *FileCache) Stats() FileCacheStats {
	c.mu.Lock()
	m := c.max
	c.mu.Unlock()
	return FileCacheStats{Open: c.open.Load(), Max: m, Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load()}
}

// openFile is an open .log file.
type openFile struct {
	f   vfs.File
	osf *os.File // f, when on the disk: the read fast path (segment.readAt)
}

// segFile is a segment's cached file state.
//
// users counts the uses under way; -1 while an evictor has claimed the
// file (it then closes it unless a pinner takes it back first). file is
// non-nil while the file is open. fmu serialises opening, evicting,
// closing, renaming and fsyncing the file; it is taken with no other fmu
// held, and before FileCache.mu.
type segFile struct {
	fc    *FileCache
	fmu   sync.Mutex
	file  atomic.Pointer[openFile]
	users atomic.Int32
	used  atomic.Bool // CLOCK reference bit
	dirty atomic.Bool // written since the last fsync
	// Guarded by fmu:
	suffix  string // the .log file's name is base.log+suffix (.cleaned, .swap, .deleted)
	dead    bool   // closed for good (segment released)
	syncErr error  // an eviction's fsync failed: the next flush reports it
	// Ring links, guarded by FileCache.mu.
	prev, next *segment
	inRing     bool
}

var errSegmentClosed = errors.New("segment closed")

// pin returns the segment's open .log file, opening it if needed; the
// caller calls unpin when done with it.
func (s *segment) pin() (*openFile, error) {
	for {
		u := s.users.Load()
		if u < 0 {
			break
		}
		if s.users.CompareAndSwap(u, u+1) {
			if f := s.file.Load(); f != nil {
				if !s.used.Load() {
					s.used.Store(true)
				}
				s.fc.hits.Add(1)
				return f, nil
			}
			s.users.Add(-1)
			break
		}
	}
	return s.pinSlow()
}

func (s *segment) unpin() { s.users.Add(-1) }

// pinSlow opens the file, or takes back one an evictor has claimed.
func (s *segment) pinSlow() (*openFile, error) {
	s.fmu.Lock()
	if s.dead {
		s.fmu.Unlock()
		return nil, errSegmentClosed
	}
	if f := s.file.Load(); f != nil {
		// Open: take it back from a pending eviction, or pin it as usual.
		for {
			u := s.users.Load()
			n := u + 1
			if u < 0 {
				n = 1
			}
			if s.users.CompareAndSwap(u, n) {
				break
			}
		}
		s.used.Store(true)
		s.fmu.Unlock()
		s.fc.hits.Add(1)
		return f, nil
	}
	s.fc.misses.Add(1)
	f, err := s.fs.OpenReadWrite(s.path(".log" + s.suffix))
	if err != nil {
		s.fmu.Unlock()
		return nil, storageErr(err, "reopen segment %020d", s.base)
	}
	victims := s.installLocked(f)
	s.fmu.Unlock()
	s.fc.evict(victims)
	return s.file.Load(), nil
}

// maxDirtySkips bounds the files with unsynced writes one eviction passes
// over looking for a clean one (installLocked).
const maxDirtySkips = 32

// installLocked publishes a newly opened file, pinned once, and claims the
// files to evict to make room for it. Caller holds s.fmu.
func (s *segment) installLocked(f vfs.File) []*segment {
	of := &openFile{f: f}
	of.osf, _ = f.(*os.File)
	// Add, not Store: a fast-path pin that found no file may not have
	// taken its increment back yet.
	s.users.Add(1)
	s.used.Store(true)
	s.file.Store(of)
	c := s.fc
	c.open.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.insertLocked(s)
	var victims []*segment
	// Three sweeps of the hand at most: the first clears reference bits
	// and passes over up to maxDirtySkips files with unsynced writes,
	// whose eviction costs an fsync; after that they are taken as any
	// other. Passing over every dirty file made each miss walk the whole
	// ring when nearly all are dirty (20,000 partitions each taking its
	// first record: 30 % of a follower's CPU in this loop).
	skipped, step := 0, 0
	for steps := 3 * c.n; c.open.Load()-int64(len(victims)) > int64(c.max) && step < steps && c.n > 0; step++ {
		v := c.hand
		c.hand = v.next
		if v == s || v.users.Load() != 0 {
			continue
		}
		if v.used.Load() {
			v.used.Store(false)
			continue
		}
		if step < c.n && skipped < maxDirtySkips && v.dirty.Load() {
			skipped++
			continue
		}
		if v.users.CompareAndSwap(0, -1) {
			c.removeLocked(v)
			victims = append(victims, v)
		}
	}
	c.steps.Add(uint64(step))
	return victims
}

// evict closes claimed files, fsyncing those with unsynced writes, unless
// a pinner took them back meanwhile. Called with no locks held.
func (c *FileCache) evict(victims []*segment) {
	for _, v := range victims {
		v.fmu.Lock()
		f := v.file.Load()
		if v.users.Load() != -1 || f == nil {
			// Taken back (or closed for good): back in the ring if open.
			if f != nil && !v.dead {
				c.mu.Lock()
				c.insertLocked(v)
				c.mu.Unlock()
			}
			v.fmu.Unlock()
			continue
		}
		v.file.Store(nil)
		v.users.Store(0)
		if v.dirty.Swap(false) && v.syncErr == nil {
			if err := f.f.Sync(); err != nil && !v.doomed.Load() {
				v.syncErr = storageErr(err, "sync segment %020d before closing it", v.base)
			}
		}
		f.f.Close()
		c.open.Add(-1)
		c.evictions.Add(1)
		v.fmu.Unlock()
	}
}

// closeFile closes the segment's file for good.
func (s *segment) closeFile() {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.dead = true
	f := s.file.Swap(nil)
	if f == nil {
		return
	}
	s.fc.mu.Lock()
	s.fc.removeLocked(s)
	s.fc.mu.Unlock()
	f.f.Close()
	s.fc.open.Add(-1)
}

// renameLog runs rename, which renames the .log file to base.log+suffix,
// with no reopen under the old name in between.
func (s *segment) renameLog(suffix string, rename func() error) error {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if err := rename(); err != nil {
		return err
	}
	s.suffix = suffix
	return nil
}

// syncFile fsyncs the .log file if it is open (an evicted file was fsynced
// when it was closed), or returns the error of that fsync.
func (s *segment) syncFile() error {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	if s.syncErr != nil {
		return s.syncErr
	}
	f := s.file.Load()
	if f == nil {
		return nil
	}
	s.dirty.Store(false)
	if err := f.f.Sync(); err != nil {
		s.dirty.Store(true)
		return err
	}
	return nil
}

func (c *FileCache) insertLocked(s *segment) {
	if s.inRing {
		return
	}
	s.inRing = true
	c.n++
	if c.hand == nil {
		s.prev, s.next = s, s
		c.hand = s
		return
	}
	// Just behind the hand: the last to be looked at.
	p := c.hand.prev
	s.prev, s.next = p, c.hand
	p.next = s
	c.hand.prev = s
}

func (c *FileCache) removeLocked(s *segment) {
	if !s.inRing {
		return
	}
	s.inRing = false
	c.n--
	if c.n == 0 {
		c.hand = nil
	} else {
		if c.hand == s {
			c.hand = s.next
		}
		s.prev.next = s.next
		s.next.prev = s.prev
	}
	s.prev, s.next = nil, nil
}
