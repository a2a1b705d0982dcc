package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/weirhq/weir/internal/vfs"
)

func TestWriteReplacesAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	for _, body := range []string{"first", "second, longer"} {
		if err := Write(vfs.Default, path, []byte(body)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != body {
			t.Fatalf("read %q, %v; want %q", got, err, body)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file", len(entries))
	}
	if err := Write(vfs.Default, filepath.Join(dir, "missing", "x"), nil); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

// A write that fails at any step before the rename (a full disk, a failed
// fsync, a short write) leaves the old contents whole and no temporary
// file; once the rename is done, the new contents are durable.
func TestFailedWriteKeepsTheOldContents(t *testing.T) {
	for name, ft := range map[string]vfs.Fault{
		"ENOSPC creating the temp": {Ops: vfs.OpCreate, Err: syscall.ENOSPC},
		"short write":              {Ops: vfs.OpWrite, Err: syscall.ENOSPC, Short: true},
		"EIO on fsync":             {Ops: vfs.OpSync, Path: vfs.HasSuffix(".tmp"), Err: syscall.EIO},
		"EIO on rename":            {Ops: vfs.OpRename, Err: syscall.EIO},
	} {
		t.Run(name, func(t *testing.T) {
			mem := vfs.NewMem()
			fs := vfs.NewFault(mem)
			if err := fs.MkdirAll("/d", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := Write(fs, "/d/state", []byte("old")); err != nil {
				t.Fatal(err)
			}
			fs.Inject(ft)
			if err := Write(fs, "/d/state", []byte("new contents")); !errors.Is(err, ft.Err) {
				t.Fatalf("write under the fault: %v, want %v", err, ft.Err)
			}
			fs.Clear()
			for _, f := range []vfs.FS{mem, mem.CrashClone()} {
				if b, err := vfs.ReadFile(f, "/d/state"); err != nil || string(b) != "old" {
					t.Fatalf("after the failed write: %q %v, want the old contents", b, err)
				}
			}
			if names, _ := mem.List("/d"); len(names) != 1 {
				t.Fatalf("directory holds %v, want only the file", names)
			}
			if err := Write(fs, "/d/state", []byte("new")); err != nil {
				t.Fatal(err)
			}
			if b, _ := vfs.ReadFile(mem.CrashClone(), "/d/state"); string(b) != "new" {
				t.Fatalf("after a crash: %q, want the new contents", b)
			}
		})
	}
}

func TestWritePrivateIsOwnerOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	if err := WritePrivate(vfs.Default, path, []byte("secret\n")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("WritePrivate left %v, want -rw-------", perm)
	}
}
