package anomaly

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/weirhq/weir/internal/atomicfile"
	"github.com/weirhq/weir/internal/vfs"
)

// historyFile is the history's file (Options.HistoryFile). Its mu
// serializes saves and is taken before Manager.mu, never after: a
// snapshot taken later is written later.
type historyFile struct {
	path string
	mu   struct {
		sync.Mutex
		last    []byte // what the file holds, as last written; nil before the first write
		failing bool   // the last write failed: logged once until one succeeds
	}
}

// readHistory reads path, returning the record and the file's bytes; a
// missing file is no history (nil, nil, nil).
func readHistory(path string) (*historyRecord, []byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading the anomaly history: %w", err)
	}
	var r historyRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, nil, fmt.Errorf("decoding the anomaly history %s: %w", path, err)
	}
	if r.Version != historyVersion {
		return nil, nil, fmt.Errorf("anomaly history %s: version %d, want %d", path, r.Version, historyVersion)
	}
	return &r, b, nil
}

// encodeHistory is the file's bytes for r.
func encodeHistory(r *historyRecord) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the anomaly history: %w", err)
	}
	return append(b, '\n'), nil
}

// moveAside renames an unreadable history file to
// <path>.corrupt-<UTC time>, kept for a post-mortem, and returns the new
// name.
func moveAside(path string, now time.Time) (string, error) {
	aside := path + ".corrupt-" + now.UTC().Format("20060102T150405.000Z")
	if err := os.Rename(path, aside); err != nil {
		return "", fmt.Errorf("moving the unreadable anomaly history aside: %w", err)
	}
	return aside, nil
}

// load restores the history file into the new Manager's detector and
// saves what the restore changed (an interrupted fix, a dropped switch).
// A file that cannot be read or decoded is logged and moved aside, and
// the history starts anew: never a reason not to start.
func (m *Manager) load() {
	now := m.o.Now()
	r, b, err := readHistory(m.file.path)
	if err != nil {
		aside, merr := moveAside(m.file.path, now)
		m.logger.Error("the anomaly history cannot be read: starting a new one", "err", err, "moved_to", aside, "move_err", merr)
		return
	}
	if r == nil {
		return
	}
	m.mu.Lock()
	summary := m.mu.det.restore(r, now)
	m.mu.Unlock()
	m.logger.Info("anomaly history restored", "file", m.file.path, "restored", summary)
	m.file.mu.Lock()
	m.file.mu.last = b
	m.file.mu.Unlock()
	m.save()
}

// save writes the detector's memory to the history file when it differs
// from what the file holds. A failed write is logged (once until a write
// succeeds) and tried again at the next save.
func (m *Manager) save() {
	if m.file == nil {
		return
	}
	f := m.file
	f.mu.Lock()
	defer f.mu.Unlock()
	m.mu.Lock()
	r := m.mu.det.record()
	m.mu.Unlock()
	b, err := encodeHistory(&r)
	if err == nil && bytes.Equal(b, f.mu.last) {
		return
	}
	if err == nil {
		err = atomicfile.Write(vfs.Default, f.path, b)
	}
	if err != nil {
		if !f.mu.failing {
			m.logger.Warn("saving the anomaly history failed; it is kept in memory and saved at the next change", "file", f.path, "err", err)
		}
		f.mu.failing = true
		return
	}
	if f.mu.failing {
		m.logger.Info("anomaly history saved again", "file", f.path)
	}
	f.mu.last, f.mu.failing = b, false
}
