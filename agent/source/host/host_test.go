package host

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/weirhq/weir/agent/snapshot"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// fakeStatfs puts /var/lib/kafka/* on one filesystem, "/mnt/data two" on
// another, the root on a third and /var/log/* on a fourth.
func fakeStatfs(path string) (FS, error) {
	switch path {
	case "/":
		return FS{ID: [2]int32{3, 3}, Total: 1000, Free: 250, Avail: 200, Block: 4096}, nil
	}
	switch filepath.Dir(path) {
	case "/var/log":
		return FS{ID: [2]int32{4, 4}, Total: 100, Free: 50, Avail: 40, Block: 1024}, nil
	case "/var/lib/kafka":
		return FS{ID: [2]int32{1, 1}, Total: 1000, Free: 400, Avail: 300, Block: 4096}, nil
	case "/mnt/data two":
		return FS{ID: [2]int32{2, 2}, Total: 100, Free: 100, Avail: 100, Block: 1024}, nil
	}
	return FS{}, errors.New("no such file or directory")
}

func TestCollectFromFixtures(t *testing.T) {
	s := New("testdata/t0", []string{"/var/lib/kafka/a", "/var/lib/kafka/b", "/mnt/data two/c"})
	s.Statfs = fakeStatfs
	s.RootPath, s.AppLogDir = "/", "/var/log/kafka"
	t0 := time.Unix(5000, 0)
	h, err := s.Collect(t0)
	if err != nil {
		t.Fatal(err)
	}
	if h.CPU.Valid || h.NetRxBytesPerSec != 0 || h.NetInterval.Valid || h.TCP.IntervalValid {
		t.Fatalf("first collection has rates: %+v", h)
	}
	if h.TCP != (snapshot.TCPOpens{Valid: true, ActiveOpens: 100, PassiveOpens: 50}) {
		t.Fatalf("tcp %+v", h.TCP)
	}
	eth0 := h.Network[0]
	if eth0.Device != "eth0" || eth0.RxErrorsTotal != 3 || eth0.RxDroppedTotal != 4 || eth0.TxErrorsTotal != 1 || eth0.TxDroppedTotal != 2 || eth0.RxPacketsTotal != 2000 {
		t.Fatalf("eth0 %+v", eth0)
	}
	wantRoot := snapshot.Disk{MountPoint: "/", Path: "/", TotalBytes: 1000 * 4096, UsedBytes: 750 * 4096, AvailBytes: 200 * 4096, UsedPercent: 750.0 / 950 * 100}
	if h.RootDisk == nil || !reflect.DeepEqual(*h.RootDisk, wantRoot) {
		t.Fatalf("root disk %+v, want %+v", h.RootDisk, wantRoot)
	}
	if d := h.AppLogDisk; d == nil || d.Path != "/var/log/kafka" || d.TotalBytes != 100*1024 || !near(d.UsedPercent, 50.0/90*100) {
		t.Fatalf("application log disk %+v", d)
	}
	if len(h.CPUTimes) != 2 || h.CPUTimes[1] != (snapshot.CPUTimes{CPU: "1", User: 5, Nice: 0.5, System: 2.5, Idle: 40, IOWait: 1, IRQ: 0.25, SoftIRQ: 0.25}) {
		t.Fatalf("cpu times %+v", h.CPUTimes)
	}
	wantMem := snapshot.Memory{TotalBytes: 16384000 * 1024, FreeBytes: 2048000 * 1024, AvailableBytes: 8192000 * 1024, UsedBytes: 8192000 * 1024,
		CachedBytes: 4000000 * 1024, BuffersBytes: 100000 * 1024, SwapTotalBytes: 2097152 * 1024, SwapFreeBytes: 1572864 * 1024}
	if h.Memory != wantMem || h.Memory.SwapUsedBytes() != 524288*1024 {
		t.Fatalf("memory %+v, want %+v", h.Memory, wantMem)
	}
	wantDisks := []snapshot.Disk{
		{MountPoint: "/var/lib/kafka", LogDirs: []string{"/var/lib/kafka/a", "/var/lib/kafka/b"},
			TotalBytes: 1000 * 4096, UsedBytes: 600 * 4096, AvailBytes: 300 * 4096, UsedPercent: float64(600*4096) / float64(900*4096) * 100},
		{MountPoint: "/mnt/data two", LogDirs: []string{"/mnt/data two/c"}, TotalBytes: 100 * 1024, AvailBytes: 100 * 1024},
	}
	if !reflect.DeepEqual(h.Disks, wantDisks) {
		t.Fatalf("disks %+v\nwant %+v", h.Disks, wantDisks)
	}

	s.procRoot = "testdata/t1"
	h, err = s.Collect(t0.Add(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// 2000 ticks passed: user+nice 400, system+irq+softirq 100, idle 1100, iowait 200, steal 200.
	c := h.CPU
	if !c.Valid || !near(c.User, 20) || !near(c.System, 5) || !near(c.Idle, 55) || !near(c.IOWait, 10) {
		t.Fatalf("cpu percent %+v", c)
	}
	// eth0 +100000 rx, +20000 tx in 10 s; eth1's rx counter went down (reset): 50 bytes since; lo ignored.
	if len(h.Network) != 2 || !near(h.NetRxBytesPerSec, 10000+5) || !near(h.NetTxBytesPerSec, 2000) {
		t.Fatalf("network %+v rx %v tx %v", h.Network, h.NetRxBytesPerSec, h.NetTxBytesPerSec)
	}
	// The interval's increases, summed over eth0 and eth1 (whose rx bytes reset: 50 since).
	wantNet := snapshot.NetCounts{Valid: true, RxBytes: 100000 + 50, TxBytes: 20000, RxPackets: 100, TxPackets: 100,
		RxErrors: 2, TxErrors: 0, RxDropped: 6, TxDropped: 1}
	if h.NetInterval != wantNet {
		t.Fatalf("network interval %+v, want %+v", h.NetInterval, wantNet)
	}
	if !h.TCP.IntervalValid || h.TCP.InInterval != 30+20 {
		t.Fatalf("tcp %+v, want 50 connections opened", h.TCP)
	}
	if h.Memory.SwapTotalBytes != 0 || h.Memory.SwapUsedBytes() != 0 {
		t.Fatalf("no swap: %+v", h.Memory)
	}
}

// TestNoSNMP: a /proc without net/snmp (a restricted container) loses the
// TCP counters, nothing else.
func TestNoSNMP(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"stat", "meminfo", "mounts", "net/dev"} {
		b, err := os.ReadFile(filepath.Join("testdata/t0", f))
		if err == nil {
			err = os.MkdirAll(filepath.Dir(filepath.Join(root, f)), 0o755)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(root, f), b, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	s := New(root, nil)
	s.Statfs, s.RootPath = fakeStatfs, "/"
	h, err := s.Collect(time.Now())
	if err != nil || h.TCP.Valid || h.Memory.TotalBytes == 0 {
		t.Fatalf("without net/snmp: %+v, %v", h, err)
	}
}

func TestCollectErrors(t *testing.T) {
	s := New("testdata/missing", nil)
	if _, err := s.Collect(time.Now()); err == nil {
		t.Fatal("missing /proc read without error")
	}
	s = New("testdata/t0", []string{"/nowhere/x", "/var/lib/kafka/a"})
	s.Statfs = fakeStatfs
	h, err := s.Collect(time.Now())
	if err == nil || h == nil || len(h.Disks) != 1 {
		t.Fatalf("a bad log dir: %v, %+v; want an error and the other disk", err, h)
	}
}

func TestRealProc(t *testing.T) {
	s := New("/proc", []string{t.TempDir()})
	h, err := s.Collect(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if h.Memory.TotalBytes == 0 || len(h.CPUTimes) == 0 || len(h.Disks) != 1 || h.Disks[0].TotalBytes == 0 || h.CPUCores <= 0 ||
		h.RootDisk == nil || h.RootDisk.TotalBytes == 0 || !h.TCP.Valid {
		t.Fatalf("real host: %+v", h)
	}
}
