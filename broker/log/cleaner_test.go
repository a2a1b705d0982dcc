package log

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/weirhq/weir/broker/log/codec"
)

// kv is one record to write: a key (none when noKey) and a value (null
// when tomb).
type kv struct {
	key, value  string
	tomb, noKey bool
}

// keyedBatch builds a batch of records with keys, per spec s (compression,
// producer, timestamps baseTs + i*tsStep).
func keyedBatch(s spec, kvs []kv) []byte {
	if s.baseTs == 0 {
		s.baseTs = 1000
	}
	if s.pid == 0 {
		s.pid = -1
	}
	var recs []byte
	for i, r := range kvs {
		rec := kmsg.Record{TimestampDelta64: int64(i) * s.tsStep, OffsetDelta: int32(i)}
		if !r.noKey {
			rec.Key = []byte(r.key)
		}
		if !r.tomb {
			rec.Value = []byte(r.value)
		}
		body := rec.AppendTo(nil)[1:]
		recs = binary.AppendVarint(recs, int64(len(body)))
		recs = append(recs, body...)
	}
	if s.xerial {
		s.compression = codec.Snappy
		recs = codec.XerialSnappy(nil, recs, 8<<10)
	} else if s.compression != 0 {
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
		PartitionLeaderEpoch: -1, Magic: 2, Attributes: int16(s.compression) | s.attrs,
		LastOffsetDelta: int32(len(kvs) - 1), FirstTimestamp: s.baseTs, MaxTimestamp: s.baseTs + int64(len(kvs)-1)*s.tsStep,
		ProducerID: s.pid, ProducerEpoch: s.epoch, FirstSequence: seq, NumRecords: int32(len(kvs)), Records: recs,
	}
	rb.Length = int32(BatchHeaderSize - 12 + len(recs))
	b := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

// rec is a record read back, decoded with kmsg (not the cleaner's parser).
type rec struct {
	offset, ts int64
	key, value string
	tomb       bool
	noKey      bool
}

// records reads the whole log and decodes every record.
func (h *harness) records() []rec {
	h.t.Helper()
	dec := codec.NewDecompressor(64 << 20)
	var out []rec
	for off := h.log.LogStartOffset(); off < h.log.LogEndOffset(); {
		b, err := h.log.Read(off, 1<<20, math.MaxInt64, true)
		if err != nil {
			h.t.Fatalf("read at %d: %v", off, err)
		}
		if len(b) == 0 {
			break
		}
		if _, err := ValidateBatches(b, 0); err != nil {
			h.t.Fatalf("read at %d: bad batches: %v", off, err)
		}
		for len(b) > 0 {
			var rb kmsg.RecordBatch
			size := 12 + int(binary.BigEndian.Uint32(b[8:]))
			if err := rb.ReadFrom(b[:size]); err != nil {
				h.t.Fatal(err)
			}
			b = b[size:]
			off = rb.FirstOffset + int64(rb.LastOffsetDelta) + 1
			out = append(out, decodeRecords(h.t, dec, rb)...)
		}
	}
	return out
}

func decodeRecords(t testing.TB, dec *codec.Decompressor, rb kmsg.RecordBatch) []rec {
	raw := rb.Records
	if c := int8(rb.Attributes & 7); c != 0 && rb.NumRecords > 0 {
		var err error
		if raw, err = dec.Decompress(nil, c, raw); err != nil {
			t.Fatalf("decompress batch %d: %v", rb.FirstOffset, err)
		}
	}
	var out []rec
	for i := int32(0); i < rb.NumRecords; i++ {
		l, n := binary.Varint(raw)
		var r kmsg.Record
		if err := r.ReadFrom(raw[:n+int(l)]); err != nil {
			t.Fatalf("record %d of batch %d: %v", i, rb.FirstOffset, err)
		}
		raw = raw[n+int(l):]
		out = append(out, rec{
			offset: rb.FirstOffset + int64(r.OffsetDelta), ts: rb.FirstTimestamp + r.TimestampDelta64,
			key: string(r.Key), value: string(r.Value), tomb: r.Value == nil, noKey: r.Key == nil,
		})
	}
	if len(raw) != 0 {
		t.Fatalf("batch %d: %d bytes after its records", rb.FirstOffset, len(raw))
	}
	return out
}

// writer appends keyed batches and remembers every record it wrote.
type writer struct {
	h       *harness
	s       spec
	written []rec
	pending []kv
	perBat  int
}

func newWriter(h *harness, s spec, perBatch int) *writer {
	return &writer{h: h, s: s, perBat: perBatch}
}

func (w *writer) put(r kv) {
	w.pending = append(w.pending, r)
	if len(w.pending) == w.perBat {
		w.flush()
	}
}

func (w *writer) flush() {
	if len(w.pending) == 0 {
		return
	}
	s := w.s
	s.baseTs = w.h.clock.Now().UnixMilli()
	info := w.h.append(keyedBatch(s, w.pending))
	for i, r := range w.pending {
		w.written = append(w.written, rec{offset: info.FirstOffset + int64(i), ts: s.baseTs + int64(i)*s.tsStep,
			key: r.key, value: r.value, tomb: r.tomb, noKey: r.noKey})
	}
	w.pending = w.pending[:0]
	if w.s.pid >= 0 {
		w.s.seq += int32(w.perBat)
	}
}

// roll makes the active segment inactive (segment.ms in the config).
func (w *writer) roll() {
	w.flush()
	w.h.clock.Add(w.h.cfg.SegmentMs + time.Millisecond)
	if err := w.h.log.MaybeRoll(w.h.clock.Now()); err != nil {
		w.h.t.Fatal(err)
	}
}

// latest is what a full compaction keeps of the records written: per key
// its last record (the tombstone too, unless dropTombstones), every keyless
// record.
func latest(written []rec, dropTombstones bool) []rec {
	last := map[string]int64{}
	for _, r := range written {
		if !r.noKey {
			last[r.key] = r.offset
		}
	}
	var out []rec
	for _, r := range written {
		if !r.noKey && (last[r.key] != r.offset || (r.tomb && dropTombstones)) {
			continue
		}
		out = append(out, r)
	}
	return out
}

func checkRecords(t *testing.T, got, want []rec) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d\ngot  %v\nwant %v", len(got), len(want), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("record %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func cleanConfig() Config {
	return Config{SegmentBytes: 1 << 20, SegmentMs: time.Minute, IndexIntervalBytes: 256, RetentionMs: -1, RetentionBytes: -1}
}

func cleanOpts(h *harness) CleanOptions {
	return CleanOptions{MaxOffset: h.log.LogEndOffset(), DeleteRetention: time.Hour, Backoff: time.Nanosecond}
}

func (h *harness) clean(opts CleanOptions) CleanResult {
	h.t.Helper()
	res, err := h.log.Clean(h.clock.Now(), opts)
	if err != nil {
		h.t.Fatalf("clean: %v", err)
	}
	return res
}

// writeVersions writes versions of keys k0..k(keys-1) round-robin, rolling
// a segment every rollEvery records; every 7th key is deleted at the end.
func writeVersions(w *writer, keys, versions, rollEvery int) {
	n := 0
	for v := range versions {
		for k := range keys {
			w.put(kv{key: fmt.Sprintf("k%d", k), value: fmt.Sprintf("k%d-v%d", k, v)})
			if n++; n%rollEvery == 0 {
				w.roll()
			}
		}
	}
	for k := 0; k < keys; k += 7 {
		w.put(kv{key: fmt.Sprintf("k%d", k), tomb: true})
	}
	w.put(kv{noKey: true, value: "keyless"})
	w.roll()
}

func TestCleanKeepsLatestPerKey(t *testing.T) {
	h := newHarness(t, cleanConfig())
	w := newWriter(h, spec{tsStep: 1}, 5)
	writeVersions(w, 20, 30, 100)
	leo, start, segs := h.log.LogEndOffset(), h.log.LogStartOffset(), h.log.NumSegments()
	epochs := h.log.epochs.Entries()
	res := h.clean(cleanOpts(h))
	if !res.Cleaned || res.Reason != "dirty ratio" || res.End != leo {
		t.Fatalf("clean: %+v", res)
	}
	checkRecords(t, h.records(), latest(w.written, false))
	if h.log.LogEndOffset() != leo || h.log.LogStartOffset() != start || h.log.NumSegments() > segs {
		t.Fatalf("leo %d start %d segments %d; before %d %d %d", h.log.LogEndOffset(), h.log.LogStartOffset(), h.log.NumSegments(), leo, start, segs)
	}
	if !slices.Equal(h.log.epochs.Entries(), epochs) {
		t.Fatalf("leader epochs %v, before %v", h.log.epochs.Entries(), epochs)
	}
	if res.NextDeleteHorizon != h.clock.Now().Add(time.Hour).UnixMilli() {
		t.Fatalf("next delete horizon %d", res.NextDeleteHorizon)
	}
	if n := len(h.segmentFiles(".cleaned")) + len(h.segmentFiles(".swap")) + len(h.segmentFiles(cleanRangeExt)); n != 0 {
		t.Fatalf("%d cleaner files left", n)
	}

	// Nothing new: not due until the tombstones' horizon.
	h.clock.Add(59 * time.Minute)
	if res := h.clean(cleanOpts(h)); res.Cleaned {
		t.Fatalf("cleaned again before the delete horizon: %+v", res)
	}
	h.clock.Add(time.Minute)
	res = h.clean(cleanOpts(h))
	if res.Reason != "delete horizon" || res.TombstonesDropped != 3 || res.NextDeleteHorizon != math.MaxInt64 {
		t.Fatalf("clean after the delete horizon: %+v", res)
	}
	checkRecords(t, h.records(), latest(w.written, true))

	// The same after a restart, and the checkpoint says it is all clean.
	h.reopen()
	checkRecords(t, h.records(), latest(w.written, true))
	if res := h.clean(cleanOpts(h)); res.Cleaned {
		t.Fatalf("cleaned after reopen: %+v", res)
	}
}

// TestCleanBatchHeaders: a batch that loses records keeps its base offset,
// lastOffsetDelta, producer fields, leader epoch and timestamps.
func TestCleanBatchHeaders(t *testing.T) {
	h := newHarness(t, cleanConfig())
	w := newWriter(h, spec{tsStep: 10, pid: 9, epoch: 2}, 4)
	for i := range 8 {
		w.put(kv{key: fmt.Sprintf("k%d", i%3), value: fmt.Sprint(i)})
	}
	w.put(kv{key: "last", value: "x"})
	w.roll()
	before := h.readAll(0)
	h.clean(cleanOpts(h))
	after := h.readAll(0)
	// k0 at 0,3,6; k1 at 1,4,7; k2 at 2,5: the first batch keeps nothing
	// and is not the producer's last, so it goes; the second keeps 5, 6, 7.
	if len(after) != 2 || after[0].NumRecords != 3 || after[1].NumRecords != 1 {
		t.Fatalf("batches after cleaning: %+v", after)
	}
	for i, a := range after {
		b := before[i+1]
		b.Length, b.CRC, b.NumRecords = a.Length, a.CRC, a.NumRecords
		if a != b {
			t.Fatalf("batch %d header\n got %+v\nwant %+v", i, a, b)
		}
	}
	checkRecords(t, h.records(), latest(w.written, false))
}

func TestCleanCompressedBatches(t *testing.T) {
	for _, c := range []struct {
		name string
		s    spec
	}{
		{"gzip", spec{compression: codec.Gzip}},
		{"snappy", spec{compression: codec.Snappy}},
		{"snappy-xerial", spec{compression: codec.Snappy, xerial: true}},
		{"lz4", spec{compression: codec.LZ4}},
		{"zstd", spec{compression: codec.Zstd}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, cleanConfig())
			c.s.tsStep = 1
			w := newWriter(h, c.s, 10)
			writeVersions(w, 12, 10, 40)
			h.clean(cleanOpts(h))
			checkRecords(t, h.records(), latest(w.written, false))
			for _, b := range h.readAll(0) {
				if b.Compression() != c.s.compression && b.NumRecords > 0 {
					t.Fatalf("batch %d: codec %d, want %d", b.BaseOffset, b.Compression(), c.s.compression)
				}
			}
			h.clock.Add(time.Hour)
			h.clean(cleanOpts(h))
			checkRecords(t, h.records(), latest(w.written, true))
		})
	}
}

