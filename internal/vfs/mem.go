package vfs

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// MemFS is an in-memory filesystem that remembers what is durable, as
// pebble's strict MemFS does: a file's contents as of its last Sync, and a
// directory's file entries (creations, renames, removals) as of its last
// Sync. CrashClone plays that back. Directories themselves (MkdirAll) are
// durable at once.
type MemFS struct {
	mu    sync.Mutex
	files map[string]*memNode
	dirs  map[string]time.Time // dir → modification time
	// durable holds each directory's file entries as of its last Sync.
	durable map[string]map[string]*memNode
}

type memNode struct {
	mu      sync.RWMutex
	data    []byte
	synced  []byte // the contents as of the last Sync
	modTime time.Time
}

// NewMem returns an empty in-memory filesystem.
func NewMem() *MemFS {
	return &MemFS{files: map[string]*memNode{}, dirs: map[string]time.Time{}, durable: map[string]map[string]*memNode{}}
}

// CrashClone returns a copy of the filesystem as a crash would leave it:
// each directory holds the files it held at its last Sync (none if it was
// never synced), under the names they had then, and each file holds what
// it held at its own last Sync (nothing if never synced). A file renamed
// or removed since its directory's last Sync is back under its old name.
func (m *MemFS) CrashClone() *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := NewMem()
	for d, t := range m.dirs {
		c.dirs[d] = t
	}
	clones := map[*memNode]*memNode{}
	for dir, entries := range m.durable {
		if !m.dirExists(dir) {
			continue // removed with RemoveAll (durable at once, like MkdirAll)
		}
		c.durable[dir] = map[string]*memNode{}
		for name, n := range entries {
			cn, ok := clones[n]
			if !ok {
				n.mu.RLock()
				cn = &memNode{data: slices.Clone(n.synced), synced: slices.Clone(n.synced), modTime: n.modTime}
				n.mu.RUnlock()
				clones[n] = cn
			}
			c.files[filepath.Join(dir, name)] = cn
			c.durable[dir][name] = cn
		}
	}
	return c
}

// SyncFS makes every file's contents and every directory's entries
// durable: the whole MemFS is one filesystem.
func (m *MemFS) SyncFS(string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.durable = map[string]map[string]*memNode{}
	for name, n := range m.files {
		dir := filepath.Dir(name)
		if m.durable[dir] == nil {
			m.durable[dir] = map[string]*memNode{}
		}
		m.durable[dir][filepath.Base(name)] = n
		n.mu.Lock()
		n.synced = append(n.synced[:0], n.data...)
		n.mu.Unlock()
	}
	return nil
}

// syncDir records dir's file entries as durable.
func (m *MemFS) syncDir(dir string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	entries := map[string]*memNode{}
	for name, n := range m.files {
		if filepath.Dir(name) == dir {
			entries[filepath.Base(name)] = n
		}
	}
	m.durable[dir] = entries
}

func clean(name string) string { return filepath.Clean(name) }

func pathErr(op, name string, err error) error { return &fs.PathError{Op: op, Path: name, Err: err} }

// dirExists reports whether dir is a directory; the root always is.
// Caller holds m.mu.
func (m *MemFS) dirExists(dir string) bool {
	_, ok := m.dirs[dir]
	return ok || filepath.Dir(dir) == dir
}

func (m *MemFS) Create(name string) (File, error) {
	return m.open("create", name, true, true, true)
}

func (m *MemFS) Open(name string) (File, error) {
	return m.open("open", name, false, false, false)
}

func (m *MemFS) OpenReadWrite(name string) (File, error) {
	return m.open("open", name, true, true, false)
}

func (m *MemFS) open(op, name string, write, create, trunc bool) (File, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, isDir := m.dirs[name]; isDir {
		return nil, pathErr(op, name, syscall.EISDIR)
	}
	n, ok := m.files[name]
	if !ok {
		if !create {
			return nil, pathErr(op, name, fs.ErrNotExist)
		}
		if !m.dirExists(filepath.Dir(name)) {
			return nil, pathErr(op, name, fs.ErrNotExist)
		}
		n = &memNode{modTime: time.Now()}
		m.files[name] = n
	}
	if trunc {
		n.mu.Lock()
		n.data, n.modTime = n.data[:0], time.Now()
		n.mu.Unlock()
	}
	return &memFile{n: n, name: name, write: write}, nil
}

