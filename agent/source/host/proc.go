package host

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/weirhq/weir/agent/snapshot"
)

// userHZ is the unit of /proc/stat's CPU times: clock ticks, 100 a second
// on every Linux architecture Go supports (sysconf(_SC_CLK_TCK)).
const userHZ = 100

// cpuTimes is one cpu line of /proc/stat, in ticks.
type cpuTimes struct {
	user, nice, system, idle, iowait, irq, softirq, steal uint64
}

func (c cpuTimes) total() uint64 {
	return c.user + c.nice + c.system + c.idle + c.iowait + c.irq + c.softirq + c.steal
}

// readStat reads the all-CPU line and each CPU's line of /proc/stat.
func readStat(path string) (cpuTimes, []snapshot.CPUTimes, error) {
	var total cpuTimes
	var per []snapshot.CPUTimes
	found := false
	err := eachLine(path, func(line string) error {
		f := strings.Fields(line)
		if len(f) < 5 || !strings.HasPrefix(f[0], "cpu") {
			return nil
		}
		c, err := parseCPU(f[1:])
		if err != nil {
			return fmt.Errorf("%s: %w", f[0], err)
		}
		if f[0] == "cpu" {
			total, found = c, true
			return nil
		}
		per = append(per, seconds(strings.TrimPrefix(f[0], "cpu"), c))
		return nil
	})
	if err == nil && !found {
		err = fmt.Errorf("read %s: no cpu line", path)
	}
	return total, per, err
}

func parseCPU(fields []string) (cpuTimes, error) {
	var v [8]uint64
	for i := 0; i < len(v) && i < len(fields); i++ {
		n, err := strconv.ParseUint(fields[i], 10, 64)
		if err != nil {
			return cpuTimes{}, err
		}
		v[i] = n
	}
	return cpuTimes{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]}, nil
}

func seconds(cpu string, c cpuTimes) snapshot.CPUTimes {
	s := func(t uint64) float64 { return float64(t) / userHZ }
	return snapshot.CPUTimes{CPU: cpu, User: s(c.user), Nice: s(c.nice), System: s(c.system), Idle: s(c.idle),
		IOWait: s(c.iowait), IRQ: s(c.irq), SoftIRQ: s(c.softirq), Steal: s(c.steal)}
}

// cpuPercent splits the ticks between prev and cur. MSK's CpuUser counts
// user and nice time; CpuSystem counts system, irq and softirq time.
func cpuPercent(prev, cur cpuTimes) snapshot.CPUPercent {
	dt := float64(cur.total()) - float64(prev.total())
	if dt <= 0 {
		return snapshot.CPUPercent{}
	}
	p := func(a, b uint64) float64 { return (float64(a) - float64(b)) / dt * 100 }
	return snapshot.CPUPercent{
		Valid:  true,
		User:   p(cur.user+cur.nice, prev.user+prev.nice),
		System: p(cur.system+cur.irq+cur.softirq, prev.system+prev.irq+prev.softirq),
		Idle:   p(cur.idle, prev.idle),
		IOWait: p(cur.iowait, prev.iowait),
	}
}

// readMeminfo reads the kB figures of /proc/meminfo.
func readMeminfo(path string) (snapshot.Memory, error) {
	kb := map[string]uint64{}
	err := eachLine(path, func(line string) error {
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			return nil
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return nil
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		kb[name] = n * 1024
		return nil
	})
	if err != nil {
		return snapshot.Memory{}, err
	}
	if _, ok := kb["MemTotal"]; !ok {
		return snapshot.Memory{}, fmt.Errorf("read %s: no MemTotal", path)
	}
	avail, ok := kb["MemAvailable"]
	if !ok { // kernels before 3.14
		avail = kb["MemFree"] + kb["Buffers"] + kb["Cached"]
	}
	m := snapshot.Memory{TotalBytes: kb["MemTotal"], FreeBytes: kb["MemFree"], AvailableBytes: avail,
		CachedBytes: kb["Cached"], BuffersBytes: kb["Buffers"], SwapTotalBytes: kb["SwapTotal"], SwapFreeBytes: kb["SwapFree"]}
	if avail < m.TotalBytes {
		m.UsedBytes = m.TotalBytes - avail
	}
	return m, nil
}

// netCounters is one interface's line of /proc/net/dev.
type netCounters struct {
	device                                  string
	rxBytes, rxPackets, rxErrors, rxDropped uint64
	txBytes, txPackets, txErrors, txDropped uint64
}

// netDevColumns are the /proc/net/dev fields read, in netCounters' order:
// receive bytes, packets, errs, drop; transmit bytes, packets, errs, drop.
var netDevColumns = [8]int{0, 1, 2, 3, 8, 9, 10, 11}

// readNetDev reads /proc/net/dev, leaving out loopback.
func readNetDev(path string) ([]netCounters, error) {
	var out []netCounters
	err := eachLine(path, func(line string) error {
		dev, rest, ok := strings.Cut(line, ":")
		dev = strings.TrimSpace(dev)
		if !ok || dev == "lo" || strings.Contains(dev, "|") {
			return nil
		}
		f := strings.Fields(rest)
		if len(f) < 12 {
			return fmt.Errorf("%s: %d fields, want 16", dev, len(f))
		}
		var v [8]uint64
		for i, col := range netDevColumns {
			n, err := strconv.ParseUint(f[col], 10, 64)
			if err != nil {
				return fmt.Errorf("%s: %w", dev, err)
			}
			v[i] = n
		}
		out = append(out, netCounters{dev, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]})
		return nil
	})
	return out, err
}

// readTCPOpens reads the Tcp ActiveOpens and PassiveOpens counters of
// /proc/net/snmp: a header line of field names, then a line of values.
func readTCPOpens(path string) (snapshot.TCPOpens, error) {
	var names []string
	var out snapshot.TCPOpens
	err := eachLine(path, func(line string) error {
		rest, ok := strings.CutPrefix(line, "Tcp:")
		if !ok {
			return nil
		}
		f := strings.Fields(rest)
		if names == nil {
			names = f
			return nil
		}
		for i, name := range names {
			if i >= len(f) || (name != "ActiveOpens" && name != "PassiveOpens") {
				continue
			}
			n, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return fmt.Errorf("snmp Tcp %s: %w", name, err)
			}
			if name == "ActiveOpens" {
				out.ActiveOpens = n
			} else {
				out.PassiveOpens = n
			}
			out.Valid = true
		}
		return nil
	})
	if err == nil && !out.Valid {
		err = fmt.Errorf("read %s: no Tcp ActiveOpens or PassiveOpens", path)
	}
	return out, err
}

// readMounts lists the mount points in /proc/mounts.
func readMounts(path string) ([]string, error) {
	var out []string
	err := eachLine(path, func(line string) error {
		if f := strings.Fields(line); len(f) >= 2 {
			out = append(out, unescapeOctal(f[1]))
		}
		return nil
	})
	return out, err
}

// unescapeOctal undoes /proc/mounts' \040-style escapes of spaces and tabs.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				sb.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

// eachLine calls fn for each line of the file at path.
func eachLine(path string, fn func(string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if err := fn(sc.Text()); err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}