func TestCleanMinCompactionLag(t *testing.T) {
	h := newHarness(t, cleanConfig())
	w := newWriter(h, spec{}, 5)
	writeVersions(w, 5, 4, 10) // old segments
	old := len(w.written)
	h.clock.Add(time.Hour)
	for v := range 4 {
		for k := range 5 {
			w.put(kv{key: fmt.Sprintf("k%d", k), value: fmt.Sprintf("new-%d", v)})
		}
		w.roll()
	}
	opts := cleanOpts(h)
	opts.MinCompactionLag = 30 * time.Minute
	res := h.clean(opts)
	if res.End != w.written[old].offset {
		t.Fatalf("cleaned up to %d, want the first young segment at %d", res.End, w.written[old].offset)
	}
	// The young records stay as written; the old ones are compacted among
	// themselves only.
	want := append(latest(w.written[:old], false), w.written[old:]...)
	checkRecords(t, h.records(), want)
}

func TestCleanDirtyRatioAndMaxLag(t *testing.T) {
	h := newHarness(t, cleanConfig())
	w := newWriter(h, spec{}, 5)
	writeVersions(w, 50, 1, 1000) // 50 distinct keys: the clean section
	opts := cleanOpts(h)
	opts.MinCleanableRatio = 0.5
	h.clean(opts)
	for k := range 5 {
		w.put(kv{key: fmt.Sprintf("k%d", k), value: "again"})
	}
	w.roll()
	opts.MaxOffset = h.log.LogEndOffset()
	if res := h.clean(opts); res.Cleaned || res.DirtyRatio >= 0.5 || res.DirtyRatio <= 0 {
		t.Fatalf("cleaned below min.cleanable.dirty.ratio: %+v", res)
	}
	opts.MaxCompactionLag = time.Hour
	if res := h.clean(opts); res.Cleaned {
		t.Fatalf("cleaned before max.compaction.lag.ms: %+v", res)
	}
	h.clock.Add(2 * time.Hour)
	if res := h.clean(opts); res.Reason != "max compaction lag" {
		t.Fatalf("not cleaned past max.compaction.lag.ms: %+v", res)
	}
	checkRecords(t, h.records(), latest(w.written, true)) // two hours: past the tombstones' horizon too
}

