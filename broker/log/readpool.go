package log

import (
	"math/bits"
	"sync"
)

// Read's buffers are pooled: a leader reads every record set it sends a
// follower or a consumer into a fresh buffer (a megabyte a partition per
// fetch under load), and allocating them was 44% of the bytes a leader
// allocated in weir bench, feeding the garbage collector. A caller that is
// done with what Read returned (the Fetch handler, once the response is
// written) hands it back with ReleaseRead; anything not handed back is
// simply collected.

const (
	minPooledShift = 16 // 64 KiB: smaller reads are not pooled
	maxPooledShift = 24 // 16 MiB
)

var readPools [maxPooledShift - minPooledShift + 1]sync.Pool

// readBuffer returns a buffer of length n, pooled when n is in the pooled
// range (its capacity is then the power of two at or above n).
func readBuffer(n int64) []byte {
	shift := bits.Len64(uint64(n - 1))
	if n <= 0 || shift < minPooledShift || shift > maxPooledShift {
		return make([]byte, n)
	}
	if p, ok := readPools[shift-minPooledShift].Get().(*[]byte); ok {
		return (*p)[:n]
	}
	return make([]byte, n, 1<<shift)
}

// ReleaseRead hands buffers Read returned back for reuse. The caller must
// not touch them (or anything sliced from them) afterwards. Buffers that
// did not come from Read are ignored unless their capacity is a pooled
// size, in which case they are as good as Read's.
func ReleaseRead(bufs ...[]byte) {
	for _, b := range bufs {
		c := cap(b)
		if c == 0 || c&(c-1) != 0 {
			continue
		}
		shift := bits.Len64(uint64(c - 1))
		if shift < minPooledShift || shift > maxPooledShift {
			continue
		}
		b = b[:0]
		readPools[shift-minPooledShift].Put(&b)
	}
}