func (m *MemFS) OpenDir(name string) (File, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirExists(name) {
		return nil, pathErr("open", name, fs.ErrNotExist)
	}
	return &memDir{fs: m, name: name}, nil
}

func (m *MemFS) Remove(name string) error {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; ok {
		delete(m.files, name)
		return nil
	}
	if _, ok := m.dirs[name]; !ok {
		return pathErr("remove", name, fs.ErrNotExist)
	}
	if len(m.childrenLocked(name)) > 0 {
		return pathErr("remove", name, syscall.ENOTEMPTY)
	}
	delete(m.dirs, name)
	return nil
}

func (m *MemFS) RemoveAll(name string) error {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	prefix := name + string(filepath.Separator)
	for f := range m.files {
		if f == name || strings.HasPrefix(f, prefix) {
			delete(m.files, f)
		}
	}
	for d := range m.dirs {
		if d == name || strings.HasPrefix(d, prefix) {
			delete(m.dirs, d)
		}
	}
	for d := range m.durable {
		if d == name || strings.HasPrefix(d, prefix) {
			delete(m.durable, d)
		}
	}
	return nil
}

func (m *MemFS) Rename(oldname, newname string) error {
	oldname, newname = clean(oldname), clean(newname)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirExists(filepath.Dir(newname)) {
		return pathErr("rename", newname, fs.ErrNotExist)
	}
	if n, ok := m.files[oldname]; ok {
		if _, isDir := m.dirs[newname]; isDir {
			return pathErr("rename", newname, syscall.EISDIR)
		}
		delete(m.files, oldname)
		m.files[newname] = n
		return nil
	}
	if _, ok := m.dirs[oldname]; !ok {
		return pathErr("rename", oldname, fs.ErrNotExist)
	}
	m.moveTreeLocked(oldname, newname)
	return nil
}

// moveTreeLocked renames a directory and everything under it.
func (m *MemFS) moveTreeLocked(oldname, newname string) {
	oldPrefix := oldname + string(filepath.Separator)
	for f, n := range m.files {
		if rest, ok := strings.CutPrefix(f, oldPrefix); ok {
			delete(m.files, f)
			m.files[filepath.Join(newname, rest)] = n
		}
	}
	for d, t := range m.dirs {
		if rest, ok := strings.CutPrefix(d, oldPrefix); ok {
			delete(m.dirs, d)
			m.dirs[filepath.Join(newname, rest)] = t
		}
	}
	m.dirs[newname] = m.dirs[oldname]
	delete(m.dirs, oldname)
	for d, e := range m.durable { // directory renames are durable at once
		if d == oldname {
			delete(m.durable, d)
			m.durable[newname] = e
		} else if rest, ok := strings.CutPrefix(d, oldPrefix); ok {
			delete(m.durable, d)
			m.durable[filepath.Join(newname, rest)] = e
		}
	}
}

func (m *MemFS) MkdirAll(dir string, perm os.FileMode) error {
	dir = clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := dir; !m.dirExists(d); d = filepath.Dir(d) {
		if _, ok := m.files[d]; ok {
			return pathErr("mkdir", d, syscall.ENOTDIR)
		}
		m.dirs[d] = time.Now()
	}
	return nil
}

func (m *MemFS) Stat(name string) (os.FileInfo, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if n, ok := m.files[name]; ok {
		return n.stat(name), nil
	}
	if m.dirExists(name) {
		return memInfo{name: filepath.Base(name), dir: true, modTime: m.dirs[name]}, nil
	}
	return nil, pathErr("stat", name, fs.ErrNotExist)
}

func (m *MemFS) List(dir string) ([]string, error) {
	dir = clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirExists(dir) {
		return nil, pathErr("open", dir, fs.ErrNotExist)
	}
	names := m.childrenLocked(dir)
	slices.Sort(names)
	return names, nil
}

// childrenLocked returns the names of dir's entries. Caller holds m.mu.
func (m *MemFS) childrenLocked(dir string) []string {
	var names []string
	for f := range m.files {
		if filepath.Dir(f) == dir {
			names = append(names, filepath.Base(f))
		}
	}
	for d := range m.dirs {
		if d != dir && filepath.Dir(d) == dir {
			names = append(names, filepath.Base(d))
		}
	}
	return names
}