func TestCleanStopsAtMaxOffset(t *testing.T) {
	h := newHarness(t, cleanConfig())
	w := newWriter(h, spec{}, 5)
	writeVersions(w, 5, 4, 10)
	hw := w.written[20].offset // a segment boundary: 10 records a segment
	for range 2 {
		w.put(kv{key: "k1", value: "late"})
	}
	w.roll()
	opts := cleanOpts(h)
	opts.MaxOffset = hw
	if res := h.clean(opts); res.End != hw {
		t.Fatalf("cleaned to %d, want the high watermark %d", res.End, hw)
	}
	want := append(latest(w.written[:20], false), w.written[20:]...)
	checkRecords(t, h.records(), want)
}

// TestCleanKeepsProducersLastBatch: a producer's newest batch survives,
// emptied, so its sequence numbers survive a rebuild of producer state.
func TestCleanKeepsProducersLastBatch(t *testing.T) {
	h := newHarness(t, cleanConfig())
	idem := newWriter(h, spec{pid: 5, epoch: 1}, 1)
	for i := range 3 {
		idem.put(kv{key: "a", value: fmt.Sprint(i)})
	}
	other := newWriter(h, spec{}, 1)
	other.put(kv{key: "a", value: "later"})
	other.roll()
	if res := h.clean(cleanOpts(h)); res.EmptyBatchesKept != 1 {
		t.Fatalf("clean: %+v", res)
	}
	hdrs := h.readAll(0)
	if len(hdrs) != 2 || hdrs[0].BaseOffset != 2 || hdrs[0].NumRecords != 0 || hdrs[0].ProducerID != 5 || hdrs[0].BaseSequence != 2 {
		t.Fatalf("batches after cleaning: %+v", hdrs)
	}
	// Rebuild producer state from the log alone.
	h.log.Close()
	for _, f := range h.segmentFiles(".snapshot") {
		os.Remove(f)
	}
	h.open()
	if _, err := h.tryAppend(keyedBatch(spec{pid: 5, epoch: 1, seq: 3}, []kv{{key: "a", value: "3"}})); err != nil {
		t.Fatalf("producer's next sequence after cleaning and rebuild: %v", err)
	}
	if info, _ := h.tryAppend(keyedBatch(spec{pid: 5, epoch: 1, seq: 3}, []kv{{key: "a", value: "3"}})); !info.Duplicate {
		t.Fatal("retry not recognised after cleaning")
	}
}

