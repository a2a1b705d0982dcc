package volume

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"log/slog"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	wlog "github.com/weirhq/weir/broker/log"
)

func TestEffectiveLimit(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		provisioned, bound, out int64
	}{
		{"no provisioned size: the filesystem", 0, 5 << 30, 5 << 30},
		{"provisioned within the filesystem", 1 << 30, 5 << 30, 1 << 30},
		{"provisioned equal to the filesystem", 5 << 30, 5 << 30, 5 << 30},
		{"provisioned beyond the filesystem: the filesystem", 8 << 30, 5 << 30, 5 << 30},
		{"filesystem unknown", 1 << 30, math.MaxInt64, 1 << 30},
	} {
		if got := EffectiveLimit(tc.provisioned, tc.bound); got != tc.out {
			t.Errorf("%s: EffectiveLimit(%d, %d) = %d, want %d", tc.name, tc.provisioned, tc.bound, got, tc.out)
		}
	}
}

func TestFits(t *testing.T) {
	for _, tc := range []struct {
		used, n, limit int64
		fits           bool
	}{
		{0, 100, 100, true},
		{1, 100, 100, false},
		{100, 0, 100, true},
		{101, 0, 100, false},                         // a follower overshot: even nothing more does not fit
		{math.MaxInt64 - 1, 10, math.MaxInt64, true}, // saturates, never wraps
		{10, math.MaxInt64, 100, false},
	} {
		if got := Fits(tc.used, tc.n, tc.limit); got != tc.fits {
			t.Errorf("Fits(%d, %d, %d) = %v, want %v", tc.used, tc.n, tc.limit, got, tc.fits)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.00 KiB", 1536: "1.50 KiB",
		5 << 20: "5.00 MiB", 1 << 30: "1.00 GiB", 3 << 40: "3.00 TiB",
	} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFullErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  FullError
		want string
	}{
		{FullError{Node: 2, Used: 1 << 30, Limit: 1 << 30, Provisioned: 1 << 30, Batch: 100},
			"broker 2's provisioned storage is full: 1.00 GiB used of 1.00 GiB (weir.storage.provisioned.bytes); grow it or delete data"},
		{FullError{Node: 3, Used: 9 << 30, Limit: 9 << 30, Provisioned: 20 << 30, Batch: 100},
			"broker 3's log dirs' filesystem is full: 9.00 GiB used of the 9.00 GiB it can hold (weir.storage.provisioned.bytes: 20.00 GiB); free space on it or delete data"},
		{FullError{Node: 1, Used: 9 << 30, Limit: 9 << 30, Batch: 100},
			"broker 1's log dirs' filesystem is full: 9.00 GiB used of the 9.00 GiB it can hold (weir.storage.provisioned.bytes: unset); free space on it or delete data"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
		if !errors.Is(&tc.err, wlog.ErrStorage) {
			t.Errorf("%v is not a log.ErrStorage (KAFKA_STORAGE_ERROR)", &tc.err)
		}
	}
}

// fakeFS is a statfs answering from a table.
type fakeFS struct {
	mu  sync.Mutex
	fss map[string]FS
}

func (f *fakeFS) set(dir string, fs FS) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fss[filepath.Clean(dir)] = fs
}

func (f *fakeFS) statfs(dir string) (FS, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fs, ok := f.fss[dir]
	if !ok {
		return FS{}, errors.New("no such filesystem")
	}
	return fs, nil
}

// logBuf collects a Volume's log lines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type fixture struct {
	t    *testing.T
	fs   *fakeFS
	logs *logBuf
	v    *Volume
	dirs []string
}

func newFixture(t *testing.T, ndirs int, free int64) *fixture {
	f := &fixture{t: t, fs: &fakeFS{fss: map[string]FS{}}, logs: &logBuf{}}
	for i := range ndirs {
		d := filepath.Join(t.TempDir(), "data")
		f.dirs = append(f.dirs, d)
		f.fs.set(d, FS{Dev: uint64(i + 1), Total: 100 << 30, Avail: free})
	}
	f.v = New(f.dirs, Options{NodeID: 2, Statfs: f.fs.statfs,
		Logger: slog.New(slog.NewTextHandler(f.logs, nil))})
	return f
}

