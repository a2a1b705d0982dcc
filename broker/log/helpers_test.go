package log

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/weirhq/weir/broker/log/codec"
	"github.com/weirhq/weir/internal/vfs"
)

// spec describes a record batch to build.
type spec struct {
	n           int   // records (default 1)
	valueSize   int   // bytes per value
	baseTs      int64 // first record's timestamp (default 1000)
	tsStep      int64 // timestamp increment per record
	pid         int64 // producer id (default -1: none)
	epoch       int16
	seq         int32
	compression int8               // codec: the records section is compressed with it
	tsDeltas    []int64            // per-record timestamp deltas instead of i*tsStep
	xerial      bool               // snappy in snappy-java's xerial framing (8 KiB chunks)
	value       func(i int) []byte // record i's value instead of valueSize letters
	attrs       int16              // more attribute bits (LogAppendTime, control...)
	key         func(i int) []byte // record i's key (nil: keyless records)
}

// batch builds a record batch v2 with kmsg; records are encoded per Kafka's
// record format with the timestamps baseTs + i*tsStep (or + tsDeltas[i]),
// and compressed as a producer would with s.compression.
func batch(s spec) []byte {
	if s.n == 0 {
		s.n = 1
	}
	if s.baseTs == 0 {
		s.baseTs = 1000
	}
	if s.pid == 0 {
		s.pid = -1
	}
	if s.xerial {
		s.compression = codec.Snappy
	}
	var recs []byte
	maxTs := int64(-1 << 63)
	for i := range s.n {
		value := bytes.Repeat([]byte{byte('a' + i%26)}, s.valueSize)
		if s.value != nil {
			value = s.value(i)
		}
		tsDelta := int64(i) * s.tsStep
		if s.tsDeltas != nil {
			tsDelta = s.tsDeltas[i]
		}
		maxTs = max(maxTs, s.baseTs+tsDelta)
		r := kmsg.Record{TimestampDelta64: tsDelta, OffsetDelta: int32(i), Value: value}
		if s.key != nil {
			r.Key = s.key(i)
		}
		body := r.AppendTo(nil)[1:] // Length 0 encodes as one byte; drop it
		recs = binary.AppendVarint(recs, int64(len(body)))
		recs = append(recs, body...)
	}
	switch {
	case s.xerial:
		recs = codec.XerialSnappy(nil, recs, 8<<10)
	case s.compression != 0:
		var err error
		if recs, err = codec.Compress(nil, s.compression, recs); err != nil {
			panic(err)
		}
	}
	seq := s.seq
	if s.pid < 0 {
		seq = -1
	}
	rb := kmsg.RecordBatch{
		FirstOffset: 0, PartitionLeaderEpoch: -1, Magic: 2, Attributes: int16(s.compression) | s.attrs,
		LastOffsetDelta: int32(s.n - 1), FirstTimestamp: s.baseTs, MaxTimestamp: maxTs,
		ProducerID: s.pid, ProducerEpoch: s.epoch, FirstSequence: seq, NumRecords: int32(s.n), Records: recs,
	}
	rb.Length = int32(BatchHeaderSize - 12 + len(recs))
	b := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

func concat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// clock is an injectable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.UnixMilli(1_700_000_000_000)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimRight(b, "\n")))
	return len(b), nil
}

func smallConfig() Config {
	return Config{SegmentBytes: 4096, IndexIntervalBytes: 256, RetentionMs: -1, RetentionBytes: -1}
}

type harness struct {
	t     testing.TB
	dir   string
	cfg   Config
	clock *clock
	log   *Log
	usage *Usage     // passed to Open; nil: none
	fs    vfs.FS     // passed to Open; nil: the disk
	files *FileCache // passed to Open; nil: DefaultFileCache
}

func newHarness(t testing.TB, cfg Config) *harness {
	h := &harness{t: t, dir: filepath.Join(t.TempDir(), "topic-0"), cfg: cfg, clock: newClock()}
	h.open()
	t.Cleanup(func() {
		if h.log != nil {
			h.log.Close()
		}
	})
	return h
}

func (h *harness) open() *Log {
	h.t.Helper()
	l, err := Open(h.dir, h.cfg, Options{Logger: testLogger(h.t), Now: h.clock.Now, Usage: h.usage, FS: h.fs, Files: h.files})
	if err != nil {
		h.t.Fatalf("open: %v", err)
	}
	h.log = l
	return l
}

func (h *harness) reopen() *Log {
	h.t.Helper()
	if err := h.log.Close(); err != nil {
		h.t.Fatalf("close: %v", err)
	}
	return h.open()
}

// crash abandons the log without closing it (as kill -9 would) and opens a
// copy of its directory as it is on disk now.
func (h *harness) crash() *Log {
	h.t.Helper()
	dst := filepath.Join(h.t.TempDir(), "crashed-0")
	copyDir(h.t, h.dir, dst)
	old := h.log
	h.t.Cleanup(func() { old.Close() })
	h.dir = dst
	return h.open()
}

func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}

// append validates and appends batches.
func (h *harness) append(bs ...[]byte) AppendInfo {
	h.t.Helper()
	info, err := h.tryAppend(bs...)
	if err != nil {
		h.t.Fatalf("append: %v", err)
	}
	return info
}

func (h *harness) tryAppend(bs ...[]byte) (AppendInfo, error) {
	h.t.Helper()
	recs := concat(bs...)
	hdrs, err := ValidateBatches(recs, 0)
	if err != nil {
		h.t.Fatalf("validate: %v", err)
	}
	return h.log.Append(recs, hdrs, AppendOptions{LeaderEpoch: 7, Now: h.clock.Now()})
}

// readAll reads every batch from offset to the end and returns their headers.
func (h *harness) readAll(from int64) []BatchHeader {
	h.t.Helper()
	var out []BatchHeader
	for off := from; off < h.log.LogEndOffset(); {
		b, err := h.log.Read(off, 1<<20, 1<<62, true)
		if err != nil {
			h.t.Fatalf("read at %d: %v", off, err)
		}
		hdrs, err := ValidateBatches(b, 0)
		if err != nil {
			h.t.Fatalf("read at %d returned bad batches: %v", off, err)
		}
		out = append(out, hdrs...)
		off = hdrs[len(hdrs)-1].LastOffset() + 1
	}
	return out
}

func (h *harness) segmentFiles(ext string) []string {
	h.t.Helper()
	m, _ := filepath.Glob(filepath.Join(h.dir, "*"+ext))
	return m
}
