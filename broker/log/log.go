// Package log is the broker's partition log: Kafka's on-disk layout, one
// directory per partition, segments named by base offset (.log, a sparse
// .index and a .timeindex), recovery of the unflushed tail on open, roll,
// retention, a flush policy and the idempotent-producer state that is
// snapshotted beside the segments.
//
// The on-disk format is written down in docs/ONDISK.md. Every file
// operation goes through Options.FS (internal/vfs): the disk in the broker,
// memory or injected faults in tests.
//
// A Log is safe for concurrent use: appends are serialised under l.mu, reads
// take a snapshot of the segment list and read the files without holding it.
//
// Lock order: Log.cleanMu, then Log.cpMu, then Log.mu, then segment.mu, then
// segment.fmu (one segment's at a time), then FileCache.mu. Readers take only
// segment.mu (shared) and hold a reference on each segment they read, so a
// segment deleted by retention keeps its file until the last reader
// releases it. Segment .log files are opened on demand through a FileCache
// shared by the process's logs, which closes idle ones past its cap
// (filecache.go).
//
// File map: log.go (Log, Open, accessors, Close), batch.go (record batch v2
// header, validation), segment.go (one segment's files and reference count),
// filecache.go (the bounded cache of open segment files),
// index.go (sparse offset and time indexes), scan.go (batch iterator over a
// segment file), recover.go (recovery on open), append.go, read.go
// (including timestamp lookups), records.go (records inside a batch,
// decompressed through the codec sub-package for lookups), retention.go, truncate.go, flush.go (fsync, checkpoint file), close.go (CloseAll: many logs closed with one syncfs and one close checkpoint per log dir),
// producer.go (idempotent producer state), snapshot.go (its snapshot files),
// txn.go (control batches, ongoing transactions, the last stable offset, the
// aborted-transaction index .txnindex),
// cleaner*.go (compaction: see cleaner.go), usage.go (the byte count shared
// by the logs of a log dir), failure.go (when a log goes offline after a
// disk fault, and what it answers then).
package log

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirhq/weir/internal/vfs"
)

// Config is a partition's log settings, already resolved from the topic's
// configs and the broker's defaults (Kafka's names in the comments). A zero
// field means "unset": Open and SetConfig fill in Kafka's default where one
// is needed (see DefaultConfig).
type Config struct {
	SegmentBytes       int64         // segment.bytes (0: 1 GiB)
	SegmentMs          time.Duration // segment.ms (0: never roll by time)
	RetentionMs        time.Duration // retention.ms (<=0: keep forever)
	RetentionBytes     int64         // retention.bytes (<=0: no size limit)
	IndexIntervalBytes int           // index.interval.bytes (0: 4096)
	SegmentIndexBytes  int           // segment.index.bytes (max index file size; 0: 10 MiB)
	FlushMessages      int64         // flush.messages (fsync after this many; <=0 or huge: OS decides)
	FlushMs            time.Duration // flush.ms (<=0: OS decides; checked on Append)
	FileDeleteDelay    time.Duration // file.delete.delay.ms (unused: deleted files are removed when their last reader is done)
}

// DefaultConfig is Kafka's default topic configuration.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:       1 << 30,
		SegmentMs:          7 * 24 * time.Hour,
		RetentionMs:        7 * 24 * time.Hour,
		RetentionBytes:     -1,
		IndexIntervalBytes: 4096,
		SegmentIndexBytes:  10 << 20,
		FlushMessages:      math.MaxInt64,
		FlushMs:            -1,
		FileDeleteDelay:    time.Minute,
	}
}

func (c Config) withDefaults() Config {
	if c.SegmentBytes <= 0 || c.SegmentBytes > math.MaxInt32 {
		c.SegmentBytes = min(max(c.SegmentBytes, 0), math.MaxInt32)
		if c.SegmentBytes == 0 {
			c.SegmentBytes = 1 << 30
		}
	}
	if c.IndexIntervalBytes <= 0 {
		c.IndexIntervalBytes = 4096
	}
	if c.SegmentIndexBytes <= 0 {
		c.SegmentIndexBytes = 10 << 20
	}
	return c
}

// Errors returned by Append and Read. The server maps each to a Kafka error
// code (see broker/server/errors.go); they never mean the log is damaged,
// except ErrStorage.
var (
	ErrOffsetOutOfRange     = errors.New("offset out of range")
	ErrCorruptBatch         = errors.New("corrupt record batch")
	ErrUnsupportedMagic     = errors.New("unsupported record batch magic") // UNSUPPORTED_FOR_MESSAGE_FORMAT
	ErrMessageTooLarge      = errors.New("record batch too large")         // MESSAGE_TOO_LARGE
	ErrOutOfOrderSequence   = errors.New("out of order sequence number")
	ErrInvalidProducerEpoch = errors.New("invalid producer epoch")
	ErrUnknownProducerID    = errors.New("unknown producer id")
	ErrClosed               = errors.New("log closed")
	ErrStorage              = errors.New("log storage error") // wrapped around disk I/O failures (KAFKA_STORAGE_ERROR)
)

// storageErr wraps a disk I/O failure with what was being done and ErrStorage.
func storageErr(err error, format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errors.Join(ErrStorage, err))
}

