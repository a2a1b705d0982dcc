//go:build !linux

package atrest

import "errors"

func fscrypt(string) (bool, error) { return false, errors.New("fscrypt is Linux only") }

func deviceOf(string) (string, bool) { return "", false }
