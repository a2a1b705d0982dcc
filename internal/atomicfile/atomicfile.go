// Package atomicfile replaces a file's contents all at once: a reader (or a
// process restarted after a crash) sees the old contents or the new, never
// a mix. The new contents go to a temporary file beside the target, are
// synced, renamed over it, and the directory is synced so the rename
// survives a power loss.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path's contents with data.
func Write(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
