package txn

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

var epoch0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// harness is a Coordinator on a fake clock over a MemoryStorage, with a
// producer id allocator counting from 1000 and a MarkerWriter that keeps
// each request until the test answers it.
type harness struct {
	t       testing.TB
	now     time.Time
	store   *MemoryStorage
	writer  *fakeWriter
	c       *Coordinator
	nextPID int64
	pidErr  error
	cfg     func(*Config)
	deleted map[TopicPartition]bool
	coordEp int32
}

func newHarness(t testing.TB, mods ...func(*Config)) *harness {
	h := &harness{t: t, now: epoch0, store: NewMemoryStorage(), writer: &fakeWriter{pending: map[string]pendingMarkers{}},
		nextPID: 1000, deleted: map[TopicPartition]bool{}}
	h.cfg = func(cfg *Config) {
		for _, m := range mods {
			m(cfg)
		}
	}
	h.start()
	return h
}

// start makes a new coordinator over the same storage (a failover).
func (h *harness) start() {
	cfg := Config{
		Now:                func() time.Time { return h.now },
		Logger:             slog.New(slog.NewTextHandler(io.Discard, nil)),
		NumPartitions:      4,
		OffsetsPartitions:  4,
		MaxTimeout:         15 * time.Minute,
		AbortCheckInterval: 10 * time.Second,
		MarkerRetryBackoff: 1 * time.Second,
		NewProducerID: func() (int64, error) {
			if h.pidErr != nil {
				return 0, h.pidErr
			}
			h.nextPID++
			return h.nextPID - 1, nil
		},
		PartitionExists: func(topic string, p int32) bool {
			return !h.deleted[TopicPartition{topic, p}] && !strings.HasPrefix(topic, "missing")
		},
	}
	if h.cfg != nil {
		h.cfg(&cfg)
	}
	if h.c != nil {
		h.c.Close()
	}
	h.writer.reset()
	h.c = New(cfg, h.store, h.writer)
}

func (h *harness) advance(by time.Duration) {
	h.now = h.now.Add(by)
	h.c.Tick()
}

// load makes the coordinator serve every partition.
func (h *harness) loadAll() {
	h.coordEp++
	for p := range h.c.cfg.NumPartitions {
		if err := h.c.LoadPartition(p, h.coordEp); err != nil {
			h.t.Fatal(err)
		}
	}
}

// fakeWriter keeps marker requests, one per transactional id, until the
// test answers them.
type fakeWriter struct {
	mu      sync.Mutex
	pending map[string]pendingMarkers
	sent    []Markers // since the last drain, for the script's output
}

type pendingMarkers struct {
	m    Markers
	done func(map[TopicPartition]error)
}

func (w *fakeWriter) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending, w.sent = map[string]pendingMarkers{}, nil
}

func (w *fakeWriter) WriteMarkers(m Markers, done func(map[TopicPartition]error)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	// A reload sends the markers again at a new coordinator epoch; the
	// answer to the old request would be ignored, so it is dropped.
	if old, dup := w.pending[m.TransactionalID]; dup && old.m.CoordinatorEpoch == m.CoordinatorEpoch {
		panic("two marker requests in flight for " + m.TransactionalID)
	}
	w.pending[m.TransactionalID] = pendingMarkers{m, done}
	w.sent = append(w.sent, m)
}

func (w *fakeWriter) drain() []Markers {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.sent
	w.sent = nil
	return out
}

// answer completes id's marker request with the given failures; false if
// none is pending.
func (w *fakeWriter) answer(id string, failed map[TopicPartition]error) bool {
	w.mu.Lock()
	p, ok := w.pending[id]
	delete(w.pending, id)
	w.mu.Unlock()
	if ok {
		p.done(failed)
	}
	return ok
}

func renderMarkers(m Markers) string {
	what := "abort"
	if m.Commit {
		what = "commit"
	}
	var ps []string
	for _, tp := range m.Partitions {
		ps = append(ps, tp.String())
	}
	return fmt.Sprintf("markers %s: %s pid=%d epoch=%d coordinator-epoch=%d [%s]", m.TransactionalID, what,
		m.ProducerID, m.ProducerEpoch, m.CoordinatorEpoch, strings.Join(ps, " "))
}

func parseTP(t testing.TB, s string) TopicPartition {
	i := strings.LastIndexByte(s, '-')
	if i < 0 {
		t.Fatalf("partition %q: want topic-N", s)
	}
	var p int32
	if _, err := fmt.Sscan(s[i+1:], &p); err != nil {
		t.Fatalf("partition %q: %v", s, err)
	}
	return TopicPartition{s[:i], p}
}

// kafkaError is the error a script names: a Kafka error by its name, or
// io for a plain error.
func kafkaError(t testing.TB, name string) error {
	switch name {
	case "io":
		return errors.New("input/output error")
	case "NOT_LEADER_OR_FOLLOWER": // kerr keeps the older name
		return kerr.NotLeaderForPartition
	}
	for code := int16(-1); code < 200; code++ {
		if e, ok := kerr.ErrorForCode(code).(*kerr.Error); ok && e.Message == name {
			return e
		}
	}
	t.Fatalf("unknown Kafka error %s", name)
	return nil
}

func codeName(code int16) string {
	if code == 0 {
		return "ok"
	}
	return kerr.ErrorForCode(code).(*kerr.Error).Message
}
