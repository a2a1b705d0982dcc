package server

import (
	"log/slog"
	"strings"
	"testing"

	wlog "github.com/weirhq/weir/broker/log"
)

// weir.log.max.open.files: 0 keeps the default cap, a value below the
// process's open-file limit becomes the cap, and one at or above it is
// refused with an error that names the key, the limit and the way out.
func TestSetMaxOpenFiles(t *testing.T) {
	limit, ok := wlog.OpenFileLimit()
	if !ok {
		t.Fatal("no open-file limit on this system: the check cannot run")
	}
	orig := wlog.DefaultFileCache.Stats().Max
	t.Cleanup(func() { wlog.DefaultFileCache.SetMax(orig) })
	quiet := slog.New(slog.DiscardHandler)

	if err := setMaxOpenFiles(0, quiet); err != nil || wlog.DefaultFileCache.Stats().Max != orig {
		t.Fatalf("0: err %v, cap %d, want the default %d", err, wlog.DefaultFileCache.Stats().Max, orig)
	}
	if err := setMaxOpenFiles(limit-1, quiet); err != nil || wlog.DefaultFileCache.Stats().Max != limit-1 {
		t.Fatalf("%d: err %v, cap %d", limit-1, err, wlog.DefaultFileCache.Stats().Max)
	}
	err := setMaxOpenFiles(limit, quiet)
	if err == nil {
		t.Fatalf("a cap of the whole limit (%d) was accepted", limit)
	}
	for _, want := range []string{"weir.log.max.open.files=", "ulimit -n", "raise the limit or lower the key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
