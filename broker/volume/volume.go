// Package volume is a broker's provisioned storage, the local stand-in for
// the EBS volume a managed Kafka broker is given: a size
// (weir.storage.provisioned.bytes, dynamic per broker) that the bytes of the
// broker's logs may not outgrow on a client's produce.
//
// Used bytes are the segment bytes of every hosted partition in every log
// dir (log.Usage, one per dir, moved by the logs themselves on append,
// retention, compaction, truncation, close and delete), so reading them is
// an atomic load per log dir, never a walk over partitions. Indexes,
// producer snapshots, checkpoints and the metadata log are not counted.
//
// The effective limit is the provisioned size, but never more than the
// filesystem can hold: used bytes plus the filesystem's free bytes (statfs
// Bavail; with several log dirs, summed over the distinct filesystems
// holding them), sampled by Refresh once a second off the request path.
// With no provisioned size (0) the filesystem alone is the limit. The
// decision itself is the pure EffectiveLimit and Fits.
//
// Admit is the check on a leader's append from a client Produce: used + the
// batch must fit under the limit, else a *FullError (a KAFKA_STORAGE_ERROR,
// as a real ENOSPC is). It takes no lock, so appends admitted at the same
// moment can overshoot the limit by the batches in flight. Replica appends
// and the broker's own writes are never asked: a follower can hold more
// than its provisioned size by what its leaders accepted.
package volume

import (
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"sync/atomic"

	wlog "github.com/weirhq/weir/broker/log"
)

// Key is the broker config key of the provisioned size.
const Key = "weir.storage.provisioned.bytes"

// FS is what statfs says about the filesystem holding a log dir.
type FS struct {
	Dev          uint64 // device id: log dirs on one filesystem count its free bytes once
	Total, Avail int64  // bytes: size, and free to an unprivileged user (Bavail)
}

// Options are a Volume's collaborators.
type Options struct {
	NodeID int32                        // named in errors and warnings
	Logger *slog.Logger                 // nil: discard
	Statfs func(dir string) (FS, error) // nil: the real statfs
}

// Volume is one broker's provisioned storage. Its methods are safe for
// concurrent use; every field is an atomic or fixed at New.
type Volume struct {
	node   int32
	logger *slog.Logger
	statfs func(string) (FS, error)
	dirs   []*dir // the log dirs, in config order; fixed

	provisioned atomic.Int64 // bytes; 0: none set
	fsBound     atomic.Int64 // used + filesystem free at the last Refresh
	full        atomic.Bool  // the last Admit refused: logged once per episode
}

type dir struct {
	path  string // cleaned
	usage wlog.Usage
}

// New returns the Volume of the given log dirs, with no provisioned size
// yet, and samples the filesystem once.
func New(dirs []string, opts Options) *Volume {
	v := &Volume{node: opts.NodeID, logger: opts.Logger, statfs: opts.Statfs}
	if v.logger == nil {
		v.logger = slog.New(slog.DiscardHandler)
	}
	if v.statfs == nil {
		v.statfs = statfs
	}
	for _, d := range dirs {
		v.dirs = append(v.dirs, &dir{path: filepath.Clean(d)})
	}
	v.fsBound.Store(math.MaxInt64)
	v.Refresh()
	return v
}

// Usage is the byte count the logs in logDir share (log.Options.Usage).
// logDir must be one of the dirs given to New.
func (v *Volume) Usage(logDir string) *wlog.Usage {
	logDir = filepath.Clean(logDir)
	for _, d := range v.dirs {
		if d.path == logDir {
			return &d.usage
		}
	}
	panic(fmt.Sprintf("volume: %s is not a log dir of this broker", logDir))
}

// Used is the segment bytes of every hosted partition.
func (v *Volume) Used() int64 {
	var n int64
	for _, d := range v.dirs {
		n += d.usage.Bytes()
	}
	return n
}

// Provisioned is the provisioned size in bytes, 0 when none is set.
func (v *Volume) Provisioned() int64 { return v.provisioned.Load() }

// Limit is the effective limit now (see EffectiveLimit).
func (v *Volume) Limit() int64 {
	return EffectiveLimit(v.provisioned.Load(), v.fsBound.Load())
}

// Refresh samples the filesystems: their free bytes plus the bytes used now
// are what the logs can grow to. A dir statfs fails on is left out; if all
// fail, the previous sample stays.
func (v *Volume) Refresh() {
	used := v.Used()
	free, ok := v.free()
	if ok {
		v.fsBound.Store(satAdd(used, free))
	}
}

