package atrest

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// fscrypt asks the kernel whether path is in an fscrypt-encrypted
// directory.
func fscrypt(path string) (bool, error) {
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, 0, 0, &st); err != nil {
		return false, err
	}
	return st.Attributes_mask&unix.STATX_ATTR_ENCRYPTED != 0 && st.Attributes&unix.STATX_ATTR_ENCRYPTED != 0, nil
}

// deviceOf is a device file's major:minor.
func deviceOf(path string) (string, bool) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return "", false
	}
	return fmt.Sprintf("%d:%d", unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev))), true
}