// TestCleanGroupsSegments: small cleaned segments merge, never more
// segments than before.
func TestCleanGroupsSegments(t *testing.T) {
	h := newHarness(t, cleanConfig())
	w := newWriter(h, spec{}, 5)
	writeVersions(w, 10, 20, 20)
	before := h.log.NumSegments()
	res := h.clean(cleanOpts(h))
	if res.SegmentsOut != 1 || h.log.NumSegments() != 2 || res.SegmentsIn != before-1 {
		t.Fatalf("segments %d → %d: %+v", before, h.log.NumSegments(), res)
	}
	h.log.SetConfig(Config{SegmentBytes: 512, SegmentMs: time.Minute, IndexIntervalBytes: 256})
	h.cfg.SegmentBytes = 512
	writeVersions(w, 10, 20, 20)
	before = h.log.NumSegments()
	h.clean(cleanOpts(h))
	if h.log.NumSegments() > before {
		t.Fatalf("%d segments after cleaning, %d before", h.log.NumSegments(), before)
	}
	for _, s := range h.log.segments()[:h.log.NumSegments()-1] {
		if s.size.Load() > 512 && len(h.log.segments()) > 2 {
			t.Fatalf("segment %d of %d bytes past segment.bytes", s.base, s.size.Load())
		}
	}
	checkRecords(t, h.records(), latest(w.written, false))
}

