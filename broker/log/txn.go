package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/weirhq/weir/internal/vfs"
)

// Transactions in the partition log (KIP-98), as Kafka's UnifiedLog and
// ProducerStateManager keep them:
//
//   - A transactional batch (attributes bit 4) of a producer that has no
//     ongoing transaction starts one at its base offset.
//   - A control batch (bits 4 and 5) holds one marker record, commit or
//     abort, written by WriteTxnMarkers; it ends the producer's transaction.
//     Markers of an older coordinator epoch are fenced.
//   - The first unstable offset is the first offset of the oldest ongoing
//     transaction; the last stable offset (LSO) is that, bounded by the
//     high watermark.
//   - Every abort marker adds an entry to the aborted-transaction index of
//     the segment that holds it (.txnindex, Kafka's layout, docs/ONDISK.md):
//     read_committed fetches get the aborted transactions that overlap what
//     they read, so the client drops their records.
//
// The ongoing transactions and the coordinator epochs are part of the
// producer state, so they are in its snapshots, and recovery replays the
// batches after the snapshot, rebuilding the index entries of the markers
// it replays.

// ErrTransactionCoordinatorFenced: a marker from a coordinator epoch older
// than one already seen for the producer (TRANSACTION_COORDINATOR_FENCED).
var ErrTransactionCoordinatorFenced = errors.New("transaction coordinator fenced")

// Control record types (the key's type field).
const (
	ControlAbort  int16 = 0
	ControlCommit int16 = 1
)

// Marker is a transaction marker: the control record of a control batch.
type Marker struct {
	Commit           bool
	CoordinatorEpoch int32
}

// ControlBatch builds a control batch holding one marker record for the
// producer, in Kafka's layout: attributes transactional|control, base
// sequence -1, one record whose key is version int16 0 | type int16 (0
// abort, 1 commit) and whose value is version int16 0 | coordinatorEpoch
// int32. The base offset is 0; Append assigns it.
func ControlBatch(pid int64, epoch int16, m Marker, timestamp int64) []byte {
	var key, val [6]byte
	typ := ControlAbort
	if m.Commit {
		typ = ControlCommit
	}
	binary.BigEndian.PutUint16(key[2:], uint16(typ))
	binary.BigEndian.PutUint32(val[2:], uint32(m.CoordinatorEpoch))
	var rec []byte
	rec = append(rec, 0)              // attributes
	rec = binary.AppendVarint(rec, 0) // timestampDelta
	rec = binary.AppendVarint(rec, 0) // offsetDelta
	rec = binary.AppendVarint(rec, 4) // key length
	rec = append(rec, key[:4]...)     // version 0, type
	rec = binary.AppendVarint(rec, 6) // value length
	rec = append(rec, val[:]...)      // version 0, coordinator epoch
	rec = binary.AppendVarint(rec, 0) // headers
	body := binary.AppendVarint(nil, int64(len(rec)))
	body = append(body, rec...)

	b := make([]byte, BatchHeaderSize, BatchHeaderSize+len(body))
	be := binary.BigEndian
	be.PutUint32(b[8:], uint32(BatchHeaderSize-batchLengthOverhead+len(body)))
	be.PutUint32(b[12:], 0xffffffff) // partitionLeaderEpoch -1
	b[magicOffset] = 2
	be.PutUint16(b[attrOffset:], attrTransactional|attrControl)
	be.PutUint32(b[23:], 0) // lastOffsetDelta
	be.PutUint64(b[baseTimestampOffset:], uint64(timestamp))
	be.PutUint64(b[maxTimestampOffset:], uint64(timestamp))
	be.PutUint64(b[43:], uint64(pid))
	be.PutUint16(b[51:], uint16(epoch))
	be.PutUint32(b[53:], 0xffffffff) // baseSequence -1
	be.PutUint32(b[recordCountOffset:], 1)
	b = append(b, body...)
	be.PutUint32(b[crcOffset:], crc32c(b[crcStart:]))
	return b
}

// ParseMarker reads the marker of a whole control batch b.
func ParseMarker(b []byte) (Marker, error) {
	h, err := ParseBatchHeader(b)
	if err != nil {
		return Marker{}, err
	}
	if !h.Control() {
		return Marker{}, fmt.Errorf("%w: not a control batch", ErrCorruptBatch)
	}
	m, ok := parseControlBatch(h, b)
	if !ok {
		return Marker{}, fmt.Errorf("%w: unreadable control record", ErrCorruptBatch)
	}
	return m, nil
}

