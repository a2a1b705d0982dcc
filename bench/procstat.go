package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CPU accounting from /proc: a process's user plus system time from
// /proc/<pid>/stat, this process's own from getrusage, and the machine's
// busy share from the aggregate line of /proc/stat. CPU time is steadier
// than wall time on a shared machine: it counts what a process did, not
// how long it waited for a core.

// userHZ is the unit of /proc's tick counts (USER_HZ, 100 on Linux).
const userHZ = 100

// processCPU is pid's user plus system CPU time.
func processCPU(pid int) (time.Duration, error) {
	path := filepath.Join("/proc", strconv.Itoa(pid), "stat")
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("reading CPU time of process %d: %w", pid, err)
	}
	d, err := parseProcessStat(string(b))
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	return d, nil
}

// cpuTime is processCPU, 0 if it cannot be read.
func cpuTime(pid int) time.Duration {
	d, _ := processCPU(pid)
	return d
}

// parseProcessStat reads utime and stime, the 14th and 15th fields of a
// /proc/<pid>/stat line. The command name (2nd field) is in parentheses
// and may hold spaces and parentheses itself, so fields are counted from
// its last ')'.
func parseProcessStat(line string) (time.Duration, error) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, errors.New("no ')' after the command name")
	}
	f := strings.Fields(line[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields after the command name, want at least 13", len(f))
	}
	utime, err := strconv.ParseInt(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("utime: %w", err)
	}
	stime, err := strconv.ParseInt(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stime: %w", err)
	}
	return time.Duration(utime+stime) * (time.Second / userHZ), nil
}

// selfCPU is this process's user plus system CPU time.
func selfCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// machineTicks is the machine's CPU time so far, all cores together, in
// USER_HZ ticks: the total and the idle part (idle plus iowait).
type machineTicks struct{ total, idle int64 }

// readMachineTicks reads the aggregate "cpu" line of /proc/stat.
func readMachineTicks() (machineTicks, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineTicks{}, fmt.Errorf("reading machine CPU time: %w", err)
	}
	t, err := parseMachineStat(string(b))
	if err != nil {
		return t, fmt.Errorf("reading /proc/stat: %w", err)
	}
	return t, nil
}

// parseMachineStat reads the first line of /proc/stat:
// "cpu user nice system idle iowait irq softirq steal guest guest_nice".
// guest and guest_nice are already counted in user and nice, so the
// total is the first eight.
func parseMachineStat(s string) (machineTicks, error) {
	line, _, _ := strings.Cut(s, "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return machineTicks{}, fmt.Errorf("first line %q is not the aggregate cpu line", truncate(line, 80))
	}
	var t machineTicks
	for i, v := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return machineTicks{}, fmt.Errorf("cpu field %d: %w", i+1, err)
		}
		t.total += n
		if i == 3 || i == 4 { // idle, iowait
			t.idle += n
		}
	}
	return t, nil
}

// busyShare is the share of all cores' time between t and later that was
// not idle, 0..1 (0 if no time passed).
func (t machineTicks) busyShare(later machineTicks) float64 {
	total := later.total - t.total
	if total <= 0 {
		return 0
	}
	return 1 - float64(later.idle-t.idle)/float64(total)
}