// open opens a real log in a log dir, counted by the volume.
func (f *fixture) open(dir int, name string) *wlog.Log {
	f.t.Helper()
	l, err := wlog.Open(filepath.Join(f.dirs[dir], name), wlog.Config{SegmentBytes: 64 << 10},
		wlog.Options{Usage: f.v.Usage(f.dirs[dir])})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { l.Close() })
	return l
}

// produce appends one batch of a value of size bytes if the volume admits it.
func (f *fixture) produce(l *wlog.Log, size int) error {
	f.t.Helper()
	b := batch(size)
	hdrs, err := wlog.ValidateBatches(b, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	_, err = l.Append(b, hdrs, wlog.AppendOptions{Admit: f.v.Admit})
	return err
}

// batch is a record batch v2 of one record with a value of n bytes.
func batch(n int) []byte {
	r := kmsg.Record{Value: bytes.Repeat([]byte{'x'}, n)}
	body := r.AppendTo(nil)[1:] // drop the one-byte length 0
	recs := append(binary.AppendVarint(nil, int64(len(body))), body...)
	rb := kmsg.RecordBatch{PartitionLeaderEpoch: -1, Magic: 2, ProducerID: -1, FirstSequence: -1,
		NumRecords: 1, Records: recs, FirstTimestamp: 1000, MaxTimestamp: 1000}
	rb.Length = int32(wlog.BatchHeaderSize - 12 + len(recs))
	out := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	return out
}

// TestAdmitAtTheProvisionedSize: appends are admitted until used + the next
// batch passes the provisioned size, then refused with a FullError; growing
// the size or deleting a log lets them in again.
func TestAdmitAtTheProvisionedSize(t *testing.T) {
	f := newFixture(t, 1, 50<<30)
	f.v.SetProvisioned(64 << 10)
	a, b := f.open(0, "a-0"), f.open(0, "b-0")
	var err error
	for i := 0; err == nil; i++ {
		l := a
		if i%2 == 1 {
			l = b
		}
		err = f.produce(l, 1000)
	}
	var full *FullError
	if !errors.As(err, &full) || !errors.Is(err, wlog.ErrStorage) {
		t.Fatalf("the append past the size: %v, want a FullError (log.ErrStorage)", err)
	}
	used := f.v.Used()
	if used != a.Size()+b.Size() || used > 64<<10 || used+full.Batch <= 64<<10 {
		t.Fatalf("used %d (logs %d + %d), refused batch %d, size %d", used, a.Size(), b.Size(), full.Batch, 64<<10)
	}
	if full.Used != used || full.Limit != 64<<10 || full.Provisioned != 64<<10 || full.Node != 2 {
		t.Fatalf("FullError %+v", full)
	}
	if n := strings.Count(f.logs.String(), "storage full"); n != 1 {
		t.Fatalf("the refusal was logged %d times, want once:\n%s", n, f.logs)
	}
	if err := f.produce(a, 1000); !errors.As(err, &full) {
		t.Fatalf("a second append: %v", err)
	}
	if n := strings.Count(f.logs.String(), "storage full"); n != 1 {
		t.Fatalf("a second refusal was logged again (%d)", n)
	}

	if !f.v.SetProvisioned(128<<10) || f.v.SetProvisioned(128<<10) {
		t.Fatal("SetProvisioned reports a change only when the size changes")
	}
	if err := f.produce(a, 1000); err != nil {
		t.Fatalf("after growing the size: %v", err)
	}
	if !strings.Contains(f.logs.String(), "room again") {
		t.Fatalf("the end of the refusals is not logged:\n%s", f.logs)
	}

	before := f.v.Used()
	if err := b.Delete(); err != nil {
		t.Fatal(err)
	}
	if got := f.v.Used(); got != a.Size() || got >= before {
		t.Fatalf("after deleting a log: used %d, was %d, the other log holds %d", got, before, a.Size())
	}
}

// TestFilesystemBoundsTheLimit: the filesystem's free bytes cap the limit,
// with or without a provisioned size, and a size beyond them is warned
// about with both figures.
func TestFilesystemBoundsTheLimit(t *testing.T) {
	f := newFixture(t, 1, 20<<10)
	a := f.open(0, "a-0")
	if err := f.produce(a, 1000); err != nil {
		t.Fatal(err)
	}
	used := f.v.Used()
	f.fs.set(f.dirs[0], FS{Dev: 1, Total: 100 << 30, Avail: 20<<10 - used}) // the append took its bytes off
	f.v.Refresh()
	if got := f.v.Limit(); got != 20<<10 {
		t.Fatalf("no provisioned size: limit %d, want used + free = %d", got, 20<<10)
	}

	f.v.SetProvisioned(1 << 30)
	if got := f.v.Limit(); got != 20<<10 {
		t.Fatalf("provisioned beyond the filesystem: limit %d, want %d", got, 20<<10)
	}
	logs := f.logs.String()
	for _, want := range []string{"more than the filesystem can hold", "1.00 GiB", "used + ", "free = 20.00 KiB"} {
		if !strings.Contains(logs, want) {
			t.Fatalf("the overcommit warning lacks %q:\n%s", want, logs)
		}
	}
	var err error
	for err == nil {
		err = f.produce(a, 1000)
	}
	if !strings.Contains(err.Error(), "filesystem is full") || !strings.Contains(err.Error(), "1.00 GiB") {
		t.Fatalf("refusal at the filesystem: %v", err)
	}
}

// TestFreeCountedOncePerFilesystem: log dirs on one filesystem share its
// free bytes; on two they add up.
func TestFreeCountedOncePerFilesystem(t *testing.T) {
	f := newFixture(t, 3, 10<<20)
	f.fs.set(f.dirs[1], FS{Dev: 1, Total: 100 << 30, Avail: 10 << 20}) // the first dir's filesystem
	f.v.Refresh()
	if got := f.v.Limit(); got != 20<<20 {
		t.Fatalf("limit %d, want two filesystems' free bytes, %d", got, 20<<20)
	}
}

// TestDescribe: with a provisioned size the dirs split the broker's total
// and usable bytes; usable is never negative (a follower can overshoot);
// without one each dir reports its filesystem.
func TestDescribe(t *testing.T) {
	f := newFixture(t, 3, 10<<30)
	logs := []*wlog.Log{f.open(0, "a-0"), f.open(2, "b-0")}
	for _, l := range logs {
		if err := f.produce(l, 5000); err != nil {
			t.Fatal(err)
		}
	}
	used := f.v.Used()

	for _, d := range f.v.Describe() {
		if d.Total != 100<<30 || d.Usable != 10<<30 {
			t.Fatalf("no provisioned size: %+v, want the filesystem's figures", d)
		}
	}

	const prov = 1<<20 + 1
	f.v.SetProvisioned(prov)
	dirs := f.v.Describe()
	var total, usable, dirUsed int64
	for i, d := range dirs {
		total, usable, dirUsed = total+d.Total, usable+d.Usable, dirUsed+d.Used
		if d.Path != filepath.Clean(f.dirs[i]) {
			t.Fatalf("dir %d is %s, want %s", i, d.Path, f.dirs[i])
		}
	}
	if total != prov || usable != prov-used || dirUsed != used || dirs[1].Used != 0 || dirs[0].Total != prov/3+1 {
		t.Fatalf("dirs %+v: totals %d usable %d used %d; want %d, %d, %d", dirs, total, usable, dirUsed, prov, prov-used, used)
	}

	f.v.SetProvisioned(used - 1) // what a follower holds past its size
	for _, d := range f.v.Describe() {
		if d.Usable != 0 {
			t.Fatalf("overshot: %+v, want usable 0", d)
		}
	}

	one := newFixture(t, 1, 10<<30)
	one.v.SetProvisioned(prov)
	if d := one.v.Describe()[0]; d.Total != prov || d.Usable != prov {
		t.Fatalf("one dir: %+v, want total = usable = %d", d, prov)
	}
}

// BenchmarkAdmit is the cost the check adds to every produce: one atomic
// load per log dir, whatever the number of partitions.
func BenchmarkAdmit(b *testing.B) {
	fs := &fakeFS{fss: map[string]FS{}}
	var dirs []string
	for i := range 4 {
		d := filepath.Join(b.TempDir(), "data")
		dirs = append(dirs, d)
		fs.set(d, FS{Dev: uint64(i), Total: 1 << 40, Avail: 1 << 40})
	}
	v := New(dirs, Options{Statfs: fs.statfs})
	v.SetProvisioned(1 << 40)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := v.Admit(16 << 10); err != nil {
				b.Fatal(err)
			}
		}
	})
}
