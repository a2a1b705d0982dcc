package replication

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/weirhq/weir/internal/atomicfile"
	"github.com/weirhq/weir/internal/vfs"
)

// The high watermark of every hosted partition is checkpointed per log
// dir in Kafka's replication-offset-checkpoint format (a version line 0,
// a count, then "topic partition offset" lines), every few seconds and at
// shutdown. A restarted broker starts each partition at its checkpointed
// high watermark, so consumers can read committed records at once instead
// of waiting for every follower to fetch again.

const hwCheckpointFile = "replication-offset-checkpoint"

// HWCheckpointFile is the checkpoint's name in each log dir.
const HWCheckpointFile = hwCheckpointFile

// TopicPartition names a partition in a checkpoint.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// ReadHWCheckpoints loads the checkpoints of every log dir; an unreadable
// one is logged and skipped (the partitions start at high watermark 0, as
// without a checkpoint).
func ReadHWCheckpoints(fs vfs.FS, dirs []string, logger *slog.Logger) map[TopicPartition]int64 {
	out := map[TopicPartition]int64{}
	for _, dir := range dirs {
		path := filepath.Join(dir, hwCheckpointFile)
		data, err := vfs.ReadFile(fs, path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err == nil {
			err = parseHWCheckpoint(data, out)
		}
		if err != nil {
			logger.Warn("ignoring an unreadable high-watermark checkpoint", "file", path, "err", err)
		}
	}
	return out
}

func parseHWCheckpoint(data []byte, out map[TopicPartition]int64) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	var lines []string
	for sc.Scan() {
		lines = append(lines, strings.TrimSpace(sc.Text()))
	}
	if len(lines) < 2 || lines[0] != "0" {
		return errors.New("not a version 0 checkpoint")
	}
	n, err := strconv.Atoi(lines[1])
	if err != nil || n != len(lines)-2 {
		return fmt.Errorf("entry count %q does not match %d entries", lines[1], len(lines)-2)
	}
	for _, l := range lines[2:] {
		f := strings.Fields(l)
		if len(f) != 3 {
			return fmt.Errorf("bad entry %q", l)
		}
		p, err1 := strconv.ParseInt(f[1], 10, 32)
		hw, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("bad entry %q", l)
		}
		out[TopicPartition{f[0], int32(p)}] = hw
	}
	return nil
}

// WriteHWCheckpoints writes each log dir's checkpoint of the high
// watermarks of the replicas whose logs it holds; a failed write is logged
// (the previous checkpoint stays, whole).
func WriteHWCheckpoints(fs vfs.FS, dirs []string, replicas []*Replica, logger *slog.Logger) {
	byDir := map[string][]string{}
	for _, r := range replicas {
		dir := filepath.Dir(r.log.Dir())
		byDir[dir] = append(byDir[dir], fmt.Sprintf("%s %d %d", r.topic, r.index, r.HighWatermark()))
	}
	for _, d := range dirs {
		entries := byDir[filepath.Clean(d)]
		content := fmt.Sprintf("0\n%d\n%s", len(entries), strings.Join(entries, "\n"))
		if len(entries) > 0 {
			content += "\n"
		}
		if err := atomicfile.Write(fs, filepath.Join(d, hwCheckpointFile), []byte(content)); err != nil {
			logger.Warn("writing the high-watermark checkpoint failed", "dir", d, "err", err)
		}
	}
}
