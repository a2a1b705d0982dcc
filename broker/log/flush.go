package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"sort"

	"github.com/weirhq/weir/internal/atomicfile"
	"github.com/weirhq/weir/internal/vfs"
)

// The checkpoint file, log.checkpoint, holds the recovery point (every offset
// below it is fsynced) and the log start offset. Format (big-endian):
//
//	magic "WLCP" | version uint16 (1) | recoveryPoint int64 | logStartOffset int64 | crc32c uint32 of the 22 bytes before it
const (
	checkpointFile    = "log.checkpoint"
	checkpointMagic   = "WLCP"
	checkpointVersion = 1
	checkpointSize    = 26
)

type checkpoint struct{ recoveryPoint, logStart int64 }

func encodeCheckpoint(c checkpoint) []byte {
	be := binary.BigEndian
	b := append([]byte(checkpointMagic), 0, checkpointVersion)
	b = be.AppendUint64(b, uint64(c.recoveryPoint))
	b = be.AppendUint64(b, uint64(c.logStart))
	return be.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeCheckpoint(b []byte) (checkpoint, error) {
	be := binary.BigEndian
	if len(b) != checkpointSize || string(b[:4]) != checkpointMagic || be.Uint16(b[4:]) != checkpointVersion {
		return checkpoint{}, errors.New("bad checkpoint header")
	}
	if crc32.Checksum(b[:22], castagnoli) != be.Uint32(b[22:]) {
		return checkpoint{}, errors.New("checkpoint crc mismatch")
	}
	return checkpoint{int64(be.Uint64(b[6:])), int64(be.Uint64(b[14:]))}, nil
}

func readCheckpoint(fs vfs.FS, dir string) (checkpoint, error) {
	b, err := vfs.ReadFile(fs, filepath.Join(dir, checkpointFile))
	if err != nil {
		return checkpoint{}, err
	}
	return decodeCheckpoint(b)
}

// writeCheckpoint persists the current recovery point and log start offset.
// Caller holds l.cpMu (not l.mu).
func (l *Log) writeCheckpoint() error {
	l.mu.Lock()
	c := checkpoint{l.mu.recoveryPoint, l.logStart.Load()}
	l.mu.Unlock()
	if err := atomicfile.Write(l.fs, filepath.Join(l.dir, checkpointFile), encodeCheckpoint(c)); err != nil {
		return storageErr(err, "write checkpoint")
	}
	l.mu.Lock()
	l.mu.written, l.mu.hasWritten = c, true
	l.mu.Unlock()
	return nil
}

// Flush fsyncs the segments that hold unflushed data and their indexes, then
// advances and persists the recovery point. Appends go on meanwhile.
func (l *Log) Flush() error {
	if l.closed.Load() {
		return ErrClosed
	}
	return l.flush()
}

func (l *Log) flush() error {
	l.cpMu.Lock()
	defer l.cpMu.Unlock()
	l.mu.Lock()
	if l.mu.failed != nil {
		err := l.usableLocked("flush")
		l.mu.Unlock()
		return err
	}
	target, rp := l.leo.Load(), l.mu.recoveryPoint
	if target <= rp && l.mu.hasWritten && l.mu.written == (checkpoint{rp, l.logStart.Load()}) && !l.epochs.Dirty() {
		// Nothing appended since the flush that made rp durable, and the
		// checkpoint on disk says so (Kafka's flush skips the same way):
		// an idle log's close is not ten fsyncs.
		l.mu.lastFlush = l.now()
		l.mu.Unlock()
		return nil
	}
	segs := l.segments()
	i := max(sort.Search(len(segs), func(i int) bool { return segs[i].base > rp })-1, 0)
	dirty := make([]*segment, 0, len(segs)-i)
	for _, s := range segs[i:] {
		if s.acquire() {
			dirty = append(dirty, s)
		}
	}
	l.mu.Unlock()

	err := syncSegments(dirty)
	if err == nil {
		err = syncDir(l.fs, l.dir)
	}
	if err != nil {
		// Never fsync again what failed once (failure.go).
		l.mu.Lock()
		err = l.failLocked(fmt.Errorf("flush %s: %w", l.dir, err))
		l.mu.Unlock()
		return err
	}
	// The leader epochs of the batches below target reach the checkpoint
	// before the recovery point passes them (EpochCache.AssignFromBatch).
	// If it cannot be written the recovery point stays: the log stays
	// online, and an open re-reads those epochs from the batch headers.
	if err := l.epochs.Sync(); err != nil {
		return fmt.Errorf("flush %s: %w", l.dir, err)
	}
	l.mu.Lock()
	l.mu.recoveryPoint = max(l.mu.recoveryPoint, target)
	l.mu.lastFlush = l.now()
	l.mu.Unlock()
	return l.writeCheckpoint()
}

// syncSegments writes out and fsyncs the indexes and .log files of segs, and
// releases them.
func syncSegments(segs []*segment) error {
	var errs []error
	for _, s := range segs {
		if err := s.persistIndexes(true); err != nil {
			errs = append(errs, err)
		} else if err := s.syncFile(); err != nil && !s.doomed.Load() {
			errs = append(errs, storageErr(err, "sync segment %020d", s.base))
		}
		s.release()
	}
	return errors.Join(errs...)
}
