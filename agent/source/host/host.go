// Package host reads the machine's CPU, memory, network and disk figures
// from /proc and statfs, the ones node_exporter and MSK's broker metrics
// (CpuUser, MemoryUsed, NetworkRxBytes, KafkaDataLogsDiskUsed) report.
//
// The /proc root is a parameter so tests read fixture files; statfs is a
// function field for the same reason. Rates and CPU percentages are over
// the time since the previous Collect; the first Collect has none.
package host

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/weirhq/weir/agent/snapshot"
)

// FS is what statfs says about the filesystem holding a path.
type FS struct {
	ID                        [2]int32 // filesystem id: log dirs on one filesystem share it
	Total, Free, Avail, Block uint64   // in blocks of Block bytes
}

// Source collects host figures. One goroutine uses it.
type Source struct {
	procRoot string
	logDirs  []string
	// Statfs is the statfs call; tests replace it.
	Statfs func(path string) (FS, error)
	// SysRoot is where /sys is (capacity.go); NumCPU and Addrs are
	// runtime.NumCPU and the interfaces' addresses. Tests replace them.
	SysRoot string
	NumCPU  func() int
	Addrs   func(dev string) ([]netip.Addr, error)

	prevTime time.Time
	prevCPU  cpuTimes
	prevNet  map[string]netCounters
}

// New returns a source reading procRoot ("/proc" on a real host) and the
// filesystems of logDirs.
func New(procRoot string, logDirs []string) *Source {
	return &Source{procRoot: procRoot, logDirs: logDirs, Statfs: statfs,
		SysRoot: sysRootFor(procRoot), NumCPU: defaultNumCPU, Addrs: interfaceAddrs}
}

// Collect reads the host once. A missing file fails the collection; a log
// dir that cannot be statted is reported in the error but the rest is kept.
func (s *Source) Collect(now time.Time) (*snapshot.Host, error) {
	h := &snapshot.Host{}
	total, perCPU, err := readStat(filepath.Join(s.procRoot, "stat"))
	if err != nil {
		return nil, err
	}
	h.CPUTimes = perCPU
	h.CPUCores = cpuCores(s.SysRoot, s.NumCPU())
	if mem, err := readMeminfo(filepath.Join(s.procRoot, "meminfo")); err != nil {
		return nil, err
	} else {
		h.Memory = mem
	}
	net, err := readNetDev(filepath.Join(s.procRoot, "net", "dev"))
	if err != nil {
		return nil, err
	}
	dt := now.Sub(s.prevTime).Seconds()
	first := s.prevTime.IsZero() || dt <= 0
	if !first {
		h.CPU = cpuPercent(s.prevCPU, total)
	}
	h.Network = s.netRates(net, dt, first)
	for _, d := range h.Network {
		h.NetRxBytesPerSec += d.RxBytesPerSec
		h.NetTxBytesPerSec += d.TxBytesPerSec
	}
	s.prevTime, s.prevCPU = now, total
	h.Disks, err = s.disks()
	return h, err
}

// netRates turns counters into rates against the previous collection and
// remembers them.
func (s *Source) netRates(net []netCounters, dt float64, first bool) []snapshot.NetDevice {
	next := make(map[string]netCounters, len(net))
	out := make([]snapshot.NetDevice, 0, len(net))
	for _, c := range net {
		next[c.device] = c
		d := snapshot.NetDevice{Device: c.device, RxBytesTotal: c.rxBytes, TxBytesTotal: c.txBytes,
			RxPacketsTotal: c.rxPackets, TxPacketsTotal: c.txPackets, SpeedBytesPerSec: linkSpeed(s.SysRoot, c.device)}
		d.Addrs, _ = s.Addrs(c.device) // a device without addresses carries no listener
		if p, ok := s.prevNet[c.device]; ok && !first {
			d.RxBytesPerSec = counterRate(p.rxBytes, c.rxBytes, dt)
			d.TxBytesPerSec = counterRate(p.txBytes, c.txBytes, dt)
		}
		out = append(out, d)
	}
	s.prevNet = next
	return out
}

// counterRate is the per-second increase; a counter that went down (the
// interface was recreated) counts from zero.
func counterRate(prev, cur uint64, dt float64) float64 {
	if cur < prev {
		return float64(cur) / dt
	}
	return float64(cur-prev) / dt
}

// disks statfs'es each log dir and merges dirs on one filesystem.
func (s *Source) disks() ([]snapshot.Disk, error) {
	mounts, _ := readMounts(filepath.Join(s.procRoot, "mounts")) // mount points are a nicety
	var out []snapshot.Disk
	var ids [][2]int32
	var errs []string
	for _, dir := range s.logDirs {
		fs, err := s.Statfs(dir)
		if err != nil {
			errs = append(errs, fmt.Sprintf("statfs %s: %v", dir, err))
			continue
		}
		if i := slices.Index(ids, fs.ID); i >= 0 {
			out[i].LogDirs = append(out[i].LogDirs, dir)
			continue
		}
		ids = append(ids, fs.ID)
		out = append(out, disk(dir, fs, mountPoint(mounts, dir)))
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

func disk(dir string, fs FS, mount string) snapshot.Disk {
	total, used, avail := fs.Total*fs.Block, (fs.Total-fs.Free)*fs.Block, fs.Avail*fs.Block
	d := snapshot.Disk{MountPoint: mount, LogDirs: []string{dir}, TotalBytes: total, UsedBytes: used, AvailBytes: avail}
	if used+avail > 0 {
		d.UsedPercent = float64(used) / float64(used+avail) * 100
	}
	return d
}

// mountPoint is the longest mount point that contains dir.
func mountPoint(mounts []string, dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	best := ""
	for _, m := range mounts {
		if (abs == m || strings.HasPrefix(abs, strings.TrimSuffix(m, "/")+"/")) && len(m) > len(best) {
			best = m
		}
	}
	return best
}

func statfs(path string) (FS, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return FS{}, err
	}
	return FS{ID: st.Fsid.X__val, Total: st.Blocks, Free: st.Bfree, Avail: st.Bavail, Block: uint64(st.Bsize)}, nil
}
