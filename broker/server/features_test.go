package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/protocol"
	"github.com/weirhq/weir/broker/quorum"
	poll "github.com/weirhq/weir/internal/await"
)

// apiVersionsFeature is what ApiVersions says of name: the supported
// range and the finalized level (-1 when not finalized).
func apiVersionsFeature(t *testing.T, cl *kgo.Client, name string) (minV, maxV, finalized int16) {
	t.Helper()
	resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	minV, maxV, finalized = -1, -1, -1
	for _, f := range resp.SupportedFeatures {
		if f.Name == name {
			minV, maxV = f.MinVersion, f.MaxVersion
		}
	}
	for _, f := range resp.FinalizedFeatures {
		if f.Name == name {
			finalized = f.MaxVersionLevel
		}
	}
	return minV, maxV, finalized
}

// updateMetadataVersion asks for weir.metadata.version level and returns
// the feature's error.
func updateMetadataVersion(t *testing.T, cl *kgo.Client, level int16) error {
	t.Helper()
	req := kmsg.NewPtrUpdateFeaturesRequest()
	req.SetVersion(1)
	u := kmsg.NewUpdateFeaturesRequestFeatureUpdate()
	u.Feature, u.MaxVersionLevel, u.UpgradeType = quorum.MetadataVersion, level, 1
	req.FeatureUpdates = append(req.FeatureUpdates, u)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil { // v2: no per-feature results
		return fmt.Errorf("%w: %s", err, *resp.ErrorMessage)
	}
	if len(resp.Results) == 0 { // v2 answers success without them
		return nil
	}
	r := resp.Results[0]
	if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
		return fmt.Errorf("%w: %s", err, *r.ErrorMessage)
	}
	return nil
}