// parseControlBatch reads the first record of an uncompressed control
// batch: its key's type and its value's coordinator epoch.
func parseControlBatch(h BatchHeader, b []byte) (Marker, bool) {
	if h.Compression() != 0 || h.NumRecords < 1 || len(b) <= BatchHeaderSize {
		return Marker{}, false
	}
	p := b[BatchHeaderSize:min(len(b), h.TotalSize())]
	if _, n := binary.Varint(p); n <= 0 { // record length
		return Marker{}, false
	} else {
		p = p[n:]
	}
	if len(p) < 1 {
		return Marker{}, false
	}
	p = p[1:]     // attributes
	for range 2 { // timestampDelta, offsetDelta
		_, n := binary.Varint(p)
		if n <= 0 {
			return Marker{}, false
		}
		p = p[n:]
	}
	kl, n := binary.Varint(p)
	if n <= 0 || kl < 4 || int64(len(p)-n) < kl {
		return Marker{}, false
	}
	key := p[n : n+int(kl)]
	p = p[n+int(kl):]
	m := Marker{Commit: int16(binary.BigEndian.Uint16(key[2:])) == ControlCommit}
	if vl, n := binary.Varint(p); n > 0 && vl >= 6 && int64(len(p)-n) >= vl {
		m.CoordinatorEpoch = int32(binary.BigEndian.Uint32(p[n+2:]))
	}
	return m, true
}

// AppendMarker writes a transaction marker for the producer at the given
// epoch (WriteTxnMarkers on the partition leader). A marker of an older
// producer epoch is ErrInvalidProducerEpoch, one of an older coordinator
// epoch ErrTransactionCoordinatorFenced. It returns the marker's offset.
func (l *Log) AppendMarker(pid int64, epoch int16, m Marker, opts AppendOptions) (int64, error) {
	now := opts.Now
	if now.IsZero() {
		now = l.now()
	}
	b := ControlBatch(pid, epoch, m, now.UnixMilli())
	hdrs, err := ValidateBatches(b, 0)
	if err != nil {
		return 0, err
	}
	opts.LogAppendTime = false
	info, err := l.Append(b, hdrs, opts)
	return info.FirstOffset, err
}

// completedTxn is a transaction ended by a marker at offset last.
type completedTxn struct {
	pid         int64
	first, last int64
	abort       bool
}

// AbortedTxn is an aborted transaction as Fetch reports it.
type AbortedTxn struct {
	ProducerID  int64
	FirstOffset int64
}

// abortedEntry is one entry of a .txnindex file.
type abortedEntry struct {
	pid, first, last, lso int64
}

// txnIndexEntrySize is the size of a .txnindex entry: version int16 (0) |
// producerId int64 | firstOffset int64 | lastOffset int64 |
// lastStableOffset int64, big-endian (Kafka's AbortedTxn).
const txnIndexEntrySize = 34

func (e abortedEntry) encode(b []byte) []byte {
	be := binary.BigEndian
	b = be.AppendUint16(b, 0)
	b = be.AppendUint64(b, uint64(e.pid))
	b = be.AppendUint64(b, uint64(e.first))
	b = be.AppendUint64(b, uint64(e.last))
	return be.AppendUint64(b, uint64(e.lso))
}

func decodeTxnIndex(b []byte) ([]abortedEntry, error) {
	if len(b)%txnIndexEntrySize != 0 {
		return nil, fmt.Errorf("%w: txnindex of %d bytes", errBadIndex, len(b))
	}
	be := binary.BigEndian
	out := make([]abortedEntry, 0, len(b)/txnIndexEntrySize)
	for ; len(b) > 0; b = b[txnIndexEntrySize:] {
		if v := be.Uint16(b); v != 0 {
			return nil, fmt.Errorf("%w: txnindex entry version %d", errBadIndex, v)
		}
		out = append(out, abortedEntry{
			pid: int64(be.Uint64(b[2:])), first: int64(be.Uint64(b[10:])),
			last: int64(be.Uint64(b[18:])), lso: int64(be.Uint64(b[26:])),
		})
	}
	return out, nil
}

// completeTxnsLocked applies what the staged (now committed) update did to
// transactions: the ongoing set and the first unstable offset, and an
// index entry per abort. Caller holds l.mu.
func (l *Log) completeTxnsLocked(u *producerUpdate) {
	changed := false
	for pid, e := range u.pending {
		first, was := l.mu.ongoing[pid]
		switch {
		case e.inTxn && (!was || first != e.txnFirst):
			if l.mu.ongoing == nil {
				l.mu.ongoing = make(map[int64]int64)
			}
			l.mu.ongoing[pid], changed = e.txnFirst, true
		case !e.inTxn && was:
			delete(l.mu.ongoing, pid)
			changed = true
		}
	}
	if changed {
		l.updateFirstUnstableLocked()
	}
	for _, c := range u.completed {
		if !c.abort {
			continue
		}
		lso := c.last + 1
		if fu := l.firstUnstable.Load(); fu >= 0 {
			lso = min(lso, fu)
		}
		l.indexAbortedLocked(abortedEntry{pid: c.pid, first: c.first, last: c.last, lso: lso})
	}
}

func (l *Log) updateFirstUnstableLocked() {
	fu := int64(math.MaxInt64)
	for _, first := range l.mu.ongoing {
		fu = min(fu, first)
	}
	if fu == math.MaxInt64 {
		fu = -1
	}
	l.firstUnstable.Store(fu)
}

// rebuildOngoingLocked recomputes the ongoing set from the producer state.
func (l *Log) rebuildOngoingLocked() {
	l.mu.ongoing = make(map[int64]int64)
	for pid, e := range l.mu.producers {
		if e.inTxn {
			l.mu.ongoing[pid] = e.txnFirst
		}
	}
	l.updateFirstUnstableLocked()
}