func (m *MemFS) Chtimes(name string, _, mtime time.Time) error {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	n, ok := m.files[name]
	if !ok {
		return pathErr("chtimes", name, fs.ErrNotExist)
	}
	n.mu.Lock()
	n.modTime = mtime
	n.mu.Unlock()
	return nil
}

func (n *memNode) stat(name string) memInfo {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return memInfo{name: filepath.Base(name), size: int64(len(n.data)), modTime: n.modTime}
}

// memFile is an open MemFS file: a node and a position.
type memFile struct {
	n      *memNode
	name   string
	write  bool
	pos    int64
	closed atomic.Bool
}

func (f *memFile) check(op string, write bool) error {
	switch {
	case f.closed.Load():
		return pathErr(op, f.name, fs.ErrClosed)
	case write && !f.write:
		return pathErr(op, f.name, syscall.EBADF)
	}
	return nil
}

func (f *memFile) Read(b []byte) (int, error) {
	n, err := f.ReadAt(b, f.pos)
	f.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (f *memFile) ReadAt(b []byte, off int64) (int, error) {
	if err := f.check("read", false); err != nil {
		return 0, err
	}
	f.n.mu.RLock()
	defer f.n.mu.RUnlock()
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	n := copy(b, f.n.data[off:])
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) Write(b []byte) (int, error) {
	n, err := f.WriteAt(b, f.pos)
	f.pos += int64(n)
	return n, err
}

func (f *memFile) WriteAt(b []byte, off int64) (int, error) {
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	if end := off + int64(len(b)); end > int64(len(f.n.data)) {
		f.n.data = slices.Grow(f.n.data, int(end)-len(f.n.data))[:end]
	}
	copy(f.n.data[off:], b)
	f.n.modTime = time.Now()
	return len(b), nil
}

func (f *memFile) Truncate(size int64) error {
	if err := f.check("truncate", true); err != nil {
		return err
	}
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	if size <= int64(len(f.n.data)) {
		f.n.data = f.n.data[:size]
	} else {
		f.n.data = append(f.n.data, make([]byte, size-int64(len(f.n.data)))...)
	}
	f.n.modTime = time.Now()
	return nil
}

func (f *memFile) Sync() error {
	if err := f.check("sync", false); err != nil {
		return err
	}
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	f.n.synced = append(f.n.synced[:0], f.n.data...)
	return nil
}

func (f *memFile) Stat() (os.FileInfo, error) {
	if err := f.check("stat", false); err != nil {
		return nil, err
	}
	return f.n.stat(f.name), nil
}

func (f *memFile) Close() error {
	if f.closed.Swap(true) {
		return pathErr("close", f.name, fs.ErrClosed)
	}
	return nil
}

// memDir is a directory opened for Sync, which makes its file entries
// durable.
type memDir struct {
	fs   *MemFS
	name string
}

func (d *memDir) Read([]byte) (int, error) { return 0, pathErr("read", d.name, syscall.EISDIR) }
func (d *memDir) ReadAt([]byte, int64) (int, error) {
	return 0, pathErr("read", d.name, syscall.EISDIR)
}
func (d *memDir) Write([]byte) (int, error) { return 0, pathErr("write", d.name, syscall.EISDIR) }
func (d *memDir) WriteAt([]byte, int64) (int, error) {
	return 0, pathErr("write", d.name, syscall.EISDIR)
}
func (d *memDir) Truncate(int64) error       { return pathErr("truncate", d.name, syscall.EISDIR) }
func (d *memDir) Sync() error                { d.fs.syncDir(d.name); return nil }
func (d *memDir) Close() error               { return nil }
func (d *memDir) Stat() (os.FileInfo, error) { return d.fs.Stat(d.name) }

type memInfo struct {
	name    string
	size    int64
	dir     bool
	modTime time.Time
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) ModTime() time.Time { return i.modTime }
func (i memInfo) IsDir() bool        { return i.dir }
func (i memInfo) Sys() any           { return nil }

func (i memInfo) Mode() os.FileMode {
	if i.dir {
		return os.ModeDir | 0o755
	}
	return 0o644
}
