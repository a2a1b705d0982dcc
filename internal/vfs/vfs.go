// Package vfs is the filesystem seam between Weir's storage code and the
// disk, in the shape of pebble's vfs: a small FS interface with three
// implementations.
//
//   - Default is the real disk (package os). Its files are *os.File, so code
//     that needs an os-only feature (an fd for mmap or sendfile) can type
//     assert; nothing in the broker does today.
//   - NewMem is an in-memory filesystem for fast tests. It keeps POSIX's
//     useful semantics (an open file outlives its removal, rename replaces)
//     and can drop what was never synced, to play a crash (CrashClone).
//   - NewFault wraps another FS and injects errors (ENOSPC, EIO, short
//     writes) by operation and path, switched on and off while the code
//     under test runs.
//
// Only what the callers need is here: the partition log (broker/log), the
// broker's checkpoints and the atomic file writer (internal/atomicfile).
// Paths are host paths (path/filepath).
package vfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"time"
)

// File is an open file. Writes at the end (Write) and at positions
// (WriteAt, ReadAt) may be mixed, as with *os.File; the broker uses the
// positional calls.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.WriterAt
	io.Closer
	Stat() (os.FileInfo, error)
	// Sync makes the file's contents (or, for a directory opened with
	// OpenDir, its entries) durable.
	Sync() error
	Truncate(size int64) error
}

// FS is a filesystem.
type FS interface {
	// Create creates or truncates name, opened for reading and writing.
	Create(name string) (File, error)
	// Open opens name read-only.
	Open(name string) (File, error)
	// OpenReadWrite opens name for reading and writing, creating it empty
	// if it does not exist.
	OpenReadWrite(name string) (File, error)
	// OpenDir opens a directory, for Sync.
	OpenDir(name string) (File, error)
	Remove(name string) error
	RemoveAll(name string) error
	// Rename renames a file, replacing newname if it exists.
	Rename(oldname, newname string) error
	MkdirAll(dir string, perm os.FileMode) error
	Stat(name string) (os.FileInfo, error)
	// List returns the names of the entries of dir, sorted.
	List(dir string) ([]string, error)
	// Chtimes sets a file's modification time (the cleaner keeps the
	// newest of the originals' on a compacted segment).
	Chtimes(name string, atime, mtime time.Time) error
	// SyncFS makes everything written on the filesystem that holds dir
	// durable: every file's contents and every directory's entries
	// (syncfs(2)). One call replaces a sync per file when many files
	// were written (a broker closing thousands of logs).
	SyncFS(dir string) error
}

// Default is the real filesystem.
var Default FS = diskFS{}

// OrDefault returns fs, or Default when fs is nil: the rule for every
// Options.FS in the broker.
func OrDefault(fs FS) FS {
	if fs == nil {
		return Default
	}
	return fs
}

type diskFS struct{}

func (diskFS) Create(name string) (File, error) {
	return wrap(os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644))
}

func (diskFS) Open(name string) (File, error) { return wrap(os.Open(name)) }

func (diskFS) OpenReadWrite(name string) (File, error) {
	return wrap(os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644))
}

func (diskFS) OpenDir(name string) (File, error) { return wrap(os.Open(name)) }

func (diskFS) Remove(name string) error                    { return os.Remove(name) }
func (diskFS) RemoveAll(name string) error                 { return os.RemoveAll(name) }
func (diskFS) Rename(oldname, newname string) error        { return os.Rename(oldname, newname) }
func (diskFS) MkdirAll(dir string, perm os.FileMode) error { return os.MkdirAll(dir, perm) }
func (diskFS) Stat(name string) (os.FileInfo, error)       { return os.Stat(name) }
func (diskFS) Chtimes(name string, atime, mtime time.Time) error {
	return os.Chtimes(name, atime, mtime)
}

func (diskFS) SyncFS(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = syncfs(d)
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &fs.PathError{Op: "syncfs", Path: dir, Err: err}
	}
	return nil
}

func (diskFS) List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

// wrap returns f as a File without boxing a nil *os.File into a non-nil
// interface.
func wrap(f *os.File, err error) (File, error) {
	if err != nil {
		return nil, err
	}
	return f, nil
}

// ReadFile reads a whole file.
func ReadFile(fs FS, name string) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// SyncDir makes a directory's entries (creations, renames, removals)
// durable.
func SyncDir(fs FS, dir string) error {
	d, err := fs.OpenDir(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// IsNotExist reports whether err says a file does not exist.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
