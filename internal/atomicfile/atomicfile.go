// Package atomicfile replaces a file's contents all at once: a reader, or
// a process restarted after a crash, sees the old contents or the new,
// never a mix, a torn tail or an empty file. It is Weir's one atomic file
// writer: the broker's checkpoints, producer snapshots and meta.properties,
// the collector's and the autoscaler's state files and weir up's spec all
// go through Write.
//
// The fsync rule, the same for every caller: the new contents go to a
// temporary file beside the target (".<name>.<random>.tmp": hidden, and
// swept by broker/log's stray-file cleanup), which is fsynced, renamed over
// the target, and then the directory is fsynced. So when Write returns nil
// the new contents survive a power loss; when it returns an error the
// target still holds the old contents (or the new, if only the directory
// fsync failed; either is whole) and the temporary file is removed.
package atomicfile

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"

	"github.com/weirhq/weir/internal/vfs"
)

// Write replaces path's contents with data on fs (vfs.Default: the disk).
func Write(fs vfs.FS, path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp := filepath.Join(dir, "."+filepath.Base(path)+"."+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
	if err := writeSynced(fs, tmp, data); err != nil {
		fs.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := fs.Rename(tmp, path); err != nil {
		fs.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := vfs.SyncDir(fs, dir); err != nil {
		return fmt.Errorf("writing %s: syncing its directory: %w", path, err)
	}
	return nil
}

// writeSynced creates name with data and fsyncs it.
func writeSynced(fs vfs.FS, name string, data []byte) error {
	f, err := fs.Create(name)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