// free sums Bavail over the distinct filesystems of the log dirs.
func (v *Volume) free() (int64, bool) {
	seen := map[uint64]bool{}
	var free int64
	ok := false
	for _, d := range v.dirs {
		fs, err := v.statfs(d.path)
		if err != nil {
			v.logger.Warn("statfs of a log dir failed", "dir", d.path, "err", err)
			continue
		}
		ok = true
		if !seen[fs.Dev] {
			seen[fs.Dev] = true
			free = satAdd(free, fs.Avail)
		}
	}
	return free, ok
}

// SetProvisioned sets the provisioned size (0: none, the filesystem's
// size). A change is logged, with a warning when the size is more than the
// filesystem can hold; unchanged, it does nothing. It reports whether the
// size changed.
func (v *Volume) SetProvisioned(n int64) bool {
	n = max(n, 0)
	if v.provisioned.Swap(n) == n {
		return false
	}
	v.Refresh()
	used, bound := v.Used(), v.fsBound.Load()
	if n == 0 {
		v.logger.Info("no provisioned storage: the log dirs' filesystem is the limit", "key", Key,
			"used", FormatBytes(used), "filesystem_allows", FormatBytes(bound))
		return true
	}
	v.logger.Info("provisioned storage set", "key", Key, "provisioned", FormatBytes(n), "used", FormatBytes(used))
	if n > bound {
		v.logger.Warn(fmt.Sprintf("%s (%s) is more than the filesystem can hold: %s used + %s free = %s; produce is refused at %s",
			Key, FormatBytes(n), FormatBytes(used), FormatBytes(bound-used), FormatBytes(bound), FormatBytes(bound)),
			"provisioned", n, "used", used, "filesystem_free", bound-used)
	}
	return true
}

// Admit decides whether a client's append of n bytes fits: nil, or a
// *FullError naming the figures. The first refusal after room (and the
// first admit after a refusal) is logged.
func (v *Volume) Admit(n int64) error {
	used, prov, bound := v.Used(), v.provisioned.Load(), v.fsBound.Load()
	limit := EffectiveLimit(prov, bound)
	if Fits(used, n, limit) {
		if v.full.Load() && v.full.Swap(false) {
			v.logger.Info("storage has room again: produce accepted", "used", FormatBytes(used), "limit", FormatBytes(limit))
		}
		return nil
	}
	err := &FullError{Node: v.node, Used: used, Limit: limit, Provisioned: prov, Batch: n}
	if !v.full.Swap(true) {
		v.logger.Warn("storage full: refusing produce until data is deleted or the size grows", "err", err.Error())
	}
	return err
}

// EffectiveLimit is the most the logs may hold: the provisioned size when
// one is set (> 0), but never more than fsBound, the used bytes plus the
// filesystem's free bytes.
func EffectiveLimit(provisioned, fsBound int64) int64 {
	if provisioned <= 0 || provisioned > fsBound {
		return fsBound
	}
	return provisioned
}

// Fits reports whether n more bytes keep used within limit.
func Fits(used, n, limit int64) bool { return satAdd(used, n) <= limit }

// satAdd adds non-negative sizes, saturating at the largest int64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// FullError is the refusal of an append that does not fit. It wraps
// log.ErrStorage: the broker answers KAFKA_STORAGE_ERROR, as for a real
// ENOSPC, and clients retry.
type FullError struct {
	Node        int32
	Used, Limit int64 // bytes used, and the effective limit
	Provisioned int64 // the provisioned size, 0 when none is set
	Batch       int64 // the refused append's bytes
}

func (e *FullError) Error() string {
	if e.Provisioned > 0 && e.Limit == e.Provisioned {
		return fmt.Sprintf("broker %d's provisioned storage is full: %s used of %s (%s); grow it or delete data",
			e.Node, FormatBytes(e.Used), FormatBytes(e.Limit), Key)
	}
	prov := "unset"
	if e.Provisioned > 0 {
		prov = FormatBytes(e.Provisioned)
	}
	return fmt.Sprintf("broker %d's log dirs' filesystem is full: %s used of the %s it can hold (%s: %s); free space on it or delete data",
		e.Node, FormatBytes(e.Used), FormatBytes(e.Limit), Key, prov)
}

// Unwrap makes a FullError a log.ErrStorage.
func (e *FullError) Unwrap() error { return wlog.ErrStorage }

// FormatBytes writes a size with binary units and two decimals: "512 B",
// "1.50 MiB", "1.00 GiB".
func FormatBytes(n int64) string {
	const units = "KMGTPE"
	if n < 1024 && n > -1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n)/1024, 0
	for (f >= 1024 || f <= -1024) && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.2f %ciB", f, units[i])
}
