//go:build !unix

package log

func openFileLimit() (int64, bool) { return 0, false }
