package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// PrepareLogDirs makes sure every log dir exists and is writable. Like Kafka
// it creates a missing dir, but only when its parent exists, so that a
// typo'd path fails loudly instead of growing a new tree.
func (c *Config) PrepareLogDirs() error {
	for _, dir := range c.LogDirs {
		if err := prepareLogDir(dir); err != nil {
			return fmt.Errorf("config: log.dirs: %q: %w", dir, err)
		}
	}
	return nil
}

func prepareLogDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		if err := createLogDir(dir); err != nil {
			return err
		}
	case err != nil:
		return err
	case !fi.IsDir():
		return errors.New("is a file, not a directory")
	}
	return checkWritable(dir)
}

func createLogDir(dir string) error {
	parent := filepath.Dir(filepath.Clean(dir))
	pfi, err := os.Stat(parent)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("parent directory %q does not exist", parent)
	case err != nil:
		return err
	case !pfi.IsDir():
		return fmt.Errorf("parent %q is not a directory", parent)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("creating it: %w", err)
	}
	return nil
}

// checkWritable creates and removes a probe file in dir.
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".weir-write-probe-*")
	if err != nil {
		return fmt.Errorf("is not writable: %w", err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