func TestCleanWhileAppendingAndReading(t *testing.T) {
	h := newHarness(t, Config{SegmentBytes: 2048, IndexIntervalBytes: 256, RetentionMs: -1, RetentionBytes: -1})
	w := newWriter(h, spec{}, 3)
	writeVersions(w, 10, 10, 1000)
	var wg sync.WaitGroup
	stop, appended := make(chan struct{}), make(chan struct{})
	wg.Add(2)
	go func() { // appends (rolling by size) meanwhile
		defer wg.Done()
		defer close(appended)
		for i := range 3000 {
			w.put(kv{key: fmt.Sprintf("k%d", i%10), value: fmt.Sprintf("live-%d", i)})
		}
		w.flush()
	}()
	go func() { // readers hold segments the cleaner replaces
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := h.log.Read(h.log.LogStartOffset(), 1<<20, math.MaxInt64, true); err != nil {
				t.Errorf("read during cleaning: %v", err)
				return
			}
		}
	}()
	cleaned := 0
	for done := false; !done; {
		select {
		case <-appended:
			done = true
		default:
		}
		h.clock.Add(time.Second)
		if res := h.clean(cleanOpts(h)); res.Cleaned {
			cleaned++
		}
	}
	close(stop)
	wg.Wait()
	if cleaned < 2 {
		t.Fatalf("cleaned %d times", cleaned)
	}
	t.Logf("cleaned %d times during appends", cleaned)
	got := h.records()
	fold := func(rs []rec) map[string]rec {
		m := map[string]rec{}
		for _, r := range rs {
			m[r.key] = r
		}
		return m
	}
	if g, want := fold(got), fold(w.written); !maps.Equal(g, want) {
		t.Fatalf("latest per key after cleaning during appends:\n got %v\nwant %v", g, want)
	}
	for i := 1; i < len(got); i++ {
		if got[i].offset <= got[i-1].offset {
			t.Fatalf("offsets not increasing at %d: %d after %d", i, got[i].offset, got[i-1].offset)
		}
	}
	if h.log.LogEndOffset() != w.written[len(w.written)-1].offset+1 {
		t.Fatalf("log end %d, last written %d", h.log.LogEndOffset(), w.written[len(w.written)-1].offset)
	}
}

