package log

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// usageHarness opens a log counted in u.
func usageHarness(t *testing.T, cfg Config, u *Usage) *harness {
	t.Helper()
	h := newHarness(t, cfg)
	h.usage = u
	h.reopen()
	return h
}

// segmentBytesOnDisk sums the sizes of the .log files in dir.
func segmentBytesOnDisk(t *testing.T, dir string) int64 {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".log") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		n += fi.Size()
	}
	return n
}

// checkUsage: the Usage equals the sum of the logs' sizes, and each size
// equals the segment bytes on disk.
func checkUsage(t *testing.T, what string, u *Usage, hs ...*harness) {
	t.Helper()
	var sum int64
	for _, h := range hs {
		if h.log.closed.Load() {
			continue
		}
		if disk := segmentBytesOnDisk(t, h.dir); h.log.Size() != disk {
			t.Fatalf("%s: %s Size %d, segment files hold %d", what, filepath.Base(h.dir), h.log.Size(), disk)
		}
		sum += h.log.Size()
	}
	if u.Bytes() != sum {
		t.Fatalf("%s: Usage %d, the logs hold %d", what, u.Bytes(), sum)
	}
}

// TestUsageFollowsEveryChange walks one log through each operation that
// changes its size, beside a second log sharing the Usage, checking the
// count against the files on disk after each.
func TestUsageFollowsEveryChange(t *testing.T) {
	u := &Usage{}
	cfg := smallConfig()
	h := usageHarness(t, cfg, u)
	other := usageHarness(t, cfg, u)
	other.append(batch(spec{valueSize: 500}))
	checkUsage(t, "opened", u, h, other)

	for range 40 {
		h.append(batch(spec{valueSize: 300}))
	}
	if h.log.NumSegments() < 3 {
		t.Fatalf("%d segments: the appends should have rolled", h.log.NumSegments())
	}
	checkUsage(t, "appends across rolls", u, h, other)

	before := u.Bytes()
	h.log.SetConfig(Config{SegmentBytes: cfg.SegmentBytes, IndexIntervalBytes: 256, RetentionMs: -1, RetentionBytes: 5000})
	if n, err := h.log.EnforceRetention(h.clock.Now()); err != nil || n == 0 {
		t.Fatalf("retention deleted %d segments: %v", n, err)
	}
	if u.Bytes() >= before {
		t.Fatalf("retention: usage %d, before %d", u.Bytes(), before)
	}
	checkUsage(t, "retention", u, h, other)

	if _, err := h.log.DeleteRecordsBefore(h.log.LogEndOffset() - 3); err != nil {
		t.Fatal(err)
	}
	checkUsage(t, "delete records", u, h, other)

	if err := h.log.Truncate(h.log.LogEndOffset() - 2); err != nil {
		t.Fatal(err)
	}
	checkUsage(t, "truncate", u, h, other)

	if err := h.log.TruncateFullyAndStartAt(h.log.LogEndOffset() + 100); err != nil {
		t.Fatal(err)
	}
	if h.log.Size() != 0 {
		t.Fatalf("size %d after a full truncation", h.log.Size())
	}
	checkUsage(t, "full truncation", u, h, other)

	h.reopen()
	checkUsage(t, "reopen", u, h, other)

	if err := other.log.Delete(); err != nil {
		t.Fatal(err)
	}
	checkUsage(t, "delete", u, h)
	if err := h.log.Close(); err != nil {
		t.Fatal(err)
	}
	if u.Bytes() != 0 {
		t.Fatalf("usage %d with every log closed", u.Bytes())
	}
}

// TestUsageFollowsReplicaAppendsAndCompaction: a follower's appends count
// like a leader's, and a compaction swap takes off what it removed.
func TestUsageFollowsReplicaAppendsAndCompaction(t *testing.T) {
	u := &Usage{}
	leader := newHarness(t, cleanConfig())
	w := newWriter(leader, spec{tsStep: 1}, 5)
	writeVersions(w, 20, 30, 100)
	follower := usageHarness(t, cleanConfig(), u)
	for off := int64(0); off < leader.log.LogEndOffset(); {
		b, _ := leader.log.Read(off, 1<<20, 1<<62, true)
		hdrs, err := ValidateBatches(b, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := follower.log.AppendReplica(b, hdrs); err != nil {
			t.Fatal(err)
		}
		off = hdrs[len(hdrs)-1].LastOffset() + 1
	}
	checkUsage(t, "replica appends", u, follower)
	if u.Bytes() != leader.log.Size() {
		t.Fatalf("follower counts %d, the leader holds %d", u.Bytes(), leader.log.Size())
	}

	before := u.Bytes()
	if err := follower.log.MaybeRoll(follower.clock.Now().Add(cleanConfig().SegmentMs)); err != nil {
		t.Fatal(err)
	}
	if res := follower.clean(cleanOpts(follower)); !res.Cleaned {
		t.Fatalf("no cleaning: %+v", res)
	}
	if u.Bytes() >= before {
		t.Fatalf("compaction: usage %d, before %d", u.Bytes(), before)
	}
	checkUsage(t, "compaction", u, follower)
}

// TestAdmitRefusesBeforeWriting: an append Admit refuses writes nothing and
// leaves the producer state as it was, so the producer's retry fits in
// sequence once there is room; a retry of a batch already written is
// acknowledged without asking.
func TestAdmitRefusesBeforeWriting(t *testing.T) {
	u := &Usage{}
	h := usageHarness(t, smallConfig(), u)
	first := batch(spec{valueSize: 100, pid: 5, seq: 0})
	h.append(first)
	size, leo := u.Bytes(), h.log.LogEndOffset()

	refuse := func(n int64) error { return errFull }
	appendWith := func(b []byte, admit func(int64) error) (AppendInfo, error) {
		hdrs, err := ValidateBatches(b, 0)
		if err != nil {
			t.Fatal(err)
		}
		return h.log.Append(b, hdrs, AppendOptions{LeaderEpoch: 7, Now: h.clock.Now(), Admit: admit})
	}
	if _, err := appendWith(batch(spec{valueSize: 100, pid: 5, seq: 1}), refuse); err != errFull {
		t.Fatalf("refused append: %v", err)
	}
	if u.Bytes() != size || h.log.LogEndOffset() != leo {
		t.Fatalf("a refused append moved usage %d→%d, end %d→%d", size, u.Bytes(), leo, h.log.LogEndOffset())
	}
	if info, err := appendWith(batch(spec{valueSize: 100, pid: 5, seq: 0}), refuse); err != nil || !info.Duplicate {
		t.Fatalf("a retry of a written batch: %+v, %v; want a duplicate acknowledged", info, err)
	}
	var asked int64
	if _, err := appendWith(batch(spec{valueSize: 100, pid: 5, seq: 1}), func(n int64) error { asked = n; return nil }); err != nil {
		t.Fatalf("the producer's retry after a refusal: %v", err)
	}
	if asked != u.Bytes()-size {
		t.Fatalf("Admit was asked for %d bytes, the append wrote %d", asked, u.Bytes()-size)
	}
	checkUsage(t, "after admits", u, h)
}

var errFull = errors.New("full") // Admit's error is returned as is
