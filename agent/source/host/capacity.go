package host

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/weirhq/weir/agent/snapshot"
)

// The host's capacity, for the load samples (broker_load_v2): the cores the
// agent's processes may use and each interface's link speed.
//
// Cores are runtime.NumCPU (the CPUs the process may run on), lowered to a
// CPU quota when the cgroup has one: cgroup v2's <sys>/fs/cgroup/cpu.max
// ("quota period", or "max"), else cgroup v1's cpu.cfs_quota_us ÷
// cpu.cfs_period_us. The agent reads its own cgroup namespace's root, which
// is the broker's when both run in one container or on one host.
//
// Link speed is <sys>/class/net/<dev>/speed in Mbit/s; virtual devices
// (loopback, bridges, veth) answer -1 or an error, read as unknown (0).
// <sys> is the sibling of the configured proc root: /sys for /proc,
// /host/sys for /host/proc.

// sysRootFor is the sys root beside procRoot.
func sysRootFor(procRoot string) string {
	return filepath.Join(filepath.Dir(filepath.Clean(procRoot)), "sys")
}

// cpuCores is the cores available: numCPU capped by the cgroup quota.
func cpuCores(sysRoot string, numCPU int) float64 {
	cores := float64(numCPU)
	if q, ok := cgroupQuota(sysRoot); ok && q < cores {
		cores = q
	}
	return cores
}

// cgroupQuota reads the CPU quota in cores; false when there is none.
func cgroupQuota(sysRoot string) (float64, bool) {
	if data, err := os.ReadFile(filepath.Join(sysRoot, "fs/cgroup/cpu.max")); err == nil {
		f := strings.Fields(string(data))
		if len(f) != 2 || f[0] == "max" {
			return 0, false
		}
		return quotaCores(f[0], f[1])
	}
	for _, dir := range []string{"fs/cgroup/cpu", "fs/cgroup/cpu,cpuacct"} {
		q, err1 := os.ReadFile(filepath.Join(sysRoot, dir, "cpu.cfs_quota_us"))
		p, err2 := os.ReadFile(filepath.Join(sysRoot, dir, "cpu.cfs_period_us"))
		if err1 == nil && err2 == nil {
			return quotaCores(strings.TrimSpace(string(q)), strings.TrimSpace(string(p)))
		}
	}
	return 0, false
}

func quotaCores(quota, period string) (float64, bool) {
	q, err1 := strconv.ParseFloat(quota, 64)
	p, err2 := strconv.ParseFloat(period, 64)
	if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
		return 0, false // -1 in cgroup v1: no quota
	}
	return q / p, true
}

// linkSpeed is the device's speed in bytes per second; 0 when unknown.
func linkSpeed(sysRoot, dev string) float64 {
	data, err := os.ReadFile(filepath.Join(sysRoot, "class/net", dev, "speed"))
	if err != nil {
		return 0
	}
	mbit, err := strconv.ParseFloat(strings.TrimSpace(string(data)), 64)
	if err != nil || mbit <= 0 {
		return 0
	}
	return mbit * 1e6 / 8
}

// interfaceAddrs lists a device's IP addresses in the agent's network
// namespace.
func interfaceAddrs(dev string) ([]netip.Addr, error) {
	ifi, err := net.InterfaceByName(dev)
	if err != nil {
		return nil, err
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out, nil
}

// defaultNumCPU is runtime.NumCPU, a variable for tests.
var defaultNumCPU = runtime.NumCPU

// MarkListeners flags the devices that hold one of addrs (the addresses the
// broker's listeners advertise) as carrying the broker's traffic.
func MarkListeners(h *snapshot.Host, addrs []netip.Addr) {
	for i := range h.Network {
		d := &h.Network[i]
		d.Listener = slices.ContainsFunc(d.Addrs, func(a netip.Addr) bool { return slices.Contains(addrs, a) })
	}
}