// Options are a Log's collaborators.
type Options struct {
	Logger *slog.Logger     // nil: discard
	Now    func() time.Time // injectable clock; nil: time.Now
	Usage  *Usage           // counts this log's segment bytes with others' (see Usage); nil: none
	FS     vfs.FS           // the filesystem the log lives on; nil: vfs.Default, the disk
	Files  *FileCache       // bounds the open segment files (filecache.go); nil: DefaultFileCache
	// ClosedAt is this log's line of its log dir's close checkpoint
	// (TakeCloseCheckpoint), if it has one: the recovery point CloseAll
	// made durable.
	ClosedAt *ClosedAt
}

// Log is one partition's log.
type Log struct {
	fs       vfs.FS
	files    *FileCache
	dir      string
	logger   *slog.Logger
	now      func() time.Time
	closedAt *ClosedAt // Options.ClosedAt, for recover
	// epochsFrom is where open re-reads leader epochs from batch headers
	// (recover sets it: the recovery point, or the log start when none
	// is known).
	epochsFrom int64

	// Published state, readable without a lock; written under mu.
	segs     atomic.Pointer[[]*segment] // immutable list, oldest first; replaced on roll, delete, truncate
	leo      atomic.Int64               // log end offset: next offset to assign
	logStart atomic.Int64
	size     atomic.Int64
	closed   atomic.Bool
	offline  atomic.Bool // set with mu.failed: the log failed (failure.go)
	// firstUnstable is the first offset of the oldest ongoing transaction,
	// -1 when none (txn.go); written under mu.
	firstUnstable atomic.Int64

	usage *Usage // the shared byte count that follows size; written under mu

	cleanMu sync.Mutex   // serialises Clean; taken before cpMu and mu
	cleaner cleanerState // guarded by cleanMu
	// cleanerCrash, set by tests, stops a cleaning dead at a stage.
	cleanerCrash func(stage string) bool

	cpMu sync.Mutex // serialises flushes and checkpoint file writes; taken before mu

	epochs *EpochCache // leader epoch → start offset (its own lock, taken under mu)

	mu struct {
		sync.Mutex
		cfg           Config
		producers     producerState
		ongoing       map[int64]int64 // producer id → first offset of its ongoing transaction (txn.go)
		snapshots     []int64         // offsets of the producer snapshot files, ascending
		recoveryPoint int64           // offsets below it are fsynced
		// written is the checkpoint last written (when written is set):
		// a flush with nothing past the recovery point and the same
		// checkpoint has nothing to make durable.
		written     checkpoint
		hasWritten  bool
		lastFlush   time.Time
		failed      error  // why the log went offline (failure.go); nil: healthy
		truncations uint64 // truncations so far: a cleaning planned before one does not swap
		truncatedTo int64  // lowest end a truncation left since the last cleaning planned
	}
}

// segments returns the current segment list; it must not be modified.
func (l *Log) segments() []*segment { return *l.segs.Load() }

func (l *Log) active() *segment {
	s := l.segments()
	return s[len(s)-1]
}

// LogStartOffset is the first offset readable.
func (l *Log) LogStartOffset() int64 { return l.logStart.Load() }

// LogEndOffset is the next offset to be assigned.
func (l *Log) LogEndOffset() int64 { return l.leo.Load() }

// Size is the number of bytes in all segments.
func (l *Log) Size() int64 { return l.size.Load() }

// NumSegments is the number of segments.
func (l *Log) NumSegments() int { return len(l.segments()) }

// Dir is the partition's directory.
func (l *Log) Dir() string { return l.dir }

// SetConfig applies a dynamic topic config change.
func (l *Log) SetConfig(cfg Config) {
	l.mu.Lock()
	l.mu.cfg = cfg.withDefaults()
	l.mu.Unlock()
}

// ProducerEpoch returns the latest epoch seen for a producer id.
func (l *Log) ProducerEpoch(pid int64) (int16, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.mu.producers[pid]
	if !ok {
		return 0, false
	}
	return e.epoch, true
}

// Close flushes the log, writes a producer-state snapshot and closes the
// files. Reads that are under way finish on their own references. A log
// that failed (failure.go) is closed without writing anything: its failure
// was reported when it happened, and the next Open recovers it.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed.Swap(true) {
		l.mu.Unlock()
		return nil
	}
	l.leaveUsageLocked() // closed: the size moves no more
	failed := l.mu.failed != nil
	l.mu.Unlock()
	// Appends now fail with ErrClosed, so this flush covers everything.
	var err error
	if !failed {
		err = l.flush()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.failed == nil {
		if ferr := l.active().finalize(true); ferr != nil {
			err = errors.Join(err, ferr)
		}
		// As Kafka's ProducerStateManager.takeSnapshot: a snapshot at the
		// log end already holds every producer batch (state only changes
		// with appends; a truncation drops the snapshots above its end).
		if leo := l.leo.Load(); !slices.Contains(l.mu.snapshots, leo) {
			if serr := l.writeSnapshotLocked(leo); serr != nil {
				err = errors.Join(err, serr)
			}
		}
	}
	for _, s := range l.segments() {
		s.release()
	}
	return err
}

// Delete closes the log and removes its directory.
func (l *Log) Delete() error {
	cerr := l.Close()
	if err := l.fs.RemoveAll(l.dir); err != nil {
		return errors.Join(cerr, storageErr(err, "delete log %s", l.dir))
	}
	return nil
}