// indexAbortedLocked adds e to the index of the segment holding its
// marker, in memory and in its .txnindex file.
func (l *Log) indexAbortedLocked(e abortedEntry) {
	segs := l.segments()
	i := max(sort.Search(len(segs), func(i int) bool { return segs[i].base > e.last })-1, 0)
	s := segs[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.mu.aborted); n > 0 && s.mu.aborted[n-1].last >= e.last {
		return // already indexed (a replay over a loaded index)
	}
	s.mu.aborted = append(s.mu.aborted, e)
	off := int64(len(s.mu.aborted)-1) * txnIndexEntrySize
	if err := writeIndexTail(s.fs, s.path(".txnindex"), e.encode(nil), off, false, false); err != nil {
		// Recovery rebuilds what the snapshot does not cover; say so.
		l.logger.Warn("write aborted transaction index", "dir", l.dir, "segment", s.base, "err", err)
	}
}

// loadTxnIndexesLocked reads every segment's .txnindex and keeps the
// entries whose marker lies below from (the replay that follows adds the
// rest). Caller holds l.mu.
func (l *Log) loadTxnIndexesLocked(from int64) {
	for _, s := range l.segments() {
		b, err := vfs.ReadFile(s.fs, s.path(".txnindex"))
		var entries []abortedEntry
		if err == nil {
			if entries, err = decodeTxnIndex(b); err != nil {
				l.logger.Warn("ignoring aborted transaction index", "dir", l.dir, "segment", s.base, "err", err)
				entries = nil
			}
		}
		kept := slices.DeleteFunc(entries, func(e abortedEntry) bool { return e.last >= from })
		var enc []byte
		for _, e := range kept {
			enc = e.encode(enc)
		}
		if (err == nil && len(kept)*txnIndexEntrySize != len(b)) || (err != nil && !vfs.IsNotExist(err)) {
			if werr := writeIndexTail(s.fs, s.path(".txnindex"), enc, 0, true, false); werr != nil {
				l.logger.Warn("rewrite aborted transaction index", "dir", l.dir, "segment", s.base, "err", werr)
			}
		}
		s.mu.Lock()
		s.mu.aborted = kept
		s.mu.Unlock()
	}
}

// FirstUnstableOffset is the first offset of the oldest ongoing
// transaction; ok=false when there is none.
func (l *Log) FirstUnstableOffset() (int64, bool) {
	fu := l.firstUnstable.Load()
	return fu, fu >= 0
}

// LastStableOffset is the offset below which every transaction is decided,
// given the high watermark hw: the first unstable offset, at most hw.
func (l *Log) LastStableOffset(hw int64) int64 {
	if fu := l.firstUnstable.Load(); fu >= 0 {
		return min(fu, hw)
	}
	return hw
}

// AbortedTransactions returns the aborted transactions that overlap the
// offsets [from, upTo): those whose records a read_committed consumer
// reading that range must drop. Oldest marker first.
func (l *Log) AbortedTransactions(from, upTo int64) []AbortedTxn {
	var out []AbortedTxn
	segs := l.segments()
	i := max(sort.Search(len(segs), func(i int) bool { return segs[i].base > from })-1, 0)
	for _, s := range segs[i:] {
		s.mu.RLock()
		for _, e := range s.mu.aborted {
			if e.last >= from && e.first < upTo {
				out = append(out, AbortedTxn{ProducerID: e.pid, FirstOffset: e.first})
			}
		}
		s.mu.RUnlock()
	}
	return out
}

// OngoingTransactions returns each producer's ongoing transaction's first
// offset (for DescribeProducers and tests).
func (l *Log) OngoingTransactions() map[int64]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[int64]int64, len(l.mu.ongoing))
	for pid, first := range l.mu.ongoing {
		out[pid] = first
	}
	return out
}

// InTransaction reports whether the producer has an ongoing transaction
// in this partition (the leader then needs no KIP-890 verification).
func (l *Log) InTransaction(pid int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.mu.ongoing[pid]
	return ok
}

// abortedSet maps a producer to the offset ranges [first, marker] of its
// aborted transactions, for the cleaner.
type abortedSet map[int64][][2]int64

// abortedRanges collects the aborted transactions of segs' indexes.
func abortedRanges(segs []*segment) abortedSet {
	out := abortedSet{}
	for _, s := range segs {
		s.mu.RLock()
		for _, e := range s.mu.aborted {
			out[e.pid] = append(out[e.pid], [2]int64{e.first, e.last})
		}
		s.mu.RUnlock()
	}
	return out
}

// has reports whether h is a data batch of an aborted transaction.
func (a abortedSet) has(h BatchHeader) bool {
	if len(a) == 0 || !h.Transactional() || h.Control() {
		return false
	}
	for _, r := range a[h.ProducerID] {
		if h.BaseOffset >= r[0] && h.BaseOffset <= r[1] {
			return true
		}
	}
	return false
}
