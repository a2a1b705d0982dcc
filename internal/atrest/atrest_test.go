package atrest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSystem writes a mountinfo and a /sys/dev/block tree:
//
//	253:0  dm-0, dm-crypt (LUKS) on 8:2
//	253:1  dm-1, LVM on dm-0
//	253:2  dm-2, LVM on 8:3 (not encrypted)
//	8:1    a plain partition
func fakeSystem(t *testing.T) Checker {
	t.Helper()
	root := t.TempDir()
	proc, sys := filepath.Join(root, "proc"), filepath.Join(root, "sys")
	mountinfo := strings.Join([]string{
		`1 0 8:1 / / rw - ext4 /dev/sda1 rw`,
		`2 1 253:1 / /data rw - xfs /dev/mapper/vg-data rw`,
		`3 1 253:0 / /luks rw - ext4 /dev/mapper/luks rw`,
		`4 1 253:2 / /lvm rw - ext4 /dev/mapper/vg-plain rw`,
		`5 1 0:40 / /mem rw - tmpfs tmpfs rw`,
		`6 1 0:41 / /home/u/Private rw - ecryptfs /home/u/.Private rw`,
		`7 1 0:42 / /btr rw shared:1 - btrfs /dev/mapper/luks rw`,
		`8 1 8:1 / /with\040space rw - ext4 /dev/sda1 rw`,
		`9 1 0:44 / /pool rw - zfs tank/kafka rw`,
		`10 1 0:45 / /ovl rw - overlay overlay rw`,
	}, "\n") + "\n"
	write := func(path, data string) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(proc, "self", "mountinfo"), mountinfo)
	blk := filepath.Join(sys, "dev", "block")
	write(filepath.Join(blk, "253:0", "dm", "uuid"), "CRYPT-LUKS2-abc-luks\n")
	write(filepath.Join(blk, "253:0", "slaves", "sda2", "dev"), "8:2\n")
	write(filepath.Join(blk, "253:1", "dm", "uuid"), "LVM-xyz\n")
	write(filepath.Join(blk, "253:1", "slaves", "dm-0", "dev"), "253:0\n")
	write(filepath.Join(blk, "253:2", "dm", "uuid"), "LVM-plain\n")
	write(filepath.Join(blk, "253:2", "slaves", "sda3", "dev"), "8:3\n")
	write(filepath.Join(blk, "8:1", "dev"), "8:1\n")
	return Checker{ProcRoot: proc, SysRoot: sys,
		FSCrypt: func(p string) (bool, error) { return strings.HasPrefix(p, "/fscrypted"), nil },
		DeviceOf: func(p string) (string, bool) {
			if p == "/dev/mapper/luks" {
				return "253:0", true
			}
			return "", false
		},
	}
}

func TestCheck(t *testing.T) {
	c := fakeSystem(t)
	for _, tc := range []struct {
		path   string
		status Status
		how    string
		mount  string
	}{
		{"/data/kafka-logs", Encrypted, "dm-crypt", "/data"},
		{"/luks", Encrypted, "dm-crypt", "/luks"},
		{"/lvm/logs", NotEncrypted, "no dm-crypt", "/lvm"},
		{"/var/lib/weir", NotEncrypted, "no dm-crypt", "/"},
		{"/datastore", NotEncrypted, "no dm-crypt", "/"}, // not under /data
		{"/mem/x", NotEncrypted, "memory-backed", "/mem"},
		{"/home/u/Private/weir", Encrypted, "eCryptfs", "/home/u/Private"},
		{"/btr/weir", Encrypted, "dm-crypt", "/btr"},
		{"/with space/weir", NotEncrypted, "no dm-crypt", "/with space"},
		{"/pool/weir", Unknown, "zfs get encryption tank/kafka", "/pool"},
		{"/ovl/weir", Unknown, "overlay", "/ovl"},
		{"/fscrypted/weir", Encrypted, "fscrypt", "/"},
	} {
		r, err := c.Check(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != tc.status || !strings.Contains(r.How, tc.how) || r.MountPoint != tc.mount {
			t.Errorf("%s: %s", tc.path, r)
		}
	}
}

func TestNoMountTable(t *testing.T) {
	r, err := Checker{ProcRoot: t.TempDir()}.Check("/x")
	if err != nil || r.Status != Unknown {
		t.Fatalf("%v %v", r, err)
	}
}

// TestThisMachine runs the real check on a temp dir: whatever the
// answer, it names a mount and does not fail.
func TestThisMachine(t *testing.T) {
	r, err := Check(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
	if r.Status != Unknown && r.MountPoint == "" {
		t.Fatalf("a verdict without a mount: %v", r)
	}
}