// registerFake registers broker id over BrokerRegistration as another
// broker process would (an inter-broker connection: ApiVersions does not
// list the API to clients), with the given feature ranges (nil: none, as
// a Weir older than them sends).
func registerFake(t *testing.T, b *testBroker, id int32, features map[string]quorum.FeatureRange) error {
	t.Helper()
	req := kmsg.NewPtrBrokerRegistrationRequest()
	req.SetVersion(1)
	req.BrokerID, req.ClusterID = id, b.clusterID()
	req.IncarnationID[0], req.IncarnationID[1] = byte(id), byte(len(features)+1)
	ln := kmsg.NewBrokerRegistrationRequestListener()
	ln.Name, ln.Host, ln.Port = "PLAINTEXT", "127.0.0.1", 1
	req.Listeners = append(req.Listeners, ln)
	for name, r := range features {
		f := kmsg.NewBrokerRegistrationRequestFeature()
		f.Name, f.MinSupportedVersion, f.MaxSupportedVersion = name, r.Min, r.Max
		req.Features = append(req.Features, f)
	}
	p, err := protocol.DialPeer(context.Background(), b.Addr().String(), "fake-broker")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	raw, err := p.Request(req, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return kerr.ErrorForCode(raw.(*kmsg.BrokerRegistrationResponse).ErrorCode)
}

// A fresh cluster formats at the newest weir.metadata.version, as Kafka
// formats at the latest metadata.version: ApiVersions advertises it
// supported 0-2 and finalized at 2 (transaction.version stays unset), the
// broker's own registration carries its ranges, and a broker that
// registers without ranges (an older Weir) is refused with
// UNSUPPORTED_VERSION.
func TestFreshClusterStartsAtNewestMetadataVersion(t *testing.T) {
	b := startBroker(t, nil)
	cl := b.client(t)
	if minV, maxV, fin := apiVersionsFeature(t, cl, quorum.MetadataVersion); minV != 0 || maxV != 2 || fin != 2 {
		t.Fatalf("ApiVersions: weir.metadata.version supported %d-%d, finalized %d; want 0-2, 2", minV, maxV, fin)
	}
	if _, _, fin := apiVersionsFeature(t, cl, quorum.TransactionVersion); fin != -1 {
		t.Fatalf("a fresh cluster finalized transaction.version %d; its default is unset", fin)
	}
	self := b.node.Image().Brokers[b.cfg.NodeID]
	if self.Features[quorum.MetadataVersion] != (quorum.FeatureRange{Max: 2}) {
		t.Fatalf("the broker registered features %v", self.Features)
	}
	if err := registerFake(t, b, 7, nil); err != kerr.UnsupportedVersion {
		t.Fatalf("an older Weir's registration at level 2: %v, want UNSUPPORTED_VERSION", err)
	}
	if _, ok := b.node.Image().Broker(7); ok {
		t.Fatal("the refused broker is registered")
	}
}

// An existing cluster (its log started by an older Weir: no levels)
// stays at weir.metadata.version 0, and its CreatePartitions and
// IncrementalAlterConfigs entries go out without preconditions; raising
// the level is refused while a registered broker lacks support (naming
// it), allowed once it registers with its ranges, and from then the
// entries carry From and CheckBase.
func TestMetadataVersionGatesPreconditions(t *testing.T) {
	b := startBrokerOpts(t, t.TempDir(), nil, Options{BootstrapFeatures: map[string]int16{}})
	cl := b.client(t)
	adm := kadm.NewClient(cl)
	if _, maxV, fin := apiVersionsFeature(t, cl, quorum.MetadataVersion); maxV != 2 || fin != -1 {
		t.Fatalf("existing cluster: weir.metadata.version max %d finalized %d; want 2, unset", maxV, fin)
	}
	createTopic(t, b, "gate", 1, nil)
	entries := grow(t, b, adm, 2)
	if cp := only[quorum.CreatePartitions](t, entries); cp.From != 0 {
		t.Fatalf("level 0: CreatePartitions carries From %d", cp.From)
	}
	for _, c := range alterBoth(t, b, adm, "1") {
		if base, check := basesOf(c); check || base != nil {
			t.Fatalf("level 0: %T carries CheckBase %v Base %v", c, check, base)
		}
	}

	if err := registerFake(t, b, 7, nil); err != nil {
		t.Fatalf("an older Weir registering at level 0: %v", err)
	}
	t.Cleanup(func() { unregister(t, b, cl, 7) }) // before the broker stops
	err := updateMetadataVersion(t, cl, 2)
	if !errors.Is(err, kerr.InvalidUpdateVersion) || !strings.Contains(err.Error(), "broker 7") {
		t.Fatalf("raise with broker 7 an older Weir: %v, want INVALID_UPDATE_VERSION naming broker 7", err)
	}
	if err := registerFake(t, b, 7, quorum.SupportedRanges()); err != nil {
		t.Fatal(err)
	}
	if err := updateMetadataVersion(t, cl, 2); err != nil {
		t.Fatalf("raise once every broker supports 2: %v", err)
	}
	if _, _, fin := apiVersionsFeature(t, cl, quorum.MetadataVersion); fin != 2 {
		t.Fatalf("after the raise ApiVersions finalizes %d, want 2", fin)
	}

	entries = grow(t, b, adm, 3)
	if cp := only[quorum.CreatePartitions](t, entries); cp.From != 2 {
		t.Fatalf("level 2: CreatePartitions From %d, want 2", cp.From)
	}
	for _, c := range alterBoth(t, b, adm, "2") {
		if base, check := basesOf(c); !check || base == nil {
			t.Fatalf("level 2: %T carries CheckBase %v Base %v", c, check, base)
		}
	}
}

// unregister forgets the fake broker id and waits until it has left the
// raft configuration (the leader would otherwise keep replicating to it).
func unregister(t *testing.T, b *testBroker, cl *kgo.Client, id int32) {
	t.Helper()
	req := kmsg.NewPtrUnregisterBrokerRequest()
	req.BrokerID = id
	resp, err := req.RequestWith(context.Background(), cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	if err != nil {
		t.Fatalf("unregister broker %d: %v", id, err)
	}
	poll.True(t, 10*time.Second, "the fake broker out of the raft configuration", func() bool {
		_, nonvoters, err := b.node.Members()
		return err == nil && !slices.Contains(nonvoters, id)
	})
}

// grow takes topic gate to n partitions and returns the entries written.
func grow(t *testing.T, b *testBroker, adm *kadm.Client, n int) []quorum.Command {
	t.Helper()
	from := b.node.CommitIndex() + 1
	resp, err := adm.UpdatePartitions(context.Background(), n, "gate")
	if err == nil {
		err = resp["gate"].Err
	}
	if err != nil {
		t.Fatalf("grow to %d: %v", n, err)
	}
	return entriesFrom(t, b, from)
}

// alterBoth sets one key of topic gate and one of this broker with
// IncrementalAlterConfigs and returns the config entries written.
func alterBoth(t *testing.T, b *testBroker, adm *kadm.Client, v string) []quorum.Command {
	t.Helper()
	from := b.node.CommitIndex() + 1
	ms := "36000" + v
	tr, err := adm.AlterTopicConfigs(context.Background(), []kadm.AlterConfig{{Name: "retention.ms", Value: &ms}}, "gate")
	if err == nil {
		err = tr[0].Err
	}
	if err != nil {
		t.Fatal(err)
	}
	rate := "100000" + v
	br, err := adm.AlterBrokerConfigs(context.Background(), []kadm.AlterConfig{{Name: "leader.replication.throttled.rate", Value: &rate}}, b.cfg.NodeID)
	if err == nil {
		err = br[0].Err
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []quorum.Command
	for _, c := range entriesFrom(t, b, from) {
		switch c.(type) {
		case quorum.SetTopicConfigs, quorum.SetBrokerConfigs:
			out = append(out, c)
		}
	}
	if len(out) != 2 {
		t.Fatalf("the alters wrote %d config entries, want 2", len(out))
	}
	return out
}

func basesOf(c quorum.Command) (map[string]string, bool) {
	switch c := c.(type) {
	case quorum.SetTopicConfigs:
		return c.Base, c.CheckBase
	case quorum.SetBrokerConfigs:
		return c.Base, c.CheckBase
	}
	return nil, false
}

func entriesFrom(t *testing.T, b *testBroker, from uint64) []quorum.Command {
	t.Helper()
	cs, err := b.node.Entries(from)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// only returns the one entry of type C among cs.
func only[C quorum.Command](t *testing.T, cs []quorum.Command) C {
	t.Helper()
	var found []C
	for _, c := range cs {
		if c, ok := c.(C); ok {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		var zero C
		t.Fatalf("%d %T entries written, want 1 (entries %v)", len(found), zero, cs)
	}
	return found[0]
}