// TestCleanAbortsOnTruncation: a truncation between the rewrite and the
// swap wins; nothing is swapped and nothing is left behind.
func TestCleanAbortsOnTruncation(t *testing.T) {
	h := newHarness(t, cleanConfig())
	w := newWriter(h, spec{}, 5)
	writeVersions(w, 5, 10, 10)
	cut := w.written[30].offset
	h.log.cleanerCrash = func(stage string) bool {
		if stage == "swap" {
			if err := h.log.Truncate(cut); err != nil {
				t.Error(err)
			}
		}
		return false
	}
	res := h.clean(cleanOpts(h))
	if !res.Aborted {
		t.Fatalf("clean went on after a truncation: %+v", res)
	}
	if n := len(h.segmentFiles(swapSuffix)); n != 0 {
		t.Fatalf("%d swap files left", n)
	}
	h.log.cleanerCrash = nil
	checkRecords(t, h.records(), w.written[:30])
	h.clock.Add(time.Second)
	h.clean(cleanOpts(h))
	checkRecords(t, h.records(), latest(w.written[:30], false))
}

// TestCleanCrashAtEachStep stops a cleaning dead at each step of the swap
// and opens a copy of the directory as the crash left it: the log reads
// back whole (compacted or not) and the next cleaning finishes the job.
func TestCleanCrashAtEachStep(t *testing.T) {
	// "doomed first": before the first original is renamed to .deleted;
	// "doomed half": half of them are.
	for _, stage := range []string{"cleaned", "swap", "doomed first", "doomed half", "renamed indexes"} {
		t.Run(stage, func(t *testing.T) {
			h := newHarness(t, cleanConfig())
			w := newWriter(h, spec{}, 5)
			writeVersions(w, 8, 6, 8) // 6 inactive segments, one group
			leo := h.log.LogEndOffset()
			want := latest(w.written, false)
			h.log.cleanerCrash = func(s string) bool {
				var j, n int
				if _, err := fmt.Sscanf(s, "doomed %d/%d", &j, &n); err == nil {
					return (stage == "doomed first" && j == 0) || (stage == "doomed half" && n >= 4 && j == n/2)
				}
				return s == stage
			}
			if _, err := h.log.Clean(h.clock.Now(), cleanOpts(h)); err == nil || !strings.Contains(err.Error(), errSimulatedCrash.Error()) {
				t.Fatalf("clean did not stop at %q: %v", stage, err)
			}
			h.crash()
			for _, ext := range []string{cleanedSuffix, swapSuffix, deletedSuffix, cleanRangeExt} {
				if m := h.segmentFiles(ext); len(m) != 0 {
					t.Fatalf("left after recovery: %v", m)
				}
			}
			if h.log.LogEndOffset() != leo {
				t.Fatalf("log end %d after recovery, want %d", h.log.LogEndOffset(), leo)
			}
			got := h.records()
			if stage == "cleaned" {
				checkRecords(t, got, w.written) // rolled back
			} else {
				checkRecords(t, got, want) // rolled forward
			}
			h.clean(cleanOpts(h))
			checkRecords(t, h.records(), want)
		})
	}
}

// TestRecoverSwapWithoutRangeFile: Kafka's rule, the swap replaces the
// segments up to its last batch.
func TestRecoverSwapWithoutRangeFile(t *testing.T) {
	h := newHarness(t, cleanConfig())
	w := newWriter(h, spec{}, 5)
	writeVersions(w, 8, 6, 8)
	h.log.cleanerCrash = func(s string) bool { return s == "swap" }
	h.log.Clean(h.clock.Now(), cleanOpts(h))
	os.Remove(segmentPath(h.dir, 0, cleanRangeExt+swapSuffix))
	h.crash()
	if m := h.segmentFiles(swapSuffix); len(m) != 0 {
		t.Fatalf("left after recovery: %v", m)
	}
	got := h.records()
	for i := 1; i < len(got); i++ {
		if got[i].offset <= got[i-1].offset {
			t.Fatalf("offsets not increasing at %d: %d after %d", i, got[i].offset, got[i-1].offset)
		}
	}
	h.clean(cleanOpts(h))
	checkRecords(t, h.records(), latest(w.written, false))
}

