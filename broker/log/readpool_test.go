package log

import "testing"

// Read's buffers come back from ReleaseRead with the capacity of their size
// class; sizes outside the pooled range are plain allocations.
func TestReadBufferSizes(t *testing.T) {
	for _, n := range []int64{0, 1, 100, 64 << 10, 64<<10 + 1, 1 << 20, 3 << 20, 16 << 20, 16<<20 + 1} {
		b := readBuffer(n)
		if int64(len(b)) != n {
			t.Fatalf("readBuffer(%d): length %d", n, len(b))
		}
		ReleaseRead(b)
		b = readBuffer(n)
		if int64(len(b)) != n {
			t.Fatalf("readBuffer(%d) after a release: length %d", n, len(b))
		}
		if n > 64<<10 && n <= 16<<20 {
			if c := cap(b); c&(c-1) != 0 || int64(c) < n || int64(c) >= 2*n {
				t.Fatalf("readBuffer(%d): capacity %d, want the power of two at or above", n, c)
			}
		}
	}
	ReleaseRead(nil, []byte{}, make([]byte, 10, 100)) // ignored
}
