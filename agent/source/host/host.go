// Package host reads the machine's CPU, memory, swap, network, TCP and disk
// figures from /proc and statfs, the ones node_exporter and MSK's broker
// metrics (CpuUser, MemoryUsed, MemoryCached, SwapUsed, NetworkRxBytes,
// NetworkRxErrors, TcpConnections, KafkaDataLogsDiskUsed, RootDiskUsed,
// KafkaAppLogsDiskUsed) report.
//
// The /proc root is a parameter so tests read fixture files; statfs is a
// function field for the same reason. Rates and CPU percentages are over
// the time since the previous Collect; the first Collect has none.
package host

import (
	"errors"
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
	// RootPath is the host's root filesystem (RootDiskUsed): the parent of
	// procRoot, "/" for "/proc", "/host" for "/host/proc". AppLogDir holds
	// the broker's application logs (KafkaAppLogsDiskUsed); "" for none.
	RootPath  string
	AppLogDir string

	prevTime time.Time
	prevCPU  cpuTimes
	prevNet  map[string]netCounters
	prevTCP  snapshot.TCPOpens
}

// New returns a source reading procRoot ("/proc" on a real host) and the
// filesystems of logDirs.
func New(procRoot string, logDirs []string) *Source {
	return &Source{procRoot: procRoot, logDirs: logDirs, Statfs: statfs,
		SysRoot: sysRootFor(procRoot), NumCPU: defaultNumCPU, Addrs: interfaceAddrs,
		RootPath: filepath.Dir(filepath.Clean(procRoot))}
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
	h.Network, h.NetInterval = s.netRates(net, dt, first)
	for _, d := range h.Network {
		h.NetRxBytesPerSec += d.RxBytesPerSec
		h.NetTxBytesPerSec += d.TxBytesPerSec
	}
	h.TCP = s.tcp(first)
	s.prevTime, s.prevCPU = now, total
	h.Disks, err = s.disks()
	h.RootDisk, h.AppLogDisk, err = s.otherDisks(err)
	return h, err
}

// tcp reads the TCP openings and their increase since the previous
// collection. A host without /proc/net/snmp (a restricted container) has
// none: the rest of the collection is kept.
func (s *Source) tcp(first bool) snapshot.TCPOpens {
	t, err := readTCPOpens(filepath.Join(s.procRoot, "net", "snmp"))
	if err != nil {
		s.prevTCP = snapshot.TCPOpens{}
		return snapshot.TCPOpens{}
	}
	if !first && s.prevTCP.Valid {
		t.InInterval = increase(s.prevTCP.ActiveOpens, t.ActiveOpens) + increase(s.prevTCP.PassiveOpens, t.PassiveOpens)
		t.IntervalValid = true
	}
	s.prevTCP = t
	return t
}

// netRates turns counters into rates and increases against the previous
// collection and remembers them. A device first seen this collection adds
// nothing to the increases.
func (s *Source) netRates(net []netCounters, dt float64, first bool) ([]snapshot.NetDevice, snapshot.NetCounts) {
	next := make(map[string]netCounters, len(net))
	out := make([]snapshot.NetDevice, 0, len(net))
	sum := snapshot.NetCounts{Valid: !first}
	for _, c := range net {
		next[c.device] = c
		d := snapshot.NetDevice{Device: c.device, RxBytesTotal: c.rxBytes, TxBytesTotal: c.txBytes,
			RxPacketsTotal: c.rxPackets, TxPacketsTotal: c.txPackets, RxErrorsTotal: c.rxErrors, TxErrorsTotal: c.txErrors,
			RxDroppedTotal: c.rxDropped, TxDroppedTotal: c.txDropped, SpeedBytesPerSec: linkSpeed(s.SysRoot, c.device)}
		d.Addrs, _ = s.Addrs(c.device) // a device without addresses carries no listener
		if p, ok := s.prevNet[c.device]; ok && !first {
			d.RxBytesPerSec = float64(increase(p.rxBytes, c.rxBytes)) / dt
			d.TxBytesPerSec = float64(increase(p.txBytes, c.txBytes)) / dt
			addIncreases(&sum, p, c)
		}
		out = append(out, d)
	}
	s.prevNet = next
	return out, sum
}

func addIncreases(sum *snapshot.NetCounts, p, c netCounters) {
	sum.RxBytes += increase(p.rxBytes, c.rxBytes)
	sum.TxBytes += increase(p.txBytes, c.txBytes)
	sum.RxPackets += increase(p.rxPackets, c.rxPackets)
	sum.TxPackets += increase(p.txPackets, c.txPackets)
	sum.RxErrors += increase(p.rxErrors, c.rxErrors)
	sum.TxErrors += increase(p.txErrors, c.txErrors)
	sum.RxDropped += increase(p.rxDropped, c.rxDropped)
	sum.TxDropped += increase(p.txDropped, c.txDropped)
}

// increase is how much a counter grew; one that went down (the interface
// was recreated) counts from zero.
func increase(prev, cur uint64) uint64 {
	if cur < prev {
		return cur
	}
	return cur - prev
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

// otherDisks statfs'es the root filesystem and the application log dir,
// adding their failures to err (the log dirs' error).
func (s *Source) otherDisks(err error) (root, appLogs *snapshot.Disk, _ error) {
	mounts, _ := readMounts(filepath.Join(s.procRoot, "mounts"))
	errs := []error{err}
	one := func(path string) *snapshot.Disk {
		if path == "" {
			return nil
		}
		fs, err := s.Statfs(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("statfs %s: %w", path, err))
			return nil
		}
		d := disk(path, fs, mountPoint(mounts, path))
		d.LogDirs, d.Path = nil, path
		return &d
	}
	root, appLogs = one(s.RootPath), one(s.AppLogDir)
	return root, appLogs, errors.Join(errs...)
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
