package replication

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/internal/vfs"
)

// A checkpoint written for the replicas of two log dirs reads back per
// dir, and a dir whose checkpoint is damaged is skipped, not fatal.
func TestHWCheckpointRoundTrip(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	var reps []*Replica
	for i, name := range []string{"a", "b"} {
		l, err := wlog.Open(filepath.Join(dirs[i], name+"-0"), wlog.Config{}, wlog.Options{Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		r := NewReplica(name, 0, l, 1, nil)
		r.SetHighWatermark(int64(7 * (i + 1)))
		reps = append(reps, r)
	}
	WriteHWCheckpoints(vfs.Default, dirs, reps, logger)
	got := ReadHWCheckpoints(vfs.Default, dirs, logger)
	want := map[TopicPartition]int64{{"a", 0}: 7, {"b", 0}: 14}
	if len(got) != len(want) || got[TopicPartition{"a", 0}] != 7 || got[TopicPartition{"b", 0}] != 14 {
		t.Fatalf("read back %v, want %v", got, want)
	}
	if err := os.WriteFile(filepath.Join(dirs[1], HWCheckpointFile), []byte("0\n2\nb 0 14\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := ReadHWCheckpoints(vfs.Default, dirs, logger); len(got) != 1 || got[TopicPartition{"a", 0}] != 7 {
		t.Fatalf("with a damaged checkpoint read %v, want only a-0", got)
	}
}

func TestParseHWCheckpointRejectsDamage(t *testing.T) {
	for _, bad := range []string{"", "1\n0\n", "0\n2\nt 0 5\n", "0\n1\nt x 5\n", "0\n1\nt 0\n"} {
		if err := parseHWCheckpoint([]byte(bad), map[TopicPartition]int64{}); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
