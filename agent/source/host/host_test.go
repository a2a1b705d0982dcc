package host

import (
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/weirhq/weir/agent/snapshot"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// fakeStatfs puts /var/lib/kafka/* on one filesystem and "/mnt/data two" on another.
func fakeStatfs(path string) (FS, error) {
	switch filepath.Dir(path) {
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
	t0 := time.Unix(5000, 0)
	h, err := s.Collect(t0)
	if err != nil {
		t.Fatal(err)
	}
	if h.CPU.Valid || h.NetRxBytesPerSec != 0 {
		t.Fatalf("first collection has rates: %+v", h)
	}
	if len(h.CPUTimes) != 2 || h.CPUTimes[1] != (snapshot.CPUTimes{CPU: "1", User: 5, Nice: 0.5, System: 2.5, Idle: 40, IOWait: 1, IRQ: 0.25, SoftIRQ: 0.25}) {
		t.Fatalf("cpu times %+v", h.CPUTimes)
	}
	wantMem := snapshot.Memory{TotalBytes: 16384000 * 1024, FreeBytes: 2048000 * 1024, AvailableBytes: 8192000 * 1024, UsedBytes: 8192000 * 1024}
	if h.Memory != wantMem {
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
	if h.Memory.TotalBytes == 0 || len(h.CPUTimes) == 0 || len(h.Disks) != 1 || h.Disks[0].TotalBytes == 0 || h.CPUCores <= 0 {
		t.Fatalf("real host: %+v", h)
	}
}
