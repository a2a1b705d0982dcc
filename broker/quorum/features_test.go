package quorum

import (
	"bytes"
	"fmt"
	"strings"
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

// register registers id with the given supported ranges (nil: as a Weir
// older than them registers) under a new incarnation.
func (b *builder) register(id int32, inc string, features map[string]FeatureRange) error {
	b.t.Helper()
	_, err := b.do(RegisterBroker{ID: id, IncarnationID: inc, Host: "127.0.0.1", Port: 9092 + id,
		RaftAddr: fmt.Sprintf("127.0.0.1:%d", 9092+id), Features: features})
	return err
}

// The controller refuses to raise a feature above what a registered
// broker supports, fenced or not, naming the broker; a registration
// without ranges (an older Weir) supports level 0 only. Once every
// broker has registered again with its ranges, the raise is allowed.
func TestRaiseRefusedWhileABrokerLacksSupport(t *testing.T) {
	b := newBuilder(t)
	b.must(InitCluster{ClusterID: "c"}) // an existing cluster: no bootstrap levels
	if err := b.register(1, "new-1", SupportedRanges()); err != nil {
		t.Fatal(err)
	}
	if err := b.register(2, "old-2", nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{MetadataVersion, TransactionVersion} {
		err := SetFeatureLevel{Name: name, Level: 1}.Check(b.img)
		wantCode(t, err, kerr.InvalidUpdateVersion)
		if !strings.Contains(err.Error(), "broker 2 only supports versions 0-0") || !strings.Contains(err.Error(), "older than weir.metadata.version") {
			t.Fatalf("%s: the refusal does not name broker 2 and why: %v", name, err)
		}
	}
	lower := SupportedRanges()
	lower[MetadataVersion] = FeatureRange{Max: 1}
	if err := b.register(2, "mid-2", lower); err != nil {
		t.Fatal(err)
	}
	wantCode(t, SetFeatureLevel{Name: MetadataVersion, Level: 1}.Check(b.img), nil)
	err := SetFeatureLevel{Name: MetadataVersion, Level: 2}.Check(b.img)
	wantCode(t, err, kerr.InvalidUpdateVersion)
	if !strings.Contains(err.Error(), "broker 2 only supports versions 0-1") {
		t.Fatalf("refusal: %v", err)
	}
	b.must(FenceBroker{ID: 2})
	wantCode(t, SetFeatureLevel{Name: MetadataVersion, Level: 2}.Check(b.img), kerr.InvalidUpdateVersion)
	if err := b.register(2, "new-2", SupportedRanges()); err != nil {
		t.Fatal(err)
	}
	cmd := SetFeatureLevel{Name: MetadataVersion, Level: 2}
	wantCode(t, cmd.Check(b.img), nil)
	b.must(cmd)
	if !b.img.Preconditions() {
		t.Fatal("weir.metadata.version 2 finalized but Preconditions is false")
	}
}

// A broker that cannot run a finalized level is refused with Kafka's
// UNSUPPORTED_VERSION and message, by the controller's check and, from
// weir.metadata.version 2 (every node runs the check), by the apply too.
// Below 2 the apply registers it, as an older Weir's apply would.
func TestRegistrationRefusedWhenAFinalizedLevelIsUnsupported(t *testing.T) {
	b := newBuilder(t)
	b.must(InitCluster{ClusterID: "c", Features: BootstrapFeatures})
	if got := b.img.FeatureLevel(MetadataVersion); got != 2 {
		t.Fatalf("a new cluster starts at weir.metadata.version %d, want 2", got)
	}
	err := CheckRegistration(b.img, nil)
	wantCode(t, err, kerr.UnsupportedVersion)
	if want := "unable to register because the broker does not support version 2 of weir.metadata.version. It wants a version between 0 and 0, inclusive"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q, want it to contain %q", err, want)
	}
	wantCode(t, CheckRegistration(b.img, SupportedRanges()), nil)
	before := b.img
	wantCode(t, b.register(1, "old-1", nil), kerr.UnsupportedVersion)
	if _, ok := b.img.Broker(1); ok || b.img != before {
		t.Fatal("the refused registration is in the image")
	}
	wantCode(t, b.register(1, "new-1", SupportedRanges()), nil)
	img, err := ReadSnapshot(bytes.NewReader(snapshotBytes(t, b.img)))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Brokers[1].Features; got[MetadataVersion] != (FeatureRange{Max: 2}) {
		t.Fatalf("after a snapshot the registration has features %v", got)
	}

	old := newBuilder(t)
	old.must(InitCluster{ClusterID: "c"})
	old.must(SetFeatureLevel{Name: TransactionVersion, Level: 2})
	wantCode(t, CheckRegistration(old.img, nil), kerr.UnsupportedVersion)
	wantCode(t, old.register(1, "old-1", nil), nil) // below 2: the controller's check only
}

// weir.metadata.version never goes back below 2 (entries written at 2
// carry preconditions an older Weir would not check); 1 to 0 may.
func TestMetadataVersionDowngrade(t *testing.T) {
	b := newBuilder(t)
	b.must(SetFeatureLevel{Name: MetadataVersion, Level: 1})
	b.must(SetFeatureLevel{Name: MetadataVersion, Level: 0, AllowDowngrade: true})
	b.must(SetFeatureLevel{Name: MetadataVersion, Level: 2})
	for _, level := range []int16{1, 0} {
		_, err := b.do(SetFeatureLevel{Name: MetadataVersion, Level: level, AllowDowngrade: true})
		wantCode(t, err, kerr.InvalidUpdateVersion)
	}
	if got := b.img.FeatureLevel(MetadataVersion); got != 2 {
		t.Fatalf("level %d after refused downgrades, want 2", got)
	}
}

// InitCluster sets the bootstrap levels with the id, once; an entry
// without them (an older Weir's) leaves every feature at 0, and a level
// this binary cannot run is refused.
func TestInitClusterFeatures(t *testing.T) {
	b := newBuilder(t)
	_, err := b.do(InitCluster{ClusterID: "c", Features: map[string]int16{MetadataVersion: 3}})
	wantCode(t, err, kerr.InvalidUpdateVersion)
	b.must(InitCluster{ClusterID: "c"})
	b.must(InitCluster{ClusterID: "c", Features: BootstrapFeatures})
	if got := b.img.FeatureLevel(MetadataVersion); got != 0 {
		t.Fatalf("a second InitCluster set weir.metadata.version %d; an existing cluster stays at 0", got)
	}
	if got := b.img.FeatureLevel(TransactionVersion); got != 0 {
		t.Fatalf("transaction.version %d, want 0", got)
	}
}
