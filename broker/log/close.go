package log

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/weirhq/weir/internal/atomicfile"
	"github.com/weirhq/weir/internal/vfs"
)

// CloseAll closes logs together, as a broker's shutdown does, leaving on
// disk what each log's Close would (index tails, producer snapshot, the
// recovery point at the log end) with two syncfs(2) per log dir instead
// of each log's fsyncs, and one close checkpoint file per log dir instead
// of each log's checkpoint. Close fsyncs a written log's segment, indexes,
// directory, checkpoint and snapshot, about ten fsyncs; 10,000 logs that
// each took a record took 11 s on 8 workers, and without the fsyncs
// creating each log's checkpoint and snapshot files was most of the rest.
// Kafka's LogManager.shutdown likewise writes the recovery points once
// per log dir (recovery-point-offset-checkpoint), not per log.
//
// The order keeps a crash at any point safe: first every log's data is
// written without fsync (index tails, the .txnindex, the snapshot), then
// one SyncFS per log dir makes it all durable, and only then is each log
// dir's close checkpoint written (closeCheckpointFile, below), with a
// second SyncFS. It never claims what is not on disk; a crash before the
// second SyncFS leaves no file or a torn one, which is ignored, so each
// log recovers from its own older checkpoint. When the first SyncFS fails
// no recovery point moves. workers logs are written at once. The times
// say where a slow close went.
func CloseAll(logs []*Log, workers int) (CloseTimes, error) {
	var t CloseTimes
	start := time.Now()
	pending := make([]closing, len(logs))
	errs := make([]error, len(logs))
	forEach(len(logs), workers, func(i int) { pending[i], errs[i] = logs[i].closeWrite() })
	t.Write = time.Since(start)
	fsys, dirs := logDirs(logs, pending)
	err := syncFS(fsys, dirs)
	t.Sync = time.Since(start) - t.Write
	if err != nil {
		for i, l := range logs {
			l.releaseSegments(pending[i])
		}
		return t, errors.Join(append(errs, fmt.Errorf("closing %d logs: %w", len(logs), err))...)
	}
	for _, d := range dirs {
		if err := writeCloseCheckpoint(fsys, d, logs, pending); err != nil {
			errs = append(errs, err)
		}
	}
	forEach(len(logs), workers, func(i int) { logs[i].releaseSegments(pending[i]) })
	mark := time.Now()
	if err := syncFS(fsys, dirs); err != nil {
		errs = append(errs, fmt.Errorf("closing %d logs: the recovery checkpoints: %w", len(logs), err))
	}
	t.Sync += time.Since(mark)
	t.Total = time.Since(start)
	return t, errors.Join(errs...)
}

// CloseTimes are CloseAll's wall-clock phases: writing the logs' files
// (Write), the two syncs of the filesystems (Sync) and all of it (Total).
type CloseTimes struct{ Write, Sync, Total time.Duration }

// closing is one log between CloseAll's two steps.
type closing struct {
	open bool       // this call closed the log (it was open)
	at   *ClosedAt  // the checkpoint to record once the data is durable; nil: the one on disk holds
	segs []*segment // released after the close checkpoint is written
}

// closeWrite closes l to appends and writes, without fsync, what Close
// would make durable: the index tails of the segments past the recovery
// point (and their .txnindex), the active segment's last time entry, and
// a producer snapshot at the log end. A log that failed writes nothing.
func (l *Log) closeWrite() (closing, error) {
	l.cpMu.Lock()
	defer l.cpMu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Swap(true) {
		return closing{}, nil
	}
	l.leaveUsageLocked() // closed: the size moves no more
	c := closing{open: true, segs: l.segments()}
	if l.mu.failed != nil {
		return c, nil
	}
	target, rp := l.leo.Load(), l.mu.recoveryPoint
	i := max(sort.Search(len(c.segs), func(i int) bool { return c.segs[i].base > rp })-1, 0)
	var errs []error
	active := l.active()
	active.mu.Lock()
	active.appendTimeEntry()
	active.mu.Unlock()
	for _, s := range c.segs[i:] {
		errs = append(errs, s.writeIndexesUnsynced())
	}
	errs = append(errs, l.epochs.writeUnsynced())
	// As Close: a snapshot at the log end already holds every producer
	// batch; an empty log has nothing to replay and needs none.
	if leo := l.leo.Load(); !slices.Contains(l.mu.snapshots, leo) && (len(l.mu.producers) > 0 || leo > l.logStart.Load()) {
		errs = append(errs, l.writeSnapshotUnsyncedLocked(leo))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("close %s: %w", l.dir, err)
	}
	// Every open log has written its checkpoint (Open flushes), which
	// the close checkpoint names as the one it supersedes.
	want := checkpoint{max(rp, target), l.logStart.Load()}
	if l.mu.hasWritten && l.mu.written != want {
		c.at = &ClosedAt{from: l.mu.written, to: want}
	}
	return c, nil
}

func (l *Log) releaseSegments(c closing) {
	if !c.open {
		return
	}
	for _, s := range c.segs {
		s.release()
	}
}

