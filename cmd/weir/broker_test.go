package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewLogger(t *testing.T) {
	var buf bytes.Buffer
	logger, err := newLogger(&buf, "json", "warn")
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("hidden")
	logger.Warn("shown", "k", 1)
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, `"msg":"shown"`) {
		t.Errorf("json logger at warn wrote %q", out)
	}
	if _, err := newLogger(&buf, "xml", "info"); err == nil || !strings.Contains(err.Error(), "--log-format") {
		t.Errorf("bad format: %v", err)
	}
	if _, err := newLogger(&buf, "text", "loud"); err == nil || !strings.Contains(err.Error(), "--log-level") {
		t.Errorf("bad level: %v", err)
	}
}

// Config errors end the broker before it binds anything, with one line
// that names the problem. (Running a broker is e2e's business.)
func TestBrokerConfigErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.properties")
	r := weir(t, "", "", "broker", "--config", missing)
	if r.code != 1 || !strings.HasPrefix(r.stderr, "weir: loading broker config: ") || !strings.Contains(r.stderr, "missing.properties") {
		t.Errorf("missing config: exit %d, stderr %q", r.code, r.stderr)
	}
	bad := filepath.Join(dir, "bad.properties")
	if err := os.WriteFile(bad, []byte("num.partitions=lots\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = weir(t, "", "", "broker", "--config", bad)
	if r.code != 1 || !strings.Contains(r.stderr, "num.partitions") {
		t.Errorf("bad value: exit %d, stderr %q", r.code, r.stderr)
	}
	r = weir(t, "", "", "broker", "--override", "nokey")
	if r.code != 1 || !strings.Contains(r.stderr, `--override "nokey": want key=value`) {
		t.Errorf("bad override: exit %d, stderr %q", r.code, r.stderr)
	}
	r = weir(t, "", "", "broker", "--log-format", "xml")
	if r.code != 1 || !strings.Contains(r.stderr, "weir: --log-format") {
		t.Errorf("bad log format: exit %d, stderr %q", r.code, r.stderr)
	}
}
