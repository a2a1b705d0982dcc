package volume

import (
	"fmt"
	"os"
	"syscall"
)

// Dir is one log dir as DescribeLogDirs reports it (KIP-827).
type Dir struct {
	Path          string
	Used          int64 // segment bytes of the partitions in it
	Total, Usable int64 // bytes; -1 when unknown
}

// Describe reports every log dir, sampling the filesystems afresh. With a
// provisioned size, the broker's size and its usable bytes (provisioned -
// used, never negative) are split evenly over the log dirs, so sums over
// the dirs are the broker's figures (one dir: exactly them). Without one,
// each dir reports its filesystem's size and free bytes, as Kafka does
// (dirs on one filesystem each report all of it).
func (v *Volume) Describe() []Dir {
	v.Refresh()
	out := make([]Dir, len(v.dirs))
	prov, used := v.provisioned.Load(), v.Used()
	for i, d := range v.dirs {
		out[i] = Dir{Path: d.path, Used: d.usage.Bytes(), Total: -1, Usable: -1}
		if prov > 0 {
			out[i].Total = share(prov, i, len(v.dirs))
			out[i].Usable = share(max(prov-used, 0), i, len(v.dirs))
		} else if fs, err := v.statfs(d.path); err == nil {
			out[i].Total, out[i].Usable = fs.Total, fs.Avail
		}
	}
	return out
}

// share is part i of x split n ways, the remainder going to the first parts.
func share(x int64, i, n int) int64 {
	q, r := x/int64(n), x%int64(n)
	if int64(i) < r {
		q++
	}
	return q
}

// Report is the broker-wide figures for metrics.
type Report struct {
	Provisioned int64 // 0: none set
	Used        int64
	Limit       int64 // the effective limit
}

// Report returns the figures now (the filesystem as last sampled).
func (v *Volume) Report() Report {
	return Report{Provisioned: v.provisioned.Load(), Used: v.Used(), Limit: v.Limit()}
}

// statfs is the real filesystem's figures for dir.
func statfs(dir string) (FS, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return FS{}, fmt.Errorf("statfs %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return FS{}, err
	}
	var dev uint64
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		dev = uint64(sys.Dev)
	}
	bs := int64(st.Bsize)
	return FS{Dev: dev, Total: int64(st.Blocks) * bs, Avail: int64(st.Bavail) * bs}, nil
}
