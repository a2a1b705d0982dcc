package internaltopic

import (
	"encoding/binary"
	"errors"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Storage is where a coordinator's records go: the partitions of its
// internal topic. The broker's implementation appends through the
// partition logs; MemoryStorage is the in-memory one.
type Storage interface {
	// Append writes one uncompressed v2 record batch to partition p and
	// returns once it is as durable as a produced batch with acks=all.
	Append(p int32, batch []byte) error
	// Bounds returns p's log start and end offsets.
	Bounds(p int32) (start, end int64, err error)
	// Read returns whole batches starting with the one holding offset;
	// empty at the end.
	Read(p int32, offset int64) ([]byte, error)
}

// MemoryStorage is a Storage in memory: batches per partition with their
// base offsets patched in, as a log would. Tests start a second
// coordinator on the same MemoryStorage to check what it loads.
type MemoryStorage struct {
	mu    sync.Mutex
	parts map[int32][][]byte
	next  map[int32]int64
	fail  error
}

// NewMemoryStorage returns an empty MemoryStorage.
func NewMemoryStorage() *MemoryStorage {
	return &MemoryStorage{parts: map[int32][][]byte{}, next: map[int32]int64{}}
}

// Fail makes every later Append return err (nil: succeed again); nothing
// is stored while it fails.
func (s *MemoryStorage) Fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

// Append implements Storage.
func (s *MemoryStorage) Append(p int32, batch []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	b := append([]byte(nil), batch...)
	binary.BigEndian.PutUint64(b, uint64(s.next[p]))
	s.next[p] += int64(binary.BigEndian.Uint32(b[57:]))
	s.parts[p] = append(s.parts[p], b)
	return nil
}

// Bounds implements Storage.
func (s *MemoryStorage) Bounds(p int32) (int64, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return 0, s.next[p], nil
}

// Read implements Storage: every batch from the one holding offset.
func (s *MemoryStorage) Read(p int32, offset int64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []byte
	for _, b := range s.parts[p] {
		base := int64(binary.BigEndian.Uint64(b))
		last := base + int64(binary.BigEndian.Uint32(b[23:]))
		if last >= offset {
			out = append(out, b...)
		}
	}
	return out, nil
}

// Records returns how many records partition p holds.
func (s *MemoryStorage) Records(p int32) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next[p]
}

// ErrorCode is what a client is told of a failed append (or another
// failed seam call): the Kafka error the seam chose, else
// COORDINATOR_NOT_AVAILABLE (retriable; Kafka answers a failed append to
// its log with it or NOT_COORDINATOR).
func ErrorCode(err error) *kerr.Error {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke
	}
	return kerr.CoordinatorNotAvailable
}