// logDirs are the distinct parent directories (log dirs) of the logs
// CloseAll closed, and their filesystem.
func logDirs(logs []*Log, pending []closing) (vfs.FS, []string) {
	var fsys vfs.FS
	var dirs []string
	for i, l := range logs {
		if !pending[i].open {
			continue
		}
		fsys = l.fs
		if d := filepath.Dir(l.dir); !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return fsys, dirs
}

func syncFS(fsys vfs.FS, dirs []string) error {
	var errs []error
	for _, d := range dirs {
		if err := fsys.SyncFS(d); err != nil {
			errs = append(errs, storageErr(err, "syncfs %s", d))
		}
	}
	return errors.Join(errs...)
}

// forEach runs f(0..n-1) on up to workers goroutines and waits for them.
func forEach(n, workers int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(max(workers, 1), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// closeCheckpointFile, one per log dir, holds where CloseAll left each log
// whose recovery point it moved. Text, one log a line:
//
//	weir-close-checkpoint 1
//	<count>
//	<log directory name> <from recovery point> <from log start> <recovery point> <log start>
//	...
//	crc32c <hex of the bytes above>
//
// "from" is the log's own checkpoint (log.checkpoint) at the close; the
// line holds only while that is still what the log's directory says. The
// broker takes the file (reads and removes it) at start, before it opens
// any log, so a line is used at most once: a log that runs, truncates and
// flushes after the restart never meets a stale line.
const closeCheckpointFile = "log-close-checkpoint"

// ClosedAt is where CloseAll left one log: given to Open (Options), it
// stands for the log's checkpoint if the log's own is still the one the
// close saw, sparing the recovery of the tail the close made durable.
type ClosedAt struct{ from, to checkpoint }

func writeCloseCheckpoint(fsys vfs.FS, logDir string, logs []*Log, pending []closing) error {
	var body bytes.Buffer
	n := 0
	for i, l := range logs {
		if c := pending[i]; c.at != nil && filepath.Dir(l.dir) == logDir {
			fmt.Fprintf(&body, "%s %d %d %d %d\n", filepath.Base(l.dir), c.at.from.recoveryPoint, c.at.from.logStart, c.at.to.recoveryPoint, c.at.to.logStart)
			n++
		}
	}
	if n == 0 {
		return nil
	}
	out := fmt.Appendf(nil, "weir-close-checkpoint 1\n%d\n%s", n, body.Bytes())
	out = fmt.Appendf(out, "crc32c %08x\n", crc32.Checksum(out, castagnoli))
	if err := atomicfile.WriteUnsynced(fsys, filepath.Join(logDir, closeCheckpointFile), out); err != nil {
		return storageErr(err, "write the close checkpoint of %s", logDir)
	}
	return nil
}

// TakeCloseCheckpoint reads and removes logDir's close checkpoint, making
// the removal durable before it returns, and returns its lines by log
// directory (joined to logDir). No file: none. A file that does not parse
// (a crash while CloseAll wrote it) is removed and reported; the logs then
// recover from their own checkpoints.
func TakeCloseCheckpoint(fsys vfs.FS, logDir string) (map[string]ClosedAt, error) {
	fsys = vfs.OrDefault(fsys)
	path := filepath.Join(logDir, closeCheckpointFile)
	data, err := vfs.ReadFile(fsys, path)
	if vfs.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, storageErr(err, "read %s", path)
	}
	out, perr := parseCloseCheckpoint(data, logDir)
	if err := fsys.Remove(path); err != nil {
		return nil, storageErr(err, "remove %s", path)
	}
	if err := vfs.SyncDir(fsys, logDir); err != nil {
		return nil, storageErr(err, "remove %s", path)
	}
	if perr != nil {
		return nil, fmt.Errorf("ignoring %s: %w", path, perr)
	}
	return out, nil
}

func parseCloseCheckpoint(data []byte, logDir string) (map[string]ClosedAt, error) {
	i := bytes.LastIndex(data, []byte("crc32c "))
	var crc uint32
	if i < 0 || !bytes.HasSuffix(data, []byte("\n")) {
		return nil, errors.New("no checksum line")
	}
	if _, err := fmt.Sscanf(string(data[i:]), "crc32c %x\n", &crc); err != nil || crc != crc32.Checksum(data[:i], castagnoli) {
		return nil, errors.New("checksum mismatch")
	}
	lines := strings.Split(strings.TrimSuffix(string(data[:i]), "\n"), "\n")
	if len(lines) < 2 || lines[0] != "weir-close-checkpoint 1" {
		return nil, errors.New("bad header")
	}
	n, err := strconv.Atoi(lines[1])
	if err != nil || n != len(lines)-2 {
		return nil, fmt.Errorf("count %q for %d lines", lines[1], len(lines)-2)
	}
	out := make(map[string]ClosedAt, n)
	for _, line := range lines[2:] {
		var name string
		var c ClosedAt
		if _, err := fmt.Sscanf(line, "%s %d %d %d %d", &name, &c.from.recoveryPoint, &c.from.logStart, &c.to.recoveryPoint, &c.to.logStart); err != nil {
			return nil, fmt.Errorf("line %q: %w", line, err)
		}
		out[filepath.Join(logDir, name)] = c
	}
	return out, nil
}
