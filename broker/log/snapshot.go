package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"sort"

	"github.com/weirhq/weir/internal/atomicfile"
	"github.com/weirhq/weir/internal/vfs"
)

// Producer snapshot files, <20-digit offset>.snapshot: the producer state
// after every batch below offset. Format (big-endian), see docs/ONDISK.md:
//
//	magic "WPSN" | version uint16 (2) | count uint32
//	count × (producerId int64 | epoch int16 | n uint8 |
//	         n × (firstSeq int32 | lastSeq int32 | firstOffset int64 | lastOffset int64 | timestamp int64) |
//	         v2: coordinatorEpoch int32 | txnFirstOffset int64 (-1: no ongoing transaction))
//	crc32c uint32 of everything before it
//
// Version 1 (no transaction fields) is still read.
const (
	snapshotMagic   = "WPSN"
	snapshotVersion = 2
	snapshotsKept   = 2
)

var errBadSnapshot = errors.New("bad producer snapshot")

func encodeSnapshot(ps producerState) []byte {
	pids := make([]int64, 0, len(ps))
	for pid := range ps {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	be := binary.BigEndian
	b := append([]byte(snapshotMagic), 0, snapshotVersion)
	b = be.AppendUint32(b, uint32(len(pids)))
	for _, pid := range pids {
		e := ps[pid]
		b = be.AppendUint64(b, uint64(pid))
		b = be.AppendUint16(b, uint16(e.epoch))
		b = append(b, byte(len(e.batches)))
		for _, m := range e.batches {
			b = be.AppendUint32(b, uint32(m.firstSeq))
			b = be.AppendUint32(b, uint32(m.lastSeq))
			b = be.AppendUint64(b, uint64(m.firstOffset))
			b = be.AppendUint64(b, uint64(m.lastOffset))
			b = be.AppendUint64(b, uint64(m.timestamp))
		}
		b = be.AppendUint32(b, uint32(e.coordEpoch))
		first := int64(-1)
		if e.inTxn {
			first = e.txnFirst
		}
		b = be.AppendUint64(b, uint64(first))
	}
	return be.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeSnapshot(b []byte) (producerState, error) {
	be := binary.BigEndian
	if len(b) < 14 || string(b[:4]) != snapshotMagic {
		return nil, fmt.Errorf("%w: no header", errBadSnapshot)
	}
	body := b[:len(b)-4]
	if crc32.Checksum(body, castagnoli) != be.Uint32(b[len(b)-4:]) {
		return nil, fmt.Errorf("%w: crc mismatch", errBadSnapshot)
	}
	v := be.Uint16(body[4:])
	if v != 1 && v != snapshotVersion {
		return nil, fmt.Errorf("%w: version %d", errBadSnapshot, v)
	}
	n := int(be.Uint32(body[6:]))
	p := body[10:]
	ps := make(producerState, min(n, len(p)/11))
	for range n {
		if len(p) < 11 {
			return nil, fmt.Errorf("%w: truncated", errBadSnapshot)
		}
		pid, e := int64(be.Uint64(p)), &producerEntry{epoch: int16(be.Uint16(p[8:])), lastTimestamp: -1, coordEpoch: -1}
		nb := int(p[10])
		p = p[11:]
		if nb > producerBatchCache || len(p) < nb*32 {
			return nil, fmt.Errorf("%w: producer %d", errBadSnapshot, pid)
		}
		for range nb {
			e.batches = append(e.batches, batchMeta{
				firstSeq: int32(be.Uint32(p)), lastSeq: int32(be.Uint32(p[4:])),
				firstOffset: int64(be.Uint64(p[8:])), lastOffset: int64(be.Uint64(p[16:])), timestamp: int64(be.Uint64(p[24:])),
			})
			p = p[32:]
		}
		if nb > 0 {
			e.lastTimestamp = e.batches[nb-1].timestamp
		}
		if v >= 2 {
			if len(p) < 12 {
				return nil, fmt.Errorf("%w: producer %d", errBadSnapshot, pid)
			}
			e.coordEpoch = int32(be.Uint32(p))
			if first := int64(be.Uint64(p[4:])); first >= 0 {
				e.inTxn, e.txnFirst = true, first
			}
			p = p[12:]
		}
		ps[pid] = e
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errBadSnapshot, len(p))
	}
	return ps, nil
}

// writeSnapshotLocked writes the producer state as of offset and keeps only
// the newest snapshotsKept files. Caller holds l.mu.
func (l *Log) writeSnapshotLocked(offset int64) error {
	return l.writeSnapshotFileLocked(offset, atomicfile.Write)
}

// writeSnapshotUnsyncedLocked is writeSnapshotLocked without fsync, for a
// later SyncFS (CloseAll).
func (l *Log) writeSnapshotUnsyncedLocked(offset int64) error {
	return l.writeSnapshotFileLocked(offset, atomicfile.WriteUnsynced)
}

func (l *Log) writeSnapshotFileLocked(offset int64, write func(vfs.FS, string, []byte) error) error {
	path := segmentPath(l.dir, offset, ".snapshot")
	if err := write(l.fs, path, encodeSnapshot(l.mu.producers)); err != nil {
		return storageErr(err, "write producer snapshot %020d", offset)
	}
	if !slices.Contains(l.mu.snapshots, offset) {
		l.mu.snapshots = append(l.mu.snapshots, offset)
		slices.Sort(l.mu.snapshots)
	}
	for len(l.mu.snapshots) > snapshotsKept {
		l.removeSnapshotLocked(0)
	}
	return nil
}

func (l *Log) removeSnapshotLocked(i int) {
	off := l.mu.snapshots[i]
	if err := l.fs.Remove(segmentPath(l.dir, off, ".snapshot")); err != nil && !vfs.IsNotExist(err) {
		l.logger.Warn("remove producer snapshot", "dir", l.dir, "offset", off, "err", err)
	}
	l.mu.snapshots = slices.Delete(l.mu.snapshots, i, i+1)
}

// loadProducerStateLocked rebuilds the producer state at the log end: the
// newest readable snapshot at or below it, then a replay of the batches after
// it. Snapshots above the log end are deleted.
func (l *Log) loadProducerStateLocked() error {
	leo := l.leo.Load()
	for i := len(l.mu.snapshots) - 1; i >= 0; i-- {
		if l.mu.snapshots[i] > leo {
			l.removeSnapshotLocked(i)
		}
	}
	from := int64(-1)
	l.mu.producers = make(producerState)
	for i := len(l.mu.snapshots) - 1; i >= 0 && from < 0; i-- {
		off := l.mu.snapshots[i]
		b, err := vfs.ReadFile(l.fs, segmentPath(l.dir, off, ".snapshot"))
		if err == nil {
			var ps producerState
			if ps, err = decodeSnapshot(b); err == nil {
				l.mu.producers, from = ps, off
				break
			}
		}
		l.logger.Warn("ignoring producer snapshot", "dir", l.dir, "offset", off, "err", err)
		l.removeSnapshotLocked(i)
	}
	l.rebuildOngoingLocked()
	l.loadTxnIndexesLocked(max(from, 0))
	return l.replayProducersLocked(max(from, 0), leo)
}

// replayProducersLocked applies the producer batches in [from, to) to the
// producer state.
func (l *Log) replayProducersLocked(from, to int64) error {
	u := producerUpdate{state: l.mu.producers}
	segs := l.segments()
	i := max(sort.Search(len(segs), func(i int) bool { return segs[i].base > from })-1, 0)
	for _, s := range segs[i:] {
		sc := newBatchScanner(s.reader(), s.lookup(from), s.size.Load(), false)
		for sc.next() {
			if h := sc.hdr; h.BaseOffset >= from && h.BaseOffset < to && h.ProducerID >= 0 {
				u.stage(h, sc.batch)
			}
		}
		if sc.err != nil && errors.Is(sc.err, ErrStorage) {
			return fmt.Errorf("replay producer state from segment %020d: %w", s.base, sc.err)
		}
	}
	u.commit()
	l.completeTxnsLocked(&u)
	return nil
}

func syncDir(fs vfs.FS, dir string) error {
	if err := vfs.SyncDir(fs, dir); err != nil {
		return storageErr(err, "sync dir %s", dir)
	}
	return nil
}