// TestReplicateCompactedLog: a follower copies a compacted log through
// Read, ValidateBatches and AppendReplica, gaps and emptied batches included.
func TestReplicateCompactedLog(t *testing.T) {
	leader := newHarness(t, cleanConfig())
	w := newWriter(leader, spec{pid: 4}, 3)
	writeVersions(w, 6, 5, 9)
	leader.clean(cleanOpts(leader))
	if hdrs := leader.readAll(0); hdrs[0].BaseOffset == 0 {
		t.Fatalf("the test wants a gap at the start: %+v", hdrs[0])
	}
	follower := newHarness(t, cleanConfig())
	for off := int64(0); off < leader.log.LogEndOffset(); {
		b, err := leader.log.Read(off, 300, math.MaxInt64, true)
		if err != nil {
			t.Fatal(err)
		}
		hdrs, err := ValidateBatches(b, 0)
		if err != nil {
			t.Fatalf("follower validating the leader's batches at %d: %v", off, err)
		}
		if err := follower.log.AppendReplica(b, hdrs); err != nil {
			t.Fatalf("follower appending at %d: %v", off, err)
		}
		off = hdrs[len(hdrs)-1].LastOffset() + 1
	}
	if follower.log.LogEndOffset() != leader.log.LogEndOffset() {
		t.Fatalf("follower end %d, leader %d", follower.log.LogEndOffset(), leader.log.LogEndOffset())
	}
	checkRecords(t, follower.records(), latest(w.written, false))
	follower.reopen()
	checkRecords(t, follower.records(), latest(w.written, false))
}

func TestCleanKeylessAndControlBatches(t *testing.T) {
	h := newHarness(t, cleanConfig())
	w := newWriter(h, spec{}, 2)
	w.put(kv{key: "a", value: "1"})
	w.put(kv{noKey: true, value: "n1"})
	w.put(kv{key: "a", value: "2"})
	w.put(kv{noKey: true, value: "n2"})
	w.flush()
	ctrl := keyedBatch(spec{pid: 3, attrs: attrControl | attrTransactional}, []kv{{key: "\x00\x00\x00\x00", value: "\x00\x00\x00\x00\x00\x00"}})
	info := h.append(ctrl)
	w.written = append(w.written, rec{offset: info.FirstOffset, ts: 1000, key: "\x00\x00\x00\x00", value: "\x00\x00\x00\x00\x00\x00"})
	w.roll()
	h.clean(cleanOpts(h))
	// The control record's key is a control key, not a compaction key: kept.
	want := []rec{w.written[1], w.written[2], w.written[3], w.written[4]}
	checkRecords(t, h.records(), want)
}

func TestCleanerCheckpointFollowsTruncation(t *testing.T) {
	h := newHarness(t, cleanConfig())
	w := newWriter(h, spec{}, 5)
	writeVersions(w, 5, 4, 10)
	h.clean(cleanOpts(h))
	cut := w.written[10].offset
	if err := h.log.Truncate(cut); err != nil {
		t.Fatal(err)
	}
	w.written = slices.DeleteFunc(w.written, func(r rec) bool { return r.offset >= cut })
	w.roll() // nothing pending; an empty active segment does not roll
	for range 3 {
		for k := range 5 {
			w.put(kv{key: fmt.Sprintf("k%d", k), value: "after truncation"})
		}
		w.roll()
	}
	res := h.clean(cleanOpts(h))
	if res.FirstDirty > cut {
		t.Fatalf("dirty section from %d, after the truncation point %d", res.FirstDirty, cut)
	}
	checkRecords(t, h.records(), latest(w.written, false))
}

func TestCleanerCheckpointCodec(t *testing.T) {
	c := cleanerCheckpoint{firstDirty: 12345, nextHorizon: 99}
	got, err := decodeCleanerCheckpoint(encodeCleanerCheckpoint(c))
	if err != nil || got != c {
		t.Fatalf("round trip %+v: %+v %v", c, got, err)
	}
	b := encodeCleanerCheckpoint(c)
	b[10] ^= 1
	if _, err := decodeCleanerCheckpoint(b); err == nil {
		t.Fatal("damaged checkpoint accepted")
	}
	end, err := decodeCleanRange(encodeCleanRange(777))
	if err != nil || end != 777 {
		t.Fatalf("clean range round trip: %d %v", end, err)
	}
}

// BenchmarkClean compacts a 64 MiB log (as stored: compressed batches hold
// more) of 100-byte values over 10,000 keys, batches of 100 records;
// MB/s is over the bytes read.
func BenchmarkClean(b *testing.B) {
	for _, c := range []struct {
		name  string
		codec int8
	}{{"none", codec.None}, {"lz4", codec.LZ4}, {"zstd", codec.Zstd}} {
		b.Run(c.name, func(b *testing.B) { benchmarkClean(b, c.codec) })
	}
}

