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
	"os"
	"path/filepath"
	"strconv"

	"github.com/weirhq/weir/internal/vfs"
)

// Write replaces path's contents with data on fs (vfs.Default: the disk).
// The file is readable by everyone (0644 before the umask), as Kafka's own
// checkpoints are; secrets go through WritePrivate.
func Write(fs vfs.FS, path string, data []byte) error {
	return write(fs, path, data, false)
}

// WriteUnsynced is Write without its two fsyncs: the temporary file is
// renamed over path unsynced, so a reader sees the old contents or the
// new, but a power loss before the caller's vfs.FS.SyncFS of the
// filesystem may leave either, or (on some filesystems) a torn file, which
// the reader must detect. For many small files that one SyncFS then makes
// durable together (broker/log's CloseAll).
func WriteUnsynced(fs vfs.FS, path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp := filepath.Join(dir, "."+filepath.Base(path)+"."+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
	if err := writeFile(fs, tmp, data, false, false); err != nil {
		fs.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := fs.Rename(tmp, path); err != nil {
		fs.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// WritePrivate is Write for a secret (a private key, an API token): the
// temporary file is made owner-only (0600) before a byte is written, so
// the secret is never readable by others, not even for a moment. (On a
// filesystem whose files have no permissions, such as vfs.MemFS, it is
// Write.)
func WritePrivate(fs vfs.FS, path string, data []byte) error {
	return write(fs, path, data, true)
}

func write(fs vfs.FS, path string, data []byte, private bool) error {
	dir := filepath.Dir(path)
	tmp := filepath.Join(dir, "."+filepath.Base(path)+"."+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
	if err := writeFile(fs, tmp, data, private, true); err != nil {
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

// writeFile creates name with data, fsyncing it if sync.
func writeFile(fs vfs.FS, name string, data []byte, private, sync bool) error {
	f, err := fs.Create(name)
	if err != nil {
		return err
	}
	if c, ok := f.(interface{ Chmod(os.FileMode) error }); ok && private {
		if err := c.Chmod(0o600); err != nil {
			f.Close()
			return err
		}
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if sync {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
