package vfs

import (
	"errors"
	"io"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
)

// Both filesystems answer the operations the broker uses the same way.
func TestFilesystemsAgree(t *testing.T) {
	for name, mk := range map[string]func(t *testing.T) (FS, string){
		"disk": func(t *testing.T) (FS, string) { return Default, t.TempDir() },
		"mem":  func(t *testing.T) (FS, string) { return NewMem(), "/data" },
	} {
		t.Run(name, func(t *testing.T) {
			fs, root := mk(t)
			dir := filepath.Join(root, "orders-0")
			must(t, fs.MkdirAll(dir, 0o755))
			if _, err := fs.Create(filepath.Join(root, "missing", "x")); !IsNotExist(err) {
				t.Fatalf("create in a missing dir: %v, want not exist", err)
			}
			f, err := fs.Create(filepath.Join(dir, "a.log"))
			must(t, err)
			write(t, f, "hello world", 0)
			write(t, f, "HELLO", 0)
			must(t, f.Truncate(8))
			must(t, f.Sync())
			expect(t, f, "HELLO wo")

			// An open file outlives its rename and removal.
			must(t, fs.Rename(filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")))
			must(t, fs.Remove(filepath.Join(dir, "b.log")))
			expect(t, f, "HELLO wo")
			must(t, f.Close())

			g, err := fs.OpenReadWrite(filepath.Join(dir, "c.index"))
			must(t, err)
			write(t, g, "idx", 4)
			if fi, err := g.Stat(); err != nil || fi.Size() != 7 {
				t.Fatalf("size after a write at 4: %v %v", fi, err)
			}
			must(t, g.Close())
			h, err := fs.Create(filepath.Join(dir, "d.tmp"))
			must(t, err)
			_, err = h.Write([]byte("new"))
			must(t, err)
			must(t, h.Close())
			must(t, fs.Rename(filepath.Join(dir, "d.tmp"), filepath.Join(dir, "c.index")))
			b, err := ReadFile(fs, filepath.Join(dir, "c.index"))
			if err != nil || string(b) != "new" {
				t.Fatalf("after rename over: %q %v", b, err)
			}
			if _, err := fs.Open(filepath.Join(dir, "d.tmp")); !IsNotExist(err) {
				t.Fatalf("renamed-away name: %v", err)
			}
			ro, err := fs.Open(filepath.Join(dir, "c.index"))
			must(t, err)
			if _, err := ro.WriteAt([]byte("x"), 0); err == nil {
				t.Fatal("wrote through a read-only file")
			}
			must(t, ro.Close())

			must(t, fs.MkdirAll(filepath.Join(dir, "sub"), 0o755))
			names, err := fs.List(dir)
			if err != nil || !slices.Equal(names, []string{"c.index", "sub"}) {
				t.Fatalf("list: %v %v", names, err)
			}
			must(t, SyncDir(fs, dir))
			if fi, err := fs.Stat(dir); err != nil || !fi.IsDir() {
				t.Fatalf("stat dir: %v %v", fi, err)
			}
			must(t, fs.RemoveAll(dir))
			if _, err := fs.Stat(filepath.Join(dir, "c.index")); !IsNotExist(err) {
				t.Fatalf("after RemoveAll: %v", err)
			}
		})
	}
}

// A crash keeps what was synced and nothing more.
func TestMemCrashCloneKeepsSyncedContents(t *testing.T) {
	m := NewMem()
	must(t, m.MkdirAll("/d", 0o755))
	f, err := m.Create("/d/f")
	must(t, err)
	write(t, f, "durable", 0)
	must(t, f.Sync())
	write(t, f, " and not", 7)
	if _, err := ReadFile(m.CrashClone(), "/d/f"); !IsNotExist(err) {
		t.Fatalf("a file whose directory was never synced survived a crash: %v", err)
	}
	must(t, SyncDir(m, "/d"))
	c := m.CrashClone()
	b, err := ReadFile(c, "/d/f")
	if err != nil || string(b) != "durable" {
		t.Fatalf("after the crash: %q %v", b, err)
	}
	if b, _ := ReadFile(m, "/d/f"); string(b) != "durable and not" {
		t.Fatalf("the original changed: %q", b)
	}

	// A rename or removal is durable only once the directory is synced.
	must(t, m.Rename("/d/f", "/d/g"))
	g, err := m.Create("/d/h")
	must(t, err)
	must(t, g.Sync())
	c = m.CrashClone()
	if _, err := ReadFile(c, "/d/f"); err != nil {
		t.Fatalf("the rename, never synced, survived a crash: %v", err)
	}
	if names, _ := c.List("/d"); !slices.Equal(names, []string{"f"}) {
		t.Fatalf("after a crash: %v, want [f]", names)
	}
	must(t, SyncDir(m, "/d"))
	if names, _ := m.CrashClone().List("/d"); !slices.Equal(names, []string{"g", "h"}) {
		t.Fatalf("after a synced rename and a crash: %v, want [g h]", names)
	}
}

func TestFaultFSInjectsAndClears(t *testing.T) {
	f := NewFault(NewMem())
	must(t, f.MkdirAll("/d", 0o755))
	file, err := f.Create("/d/00.log")
	must(t, err)
	f.Inject(Fault{Ops: OpWrite, Path: HasSuffix(".log"), Err: syscall.ENOSPC, Short: true})
	n, err := file.WriteAt([]byte("abcdef"), 0)
	if n != 3 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("short write: n=%d err=%v, want 3 and ENOSPC", n, err)
	}
	if _, err := f.Create("/d/00.index"); err != nil {
		t.Fatalf("a fault on writes hit a create: %v", err)
	}
	f.Inject(Fault{Ops: OpSync})
	if err := file.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("sync: %v, want EIO (the default)", err)
	}
	if err := SyncDir(f, "/d"); !errors.Is(err, syscall.EIO) {
		t.Fatalf("dir sync: %v, want EIO", err)
	}
	if f.Hits() != 3 {
		t.Fatalf("hits %d, want 3", f.Hits())
	}
	f.Clear()
	if _, err := file.WriteAt([]byte("abcdef"), 0); err != nil {
		t.Fatal(err)
	}
	must(t, file.Sync())
	expect(t, file, "abcdef")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, f File, s string, off int64) {
	t.Helper()
	if n, err := f.WriteAt([]byte(s), off); err != nil || n != len(s) {
		t.Fatalf("write %q at %d: %d %v", s, off, n, err)
	}
}

func expect(t *testing.T, f File, want string) {
	t.Helper()
	b := make([]byte, len(want)+1)
	n, err := f.ReadAt(b, 0)
	if string(b[:n]) != want || !errors.Is(err, io.EOF) {
		t.Fatalf("read %q, %v; want %q and EOF", b[:n], err, want)
	}
}