func benchmarkClean(b *testing.B, compression int8) {
	tmpl := filepath.Join(b.TempDir(), "tmpl-0")
	cfg := Config{SegmentBytes: 16 << 20, IndexIntervalBytes: 4096, RetentionMs: -1, RetentionBytes: -1}
	l, err := Open(tmpl, cfg, Options{})
	if err != nil {
		b.Fatal(err)
	}
	kvs := make([]kv, 100)
	for i := 0; l.Size() < 64<<20; i++ {
		for j := range kvs {
			n := i*len(kvs) + j
			// Half random hex, half repeated: compresses about 2:1.
			value := fmt.Sprintf("%016x%016x%016x%016x", uint64(n)*0x9e3779b97f4a7c15, uint64(n)*0xc2b2ae3d27d4eb4f, uint64(n)*0x165667b19e3779f9, uint64(n)*0x27d4eb2f165667c5)[:50] + strings.Repeat("v", 50)
			kvs[j] = kv{key: fmt.Sprintf("key-%06d", (n*7919)%10000), value: value}
		}
		bt := keyedBatch(spec{compression: compression}, kvs)
		hdrs, _ := ValidateBatches(bt, 0)
		if _, err := l.Append(bt, hdrs, AppendOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	size := l.Size()
	l.Close()
	b.SetBytes(size)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), fmt.Sprintf("run%d-0", i))
		if err := os.CopyFS(dir, os.DirFS(tmpl)); err != nil {
			b.Fatal(err)
		}
		l, err := Open(dir, cfg, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := l.Clean(time.Now(), CleanOptions{MaxOffset: math.MaxInt64, DeleteRetention: time.Hour})
		b.StopTimer()
		if err != nil || !res.Cleaned || res.BytesOut >= res.BytesIn {
			b.Fatalf("clean: %+v %v", res, err)
		}
		b.ReportMetric(float64(res.BytesOut)/float64(res.BytesIn), "out/in")
		b.ReportMetric(float64(res.RecordsRead)/res.Took.Seconds(), "records/s")
		l.Close()
		b.StartTimer()
	}
}

// FuzzCleanBatch feeds arbitrary batches to the cleaner's record parser
// and rewriter: no panic, and whatever it writes is a valid stored batch
// with the original's offsets.
func FuzzCleanBatch(f *testing.F) {
	kvs := []kv{{key: "a", value: "1"}, {key: "b", tomb: true}, {noKey: true, value: "x"}, {key: "a", value: "2"}}
	for _, c := range []int8{codec.None, codec.Gzip, codec.Snappy, codec.LZ4, codec.Zstd} {
		f.Add(keyedBatch(spec{compression: c, tsStep: 3, pid: 1}, kvs), int64(2))
	}
	f.Fuzz(func(t *testing.T, b []byte, latestA int64) {
		if len(b) >= BatchHeaderSize { // reach the records: frame the bytes as one batch
			binary.BigEndian.PutUint32(b[8:], uint32(len(b)-batchLengthOverhead))
			b[magicOffset] = 2
			binary.BigEndian.PutUint32(b[crcOffset:], crc32c(b[crcStart:]))
		}
		hdrs, err := ValidateBatches(b, 0)
		if err != nil || len(hdrs) != 1 {
			return
		}
		h := hdrs[0]
		m := &offsetMap{m: map[string]int64{"a": latestA, "b": latestA + 1}}
		fl := &batchFilter{keys: m, now: 5000, horizon: 9000, lastBatch: map[int64]int64{h.ProducerID: h.LastOffset()}}
		out, _, err := fl.filter(b, h)
		if err != nil || out == nil {
			return
		}
		got, err := ValidateBatches(out, 0)
		if err != nil {
			t.Fatalf("cleaned batch invalid: %v", err)
		}
		g := got[0]
		if g.BaseOffset != h.BaseOffset || g.LastOffsetDelta != h.LastOffsetDelta || g.ProducerID != h.ProducerID || g.NumRecords > h.NumRecords {
			t.Fatalf("cleaned header %+v from %+v", g, h)
		}
	})
}
