package executor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/weirhq/weir/collector/model"
)

// record is what the state file holds while an execution runs: its task,
// every move it was asked to make, and the throttles it set (written
// before they are set). A missing file means no execution of ours is in
// flight.
type record struct {
	Version   int             `json:"version"`
	TaskID    string          `json:"task_id"`
	Started   time.Time       `json:"started"`
	Moves     []model.Move    `json:"moves"`
	Throttles *throttleRecord `json:"throttles,omitempty"`
}

const recordVersion = 1

// loadRecord reads path; a missing file (or path "") is no record.
func loadRecord(path string) (*record, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the execution state file: %w", err)
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decoding the execution state file %s: %w", path, err)
	}
	if r.Version != recordVersion {
		return nil, fmt.Errorf("execution state file %s: version %d, want %d", path, r.Version, recordVersion)
	}
	return &r, nil
}

// saveRecord writes r to path atomically: a temporary file in the same
// directory, fsynced, renamed over path, then the directory fsynced.
func saveRecord(path string, r *record) error {
	if path == "" {
		return nil
	}
	r.Version = recordVersion
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the execution state: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating a temporary execution state file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if err := writeSync(tmp, b); err != nil {
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("renaming the execution state file into place: %w", err)
	}
	return syncDir(dir)
}

func writeSync(f *os.File, b []byte) error {
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// removeRecord deletes path (no execution of ours is in flight) and
// fsyncs its directory.
func removeRecord(path string) error {
	if path == "" {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the execution state file: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening %s to sync it: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}
