package log

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// Sparse indexes, Kafka's formats. An offset index entry is (relative offset
// uint32, file position uint32): the last offset of a batch, relative to the
// segment's base offset, and the position where that batch starts. A time
// index entry is (timestamp int64, relative offset uint32): the largest
// timestamp seen so far in the segment and the (last) offset of the batch
// that carried it. Both are big-endian and strictly increasing. One entry of
// each is added per index.interval.bytes of appended data.
const (
	offsetEntrySize = 8
	timeEntrySize   = 12
)

type offsetEntry struct{ rel, pos uint32 }

type timeEntry struct {
	ts  int64
	rel uint32
}

type offsetIndex []offsetEntry

type timeIndex []timeEntry

var errBadIndex = errors.New("index fails sanity check")

// lookup returns the position of the last indexed batch whose last offset is
// <= rel: scanning from there finds the batch containing rel. 0 when none.
func (x offsetIndex) lookup(rel int64) int64 {
	i := sort.Search(len(x), func(i int) bool { return int64(x[i].rel) > rel })
	if i == 0 {
		return 0
	}
	return int64(x[i-1].pos)
}

// lookup returns the relative offset of the last entry whose timestamp is
// < ts: every record up to that offset has a timestamp below ts.
func (x timeIndex) lookup(ts int64) (uint32, bool) {
	i := sort.Search(len(x), func(i int) bool { return x[i].ts >= ts })
	if i == 0 {
		return 0, false
	}
	return x[i-1].rel, true
}

func (x offsetIndex) encode(b []byte) []byte {
	for _, e := range x {
		b = binary.BigEndian.AppendUint32(b, e.rel)
		b = binary.BigEndian.AppendUint32(b, e.pos)
	}
	return b
}

func (x timeIndex) encode(b []byte) []byte {
	for _, e := range x {
		b = binary.BigEndian.AppendUint64(b, uint64(e.ts))
		b = binary.BigEndian.AppendUint32(b, e.rel)
	}
	return b
}

// decodeOffsetIndex parses an .index file and checks it against the size of
// its segment.
func decodeOffsetIndex(b []byte, logSize int64) (offsetIndex, error) {
	if len(b)%offsetEntrySize != 0 {
		return nil, fmt.Errorf("%w: size %d not a multiple of %d", errBadIndex, len(b), offsetEntrySize)
	}
	x := make(offsetIndex, len(b)/offsetEntrySize)
	for i := range x {
		e := offsetEntry{binary.BigEndian.Uint32(b[i*8:]), binary.BigEndian.Uint32(b[i*8+4:])}
		if int64(e.pos)+BatchHeaderSize > logSize {
			return nil, fmt.Errorf("%w: entry %d position %d past the segment end %d", errBadIndex, i, e.pos, logSize)
		}
		if i > 0 && (e.rel <= x[i-1].rel || e.pos <= x[i-1].pos) {
			return nil, fmt.Errorf("%w: entry %d not increasing", errBadIndex, i)
		}
		x[i] = e
	}
	return x, nil
}

// decodeTimeIndex parses a .timeindex file.
func decodeTimeIndex(b []byte) (timeIndex, error) {
	if len(b)%timeEntrySize != 0 {
		return nil, fmt.Errorf("%w: size %d not a multiple of %d", errBadIndex, len(b), timeEntrySize)
	}
	x := make(timeIndex, len(b)/timeEntrySize)
	for i := range x {
		e := timeEntry{int64(binary.BigEndian.Uint64(b[i*12:])), binary.BigEndian.Uint32(b[i*12+8:])}
		if i > 0 && (e.ts <= x[i-1].ts || e.rel < x[i-1].rel) {
			return nil, fmt.Errorf("%w: time entry %d not increasing", errBadIndex, i)
		}
		x[i] = e
	}
	return x, nil
}
