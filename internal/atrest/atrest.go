// Package atrest reports whether a directory's data is encrypted at rest.
// Weir has no segment cipher of its own: the supported way to encrypt
// data at rest is an encrypted filesystem under the log directories —
// dm-crypt/LUKS (directly or under LVM), fscrypt directory encryption, or
// eCryptfs. `weir up --secure` calls Check on its data directory and
// reports the answer; it does not refuse to run either way.
//
// On Linux, Check finds the directory's mount in /proc/self/mountinfo,
// asks the kernel whether the directory is fscrypt-encrypted (statx), and
// walks the mount's block device and the devices under it in
// /sys/dev/block looking for a dm-crypt target (a device-mapper uuid
// starting "CRYPT-"). Self-encrypting drives and ZFS native encryption
// cannot be seen this way: they are reported as unknown. Elsewhere Check
// reports unknown.
package atrest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Status is Check's verdict.
type Status string

const (
	Encrypted    Status = "encrypted"
	NotEncrypted Status = "not encrypted"
	Unknown      Status = "unknown"
)

// Report is what Check found.
type Report struct {
	Path       string
	MountPoint string
	FSType     string
	Source     string
	Status     Status
	// How names the encryption found ("dm-crypt", "fscrypt",
	// "eCryptfs"), or why the answer is unknown or what the data sits on.
	How string
}

func (r Report) String() string {
	s := fmt.Sprintf("%s: %s", r.Path, r.Status)
	if r.How != "" {
		s += " (" + r.How + ")"
	}
	return s + fmt.Sprintf("; mounted at %s, %s on %s", r.MountPoint, r.FSType, r.Source)
}

// Checker looks at a system; its roots are "/" except in tests.
type Checker struct {
	// ProcRoot and SysRoot prefix /proc and /sys.
	ProcRoot, SysRoot string
	// FSCrypt reports whether a directory is fscrypt-encrypted.
	FSCrypt func(path string) (bool, error)
	// DeviceOf gives a device file's major:minor (for filesystems whose
	// mountinfo device is anonymous, such as btrfs).
	DeviceOf func(path string) (string, bool)
}

// Check reports on path with the running system's /proc and /sys.
func Check(path string) (Report, error) {
	return Checker{ProcRoot: "/proc", SysRoot: "/sys", FSCrypt: fscrypt, DeviceOf: deviceOf}.Check(path)
}

type mount struct {
	dev, point, fstype, source string
}

// Check reports on path.
func (c Checker) Check(path string) (Report, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Report{}, err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	r := Report{Path: abs, Status: Unknown}
	mounts, err := c.mounts()
	if err != nil {
		r.How = "cannot read the mount table: " + err.Error()
		return r, nil
	}
	m, ok := mountOf(mounts, abs)
	if !ok {
		r.How = "no mount holds it"
		return r, nil
	}
	r.MountPoint, r.FSType, r.Source = m.point, m.fstype, m.source
	if c.FSCrypt != nil {
		if enc, err := c.FSCrypt(abs); err == nil && enc {
			r.Status, r.How = Encrypted, "fscrypt"
			return r, nil
		}
	}
	switch m.fstype {
	case "ecryptfs":
		r.Status, r.How = Encrypted, "eCryptfs"
		return r, nil
	case "tmpfs", "ramfs":
		r.Status, r.How = NotEncrypted, "memory-backed: nothing reaches a disk, and nothing survives a reboot"
		return r, nil
	case "zfs":
		r.How = "ZFS: see `zfs get encryption " + m.source + "`"
		return r, nil
	case "overlay", "fuse.sshfs", "nfs", "nfs4", "cifs", "9p", "virtiofs":
		r.How = m.fstype + ": the storage behind it cannot be seen from here"
		return r, nil
	}
	dev := m.dev
	if strings.HasPrefix(dev, "0:") && c.DeviceOf != nil && strings.HasPrefix(m.source, "/dev/") {
		if d, ok := c.DeviceOf(m.source); ok {
			dev = d
		}
	}
	if strings.HasPrefix(dev, "0:") {
		r.How = "no block device behind " + m.fstype
		return r, nil
	}
	if c.cryptBelow(dev, 0) {
		r.Status, r.How = Encrypted, "dm-crypt"
		return r, nil
	}
	r.Status, r.How = NotEncrypted, "no dm-crypt, fscrypt or eCryptfs (a self-encrypting drive cannot be seen)"
	return r, nil
}

// cryptBelow reports whether the block device dev (major:minor) is a
// dm-crypt target or sits on one.
func (c Checker) cryptBelow(dev string, depth int) bool {
	if depth > 16 {
		return false
	}
	dir := filepath.Join(c.SysRoot, "dev", "block", dev)
	if uuid, err := os.ReadFile(filepath.Join(dir, "dm", "uuid")); err == nil && strings.HasPrefix(string(uuid), "CRYPT-") {
		return true
	}
	// A partition's parent holds no slaves of it; LVM and other
	// device-mapper targets list what they sit on in slaves/.
	slaves, _ := os.ReadDir(filepath.Join(dir, "slaves"))
	for _, s := range slaves {
		d, err := os.ReadFile(filepath.Join(dir, "slaves", s.Name(), "dev"))
		if err == nil && c.cryptBelow(strings.TrimSpace(string(d)), depth+1) {
			return true
		}
	}
	return false
}

func (c Checker) mounts() ([]mount, error) {
	f, err := os.Open(filepath.Join(c.ProcRoot, "self", "mountinfo"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mount
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superopts
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if len(fields) < 5 || sep < 0 || sep+2 >= len(fields) {
			continue
		}
		out = append(out, mount{dev: fields[2], point: unescape(fields[4]), fstype: fields[sep+1], source: unescape(fields[sep+2])})
	}
	return out, sc.Err()
}

// mountOf is the mount holding path: the longest mount point that is
// path or a parent of it, the last mounted winning among equals.
func mountOf(mounts []mount, path string) (mount, bool) {
	best, found := mount{}, false
	for _, m := range mounts {
		if path == m.point || m.point == "/" || strings.HasPrefix(path, m.point+"/") {
			if !found || len(m.point) >= len(best.point) {
				best, found = m, true
			}
		}
	}
	return best, found
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &v); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
