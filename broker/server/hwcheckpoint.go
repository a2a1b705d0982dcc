package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
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

type topicPartition struct {
	topic     string
	partition int32
}

// readHWCheckpoints loads the checkpoints of every log dir.
func (b *Broker) readHWCheckpoints() map[topicPartition]int64 {
	out := map[topicPartition]int64{}
	for _, dir := range b.cfg.LogDirs {
		path := filepath.Join(dir, hwCheckpointFile)
		data, err := vfs.ReadFile(b.fs, path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err == nil {
			err = parseHWCheckpoint(data, out)
		}
		if err != nil {
			b.logger.Warn("ignoring an unreadable high-watermark checkpoint", "file", path, "err", err)
		}
	}
	return out
}

func parseHWCheckpoint(data []byte, out map[topicPartition]int64) error {
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
		out[topicPartition{f[0], int32(p)}] = hw
	}
	return nil
}

// writeHWCheckpoints writes each log dir's checkpoint.
func (b *Broker) writeHWCheckpoints() {
	byDir := map[string][]string{}
	for _, p := range b.allPartitions() {
		dir := filepath.Dir(p.log.Dir())
		byDir[dir] = append(byDir[dir], fmt.Sprintf("%s %d %d", p.name(), p.index, p.highWatermark()))
	}
	for _, d := range b.cfg.LogDirs {
		entries := byDir[filepath.Clean(d)]
		content := fmt.Sprintf("0\n%d\n%s", len(entries), strings.Join(entries, "\n"))
		if len(entries) > 0 {
			content += "\n"
		}
		if err := atomicfile.Write(b.fs, filepath.Join(d, hwCheckpointFile), []byte(content)); err != nil {
			b.logger.Warn("writing the high-watermark checkpoint failed", "dir", d, "err", err)
		}
	}
}
