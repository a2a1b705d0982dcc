package quorum

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// SetFeatureLevel's rules, in order: raising, no-op, refusals, downgrade,
// removal at 0.
func TestSetFeatureLevel(t *testing.T) {
	b := newBuilder(t)
	if got := b.img.FeatureLevel(TransactionVersion); got != 0 {
		t.Fatalf("empty image: level %d, want 0", got)
	}
	steps := []struct {
		cmd  SetFeatureLevel
		code *kerr.Error
		want int16
	}{
		{SetFeatureLevel{Name: TransactionVersion, Level: 2}, nil, 2},
		{SetFeatureLevel{Name: TransactionVersion, Level: 2}, nil, 2},
		{SetFeatureLevel{Name: TransactionVersion, Level: 3}, kerr.InvalidUpdateVersion, 2},
		{SetFeatureLevel{Name: TransactionVersion, Level: -1, AllowDowngrade: true}, kerr.InvalidUpdateVersion, 2},
		{SetFeatureLevel{Name: "group.version", Level: 1}, kerr.InvalidUpdateVersion, 2},
		{SetFeatureLevel{Name: TransactionVersion, Level: 1}, kerr.InvalidUpdateVersion, 2},
		{SetFeatureLevel{Name: TransactionVersion, Level: 1, AllowDowngrade: true}, nil, 1},
		{SetFeatureLevel{Name: TransactionVersion, Level: 0, AllowDowngrade: true}, nil, 0},
	}
	for i, s := range steps {
		before := b.img
		_, err := b.do(s.cmd)
		wantCode(t, err, s.code)
		if err != nil && b.img != before {
			t.Fatalf("step %d: a refused command changed the image", i)
		}
		if got := b.img.FeatureLevel(TransactionVersion); got != s.want {
			t.Fatalf("step %d %+v: level %d, want %d", i, s.cmd, got, s.want)
		}
	}
	if _, ok := b.img.Features[TransactionVersion]; ok {
		t.Fatal("level 0 is kept in Features; Kafka drops a feature at 0")
	}
}

// The finalized levels survive a snapshot, and an older image keeps its
// own (copy-on-write).
func TestFeatureLevelSnapshotAndCopyOnWrite(t *testing.T) {
	b := newBuilder(t)
	b.must(SetFeatureLevel{Name: TransactionVersion, Level: 1})
	old := b.img
	b.must(SetFeatureLevel{Name: TransactionVersion, Level: 2})
	if old.FeatureLevel(TransactionVersion) != 1 {
		t.Fatal("raising the level changed the older image")
	}
	img, err := ReadSnapshot(bytes.NewReader(snapshotBytes(t, b.img)))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.FeatureLevel(TransactionVersion); got != 2 {
		t.Fatalf("after a snapshot: level %d, want 2", got)
	}
}
