package autoscaler

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/weirhq/weir/autoscaler/policy"
	"github.com/weirhq/weir/internal/atomicfile"
	"github.com/weirhq/weir/internal/vfs"
)

// maxHistory bounds the actions kept: the cooldowns need only the last of
// each kind; the rest is for people reading the state file.
const maxHistory = 100

// historyFile is the state file's format.
type historyFile struct {
	Version int             `json:"version"`
	Actions []policy.Record `json:"actions"`
}

func appendHistory(h []policy.Record, r policy.Record) []policy.Record {
	h = append(h, r)
	if len(h) > maxHistory {
		h = h[len(h)-maxHistory:]
	}
	return h
}

// loadHistory reads the actions taken before a restart; a missing file is
// an empty history.
func loadHistory(path string) ([]policy.Record, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the autoscaler's state: %w", err)
	}
	var f historyFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("reading the autoscaler's state %s: %w (move it away to start without the history of actions; cooldowns then start afresh)", path, err)
	}
	return f.Actions, nil
}

func saveHistory(path string, h []policy.Record) error {
	if path == "" {
		return nil
	}
	data, err := json.MarshalIndent(historyFile{Version: 1, Actions: h}, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(vfs.Default, path, append(data, '\n')); err != nil {
		return fmt.Errorf("saving the autoscaler's state: %w", err)
	}
	return nil
}
