package host

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/weirhq/weir/agent/snapshot"
)

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCPUCores(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  float64
	}{
		{"no cgroup", nil, 8},
		{"v2 unlimited", map[string]string{"fs/cgroup/cpu.max": "max 100000\n"}, 8},
		{"v2 quota", map[string]string{"fs/cgroup/cpu.max": "250000 100000\n"}, 2.5},
		{"v2 quota above the CPUs", map[string]string{"fs/cgroup/cpu.max": "1600000 100000\n"}, 8},
		{"v1 unlimited", map[string]string{"fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n", "fs/cgroup/cpu/cpu.cfs_period_us": "100000\n"}, 8},
		{"v1 quota", map[string]string{"fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "50000\n", "fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n"}, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, tc.files)
			if got := cpuCores(root, 8); got != tc.want {
				t.Errorf("cores %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLinkSpeedAndListeners(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"class/net/eth0/speed": "10000\n", "class/net/veth1/speed": "-1\n"})
	if got := linkSpeed(root, "eth0"); got != 1.25e9 {
		t.Errorf("eth0 %v B/s, want 1.25e9 (10 Gbit/s)", got)
	}
	if linkSpeed(root, "veth1") != 0 || linkSpeed(root, "missing") != 0 {
		t.Error("unknown speeds not 0")
	}
	if sysRootFor("/proc") != "/sys" || sysRootFor("/host/proc/") != "/host/sys" {
		t.Errorf("sys roots %q %q", sysRootFor("/proc"), sysRootFor("/host/proc/"))
	}
	ip := netip.MustParseAddr("10.0.0.5")
	h := &snapshot.Host{Network: []snapshot.NetDevice{
		{Device: "eth0", Addrs: []netip.Addr{ip}}, {Device: "eth1", Addrs: []netip.Addr{netip.MustParseAddr("10.0.1.5")}},
	}}
	MarkListeners(h, []netip.Addr{ip})
	if !h.Network[0].Listener || h.Network[1].Listener {
		t.Errorf("listeners %+v", h.Network)
	}
}

func TestCollectCapacity(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"sys/class/net/eth0/speed": "1000", "sys/fs/cgroup/cpu.max": "300000 100000"})
	for _, f := range []string{"stat", "meminfo", "net/dev", "mounts"} {
		data, err := os.ReadFile(filepath.Join("testdata/t0", f))
		if err != nil {
			t.Fatal(err)
		}
		writeFiles(t, root, map[string]string{"proc/" + f: string(data)})
	}
	s := New(filepath.Join(root, "proc"), nil)
	s.NumCPU = func() int { return 4 }
	s.Addrs = func(string) ([]netip.Addr, error) { return nil, nil }
	h, err := s.Collect(time.Unix(5000, 0))
	if err != nil {
		t.Fatal(err)
	}
	if h.CPUCores != 3 || h.Network[0].Device != "eth0" || h.Network[0].SpeedBytesPerSec != 125e6 || h.Network[1].SpeedBytesPerSec != 0 {
		t.Fatalf("capacity: cores %v, network %+v", h.CPUCores, h.Network)
	}
}
