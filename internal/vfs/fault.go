package vfs

import (
	"io/fs"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Op is a kind of filesystem operation a Fault can hit.
type Op uint32

const (
	OpCreate   Op = 1 << iota // FS.Create
	OpOpen                    // FS.Open, OpenReadWrite, OpenDir
	OpRead                    // File.Read, ReadAt
	OpWrite                   // File.Write, WriteAt
	OpSync                    // File.Sync, of files and of directories
	OpTruncate                // File.Truncate
	OpRename                  // FS.Rename (the path is the new name)
	OpRemove                  // FS.Remove, RemoveAll
	OpMkdir                   // FS.MkdirAll
	OpStat                    // FS.Stat, List, Chtimes, File.Stat

	OpAll Op = 1<<iota - 1
)

// Fault is an error to inject: the operations and the paths it hits, and
// the error they return.
type Fault struct {
	Ops  Op
	Path func(name string) bool // nil: every path
	Err  error                  // the errno to return (syscall.ENOSPC, syscall.EIO, ...); nil: EIO
	// Short makes a hit write write its first half before it fails, as a
	// write that runs out of space part way does.
	Short bool
}

// HasSuffix is a Fault.Path predicate: names ending in suffix.
func HasSuffix(suffix string) func(string) bool {
	return func(name string) bool { return strings.HasSuffix(name, suffix) }
}

// FaultFS wraps an FS and makes the operations that match an injected
// Fault fail. Faults are switched on and off at any time, from any
// goroutine; an operation under way when they change sees either set.
type FaultFS struct {
	fs     FS
	faults atomic.Pointer[[]Fault]
	hits   atomic.Int64
}

// NewFault wraps fs, with no fault injected.
func NewFault(fs FS) *FaultFS { return &FaultFS{fs: fs} }

// Inject adds faults to those in force.
func (f *FaultFS) Inject(faults ...Fault) {
	for {
		old := f.faults.Load()
		var next []Fault
		if old != nil {
			next = append(next, *old...)
		}
		next = append(next, faults...)
		if f.faults.CompareAndSwap(old, &next) {
			return
		}
	}
}

// Clear removes every fault: the filesystem works again.
func (f *FaultFS) Clear() { f.faults.Store(nil) }

// Hits is the number of operations failed so far.
func (f *FaultFS) Hits() int64 { return f.hits.Load() }

// fault returns the fault hitting op on name, if any.
func (f *FaultFS) fault(op Op, name string) (Fault, bool) {
	p := f.faults.Load()
	if p == nil {
		return Fault{}, false
	}
	for _, ft := range *p {
		if ft.Ops&op != 0 && (ft.Path == nil || ft.Path(name)) {
			f.hits.Add(1)
			if ft.Err == nil {
				ft.Err = syscall.EIO
			}
			return ft, true
		}
	}
	return Fault{}, false
}

// check returns the injected error for op on name, as the os package
// would report it.
func (f *FaultFS) check(op Op, opName, name string) error {
	if ft, ok := f.fault(op, name); ok {
		return &fs.PathError{Op: opName, Path: name, Err: ft.Err}
	}
	return nil
}

func (f *FaultFS) Create(name string) (File, error) {
	if err := f.check(OpCreate, "open", name); err != nil {
		return nil, err
	}
	return f.wrap(name)(f.fs.Create(name))
}

func (f *FaultFS) Open(name string) (File, error) {
	if err := f.check(OpOpen, "open", name); err != nil {
		return nil, err
	}
	return f.wrap(name)(f.fs.Open(name))
}

func (f *FaultFS) OpenReadWrite(name string) (File, error) {
	if err := f.check(OpOpen, "open", name); err != nil {
		return nil, err
	}
	return f.wrap(name)(f.fs.OpenReadWrite(name))
}

func (f *FaultFS) OpenDir(name string) (File, error) {
	if err := f.check(OpOpen, "open", name); err != nil {
		return nil, err
	}
	return f.wrap(name)(f.fs.OpenDir(name))
}

// SyncFS is an OpSync on dir.
func (f *FaultFS) SyncFS(dir string) error {
	if err := f.check(OpSync, "syncfs", dir); err != nil {
		return err
	}
	return f.fs.SyncFS(dir)
}

func (f *FaultFS) wrap(name string) func(File, error) (File, error) {
	return func(file File, err error) (File, error) {
		if err != nil {
			return nil, err
		}
		return &faultFile{File: file, fs: f, name: name}, nil
	}
}

func (f *FaultFS) Remove(name string) error {
	if err := f.check(OpRemove, "remove", name); err != nil {
		return err
	}
	return f.fs.Remove(name)
}

func (f *FaultFS) RemoveAll(name string) error {
	if err := f.check(OpRemove, "unlinkat", name); err != nil {
		return err
	}
	return f.fs.RemoveAll(name)
}

func (f *FaultFS) Rename(oldname, newname string) error {
	if ft, ok := f.fault(OpRename, newname); ok {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: ft.Err}
	}
	return f.fs.Rename(oldname, newname)
}

func (f *FaultFS) MkdirAll(dir string, perm os.FileMode) error {
	if err := f.check(OpMkdir, "mkdir", dir); err != nil {
		return err
	}
	return f.fs.MkdirAll(dir, perm)
}

func (f *FaultFS) Stat(name string) (os.FileInfo, error) {
	if err := f.check(OpStat, "stat", name); err != nil {
		return nil, err
	}
	return f.fs.Stat(name)
}

func (f *FaultFS) List(dir string) ([]string, error) {
	if err := f.check(OpStat, "open", dir); err != nil {
		return nil, err
	}
	return f.fs.List(dir)
}

func (f *FaultFS) Chtimes(name string, atime, mtime time.Time) error {
	if err := f.check(OpStat, "chtimes", name); err != nil {
		return err
	}
	return f.fs.Chtimes(name, atime, mtime)
}

// faultFile is a file of a FaultFS.
type faultFile struct {
	File
	fs   *FaultFS
	name string
}

func (f *faultFile) Read(b []byte) (int, error) {
	if err := f.fs.check(OpRead, "read", f.name); err != nil {
		return 0, err
	}
	return f.File.Read(b)
}

func (f *faultFile) ReadAt(b []byte, off int64) (int, error) {
	if err := f.fs.check(OpRead, "read", f.name); err != nil {
		return 0, err
	}
	return f.File.ReadAt(b, off)
}

func (f *faultFile) Write(b []byte) (int, error) {
	ft, ok := f.fs.fault(OpWrite, f.name)
	if !ok {
		return f.File.Write(b)
	}
	n := 0
	if ft.Short {
		n, _ = f.File.Write(b[:len(b)/2])
	}
	return n, &fs.PathError{Op: "write", Path: f.name, Err: ft.Err}
}

func (f *faultFile) WriteAt(b []byte, off int64) (int, error) {
	ft, ok := f.fs.fault(OpWrite, f.name)
	if !ok {
		return f.File.WriteAt(b, off)
	}
	n := 0
	if ft.Short {
		n, _ = f.File.WriteAt(b[:len(b)/2], off)
	}
	return n, &fs.PathError{Op: "write", Path: f.name, Err: ft.Err}
}

func (f *faultFile) Sync() error {
	if err := f.fs.check(OpSync, "sync", f.name); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *faultFile) Truncate(size int64) error {
	if err := f.fs.check(OpTruncate, "truncate", f.name); err != nil {
		return err
	}
	return f.File.Truncate(size)
}

func (f *faultFile) Stat() (os.FileInfo, error) {
	if err := f.fs.check(OpStat, "stat", f.name); err != nil {
		return nil, err
	}
	return f.File.Stat()
}
