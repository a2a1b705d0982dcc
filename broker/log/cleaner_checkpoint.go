package log

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"path/filepath"
	"time"

	"github.com/weirhq/weir/internal/atomicfile"
	"github.com/weirhq/weir/internal/vfs"
)

// The cleaner checkpoint, cleaner.checkpoint, holds where the dirty section
// starts and when the earliest kept tombstone may go. Format (big-endian):
//
//	magic "WCCP" | version uint16 (1) | firstDirty int64 | nextDeleteHorizon int64 | crc32c uint32 of the 22 bytes before it
const (
	cleanerCheckpointFile = "cleaner.checkpoint"
	cleanerCheckpointMag  = "WCCP"
	cleanerCheckpointSize = 26
)

type cleanerCheckpoint struct {
	firstDirty  int64 // offsets below it were compacted
	nextHorizon int64 // unix ms; MaxInt64: no tombstone waits
}

// cleanerState is the cleaner's state of one log, guarded by Log.cleanMu.
type cleanerState struct {
	loaded    bool
	cp        cleanerCheckpoint
	notBefore time.Time // backoff: no cleaning before
}

func encodeCleanerCheckpoint(c cleanerCheckpoint) []byte {
	be := binary.BigEndian
	b := append([]byte(cleanerCheckpointMag), 0, 1)
	b = be.AppendUint64(b, uint64(c.firstDirty))
	b = be.AppendUint64(b, uint64(c.nextHorizon))
	return be.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeCleanerCheckpoint(b []byte) (cleanerCheckpoint, error) {
	be := binary.BigEndian
	if len(b) != cleanerCheckpointSize || string(b[:4]) != cleanerCheckpointMag || be.Uint16(b[4:]) != 1 ||
		crc32.Checksum(b[:22], castagnoli) != be.Uint32(b[22:]) {
		return cleanerCheckpoint{}, errors.New("bad cleaner checkpoint")
	}
	return cleanerCheckpoint{int64(be.Uint64(b[6:])), int64(be.Uint64(b[14:]))}, nil
}

// loadCleanerCheckpoint reads the checkpoint on the first Clean. Missing or
// damaged, the whole log counts as dirty and no tombstone as waiting.
// Caller holds l.cleanMu.
func (l *Log) loadCleanerCheckpoint() {
	if l.cleaner.loaded {
		return
	}
	l.cleaner.loaded = true
	l.cleaner.cp = cleanerCheckpoint{firstDirty: -1, nextHorizon: math.MaxInt64}
	b, err := vfs.ReadFile(l.fs, filepath.Join(l.dir, cleanerCheckpointFile))
	if err == nil {
		var cp cleanerCheckpoint
		if cp, err = decodeCleanerCheckpoint(b); err == nil {
			l.cleaner.cp = cp
			return
		}
	}
	if !vfs.IsNotExist(err) {
		l.logger.Warn("ignoring the cleaner checkpoint", "dir", l.dir, "err", err)
	}
}

// writeCleanerCheckpoint persists l.cleaner.cp. Caller holds l.cleanMu.
func (l *Log) writeCleanerCheckpoint() error {
	if err := atomicfile.Write(l.fs, filepath.Join(l.dir, cleanerCheckpointFile), encodeCleanerCheckpoint(l.cleaner.cp)); err != nil {
		return storageErr(err, "write cleaner checkpoint")
	}
	return nil
}
