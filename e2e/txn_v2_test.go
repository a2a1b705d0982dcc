package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// Transaction version 2 (KIP-890 part 2) with franz-go, which turns it on
// from the finalized transaction.version feature.

// keyCounter counts the requests a client writes, by API key.
type keyCounter struct {
	mu sync.Mutex
	n  map[int16]int
}

func (k *keyCounter) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if err == nil {
		k.mu.Lock()
		k.n[key]++
		k.mu.Unlock()
	}
}

func (k *keyCounter) count(key int16) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.n[key]
}

// apiVersions asks the broker at addr for its ApiVersions (v3).
func apiVersions(ctx context.Context, addr string) (*kmsg.ApiVersionsResponse, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version, req.ClientSoftwareName, req.ClientSoftwareVersion = 3, "weir-e2e", "1"
	return req.RequestWith(ctx, cl)
}

// tvAdvertised is what resp says of transaction version 2: the finalized
// level and EndTxn's highest version.
func tvAdvertised(resp *kmsg.ApiVersionsResponse) (level, endTxnMax int16) {
	for _, f := range resp.FinalizedFeatures {
		if f.Name == "transaction.version" {
			level = f.MaxVersionLevel
		}
	}
	for _, k := range resp.ApiKeys {
		if k.ApiKey == 26 {
			endTxnMax = k.MaxVersion
		}
	}
	return level, endTxnMax
}

func updateTV(ctx context.Context, t *testing.T, cl *kgo.Client, level int16, upgradeType int8) int16 {
	t.Helper()
	req := kmsg.NewPtrUpdateFeaturesRequest()
	u := kmsg.NewUpdateFeaturesRequestFeatureUpdate()
	u.Feature, u.MaxVersionLevel, u.UpgradeType = "transaction.version", level, upgradeType
	req.FeatureUpdates = append(req.FeatureUpdates, u)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("UpdateFeatures transaction.version=%d: %v", level, err)
	}
	// kgo sends the highest version both sides serve, whatever req.Version
	// says; from v2 there are no per-feature results.
	if resp.ErrorCode != 0 || resp.Version >= 2 && len(resp.Results) == 0 {
		return resp.ErrorCode
	}
	if len(resp.Results) != 1 {
		t.Fatalf("UpdateFeatures v%d transaction.version=%d: %d results, want 1", resp.Version, level, len(resp.Results))
	}
	return resp.Results[0].ErrorCode
}

// TestTransactionVersion2 finalizes transaction.version 2 on three brokers
// through UpdateFeatures (bad levels refused first), waits until every
// broker advertises it, then runs committed and aborted transactions with
// a franz-go producer: it sends no AddPartitionsToTxn (the partition
// leaders add the partitions, Produce v12), each EndTxn (v5) bumps the
// epoch, and read_committed sees exactly the committed records.
func TestTransactionVersion2(t *testing.T) {
	t.Parallel()
	c := brokertest.StartCluster(t, 3, brokertest.Options{})
	ctx := testContext(t, 90*time.Second)
	adminCl := c.Client(t)

	av, err := apiVersions(ctx, c.Brokers[0].Addr)
	if err != nil {
		t.Fatal(err)
	}
	if level, endMax := tvAdvertised(av); level != 0 || endMax != 4 {
		t.Fatalf("before UpdateFeatures: transaction.version %d, EndTxn max %d; want 0, 4", level, endMax)
	}
	for _, bad := range []struct {
		level int16
		typ   int8
		want  *kerr.Error
	}{{3, 1, kerr.InvalidUpdateVersion}, {2, 7, kerr.InvalidRequest}} {
		if code := updateTV(ctx, t, adminCl, bad.level, bad.typ); code != bad.want.Code {
			t.Errorf("UpdateFeatures level %d type %d: %s, want %s", bad.level, bad.typ, kerr.ErrorForCode(code), bad.want)
		}
	}
	if code := updateTV(ctx, t, adminCl, 2, 1); code != 0 {
		t.Fatalf("UpdateFeatures transaction.version=2: %s", kerr.ErrorForCode(code))
	}
	if code := updateTV(ctx, t, adminCl, 1, 1); code != kerr.InvalidUpdateVersion.Code {
		t.Errorf("a downgrade with upgrade type 1: %s, want INVALID_UPDATE_VERSION", kerr.ErrorForCode(code))
	}
	for _, b := range c.Brokers {
		await.For(t, 20*time.Second, fmt.Sprintf("broker %d advertising transaction version 2", b.NodeID), func() error {
			av, err := apiVersions(ctx, b.Addr)
			if err != nil {
				return err
			}
			if level, endMax := tvAdvertised(av); level != 2 || endMax != 5 {
				return fmt.Errorf("transaction.version %d, EndTxn max %d", level, endMax)
			}
			return nil
		})
	}

	const topic, partitions, txns, perTxn = "tv2", 3, 8, 9
	if _, err := admin(t, c.Brokers[0]).CreateTopic(ctx, partitions, 3, nil, topic); err != nil {
		t.Fatal(err)
	}
	keys := &keyCounter{n: map[int16]int{}}
	p := c.Client(t, kgo.TransactionalID("tv2-producer"), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.TransactionTimeout(20*time.Second), kgo.WithHooks(keys))
	// franz-go decides at BeginTransaction from the feature levels it has
	// loaded, which a fresh client has not: its first transaction goes the
	// version 1 way (AddPartitionsToTxn, EndTxn v4); its EndTxn notices
	// version 2 and it reloads its producer id (epoch 1) and opts in.
	want := map[int32][]string{}
	var addsBefore int
	for i := range txns {
		if err := p.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		commit := i%4 != 1
		var recs []*kgo.Record
		for j := range perTxn {
			part := int32(j % partitions)
			v := fmt.Sprintf("%d-%d", i, j)
			recs = append(recs, &kgo.Record{Topic: topic, Partition: part, Value: []byte(v)})
			if commit {
				want[part] = append(want[part], v)
			}
		}
		if err := p.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatalf("transaction %d: produce: %v", i, err)
		}
		if err := p.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatalf("transaction %d: end (commit %v): %v", i, commit, err)
		}
		if i == 0 {
			addsBefore = keys.count(24)
		} else if n := keys.count(24) - addsBefore; n != 0 {
			t.Errorf("transactions 1 to %d sent %d AddPartitionsToTxn; under transaction version 2 the leaders add partitions", i, n)
		}
	}
	if n := keys.count(26); n != txns {
		t.Errorf("the producer sent %d EndTxn, want %d", n, txns)
	}
	adm := admin(t, c.Brokers[0])
	// Epoch 1 after the reload, then one bump per EndTxn v5: 8.
	await.For(t, 20*time.Second, "the last transaction completed at epoch 8", func() error {
		described, err := adm.DescribeTransactions(ctx, "tv2-producer")
		if d := described["tv2-producer"]; err != nil || d.Err != nil || d.State != "CompleteCommit" || d.ProducerEpoch != txns {
			return fmt.Errorf("state %s epoch %d (%v %v)", d.State, d.ProducerEpoch, d.Err, err)
		}
		return nil
	})

	checkTxnOffsetCommitV5(ctx, t, p, adm, topic)
	want[0] = append(want[0], "with-offsets")

	writeSentinels(t, c.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner())), topic, partitions)
	rc := consumeToSentinels(t, c.Client(t, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted())), topic, partitions)
	for part := range int32(partitions) {
		if got, w := strings.Join(rc[part], ","), strings.Join(want[part], ","); got != w {
			t.Errorf("read_committed partition %d:\n got %s\nwant %s", part, got, w)
		}
	}
}

// checkTxnOffsetCommitV5 commits a group's offset inside a transaction with
// TxnOffsetCommit v5 and no AddOffsetsToTxn: the group coordinator adds
// the offsets partition to the transaction, so the commit marker reaches
// it and the offset becomes the group's.
func checkTxnOffsetCommitV5(ctx context.Context, t *testing.T, p *kgo.Client, adm *kadm.Client, topic string) {
	t.Helper()
	if err := p.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceSync(t, p, &kgo.Record{Topic: topic, Partition: 0, Value: []byte("with-offsets")})
	id, epoch, err := p.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch, req.Generation = "tv2-producer", "tv2-group", id, epoch, -1
	rt := kmsg.NewTxnOffsetCommitRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset, rp.LeaderEpoch = 0, 42, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, p)
	if err != nil {
		t.Fatalf("TxnOffsetCommit: %v", err)
	}
	if resp.Version < 5 || len(resp.Topics) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("TxnOffsetCommit v%d: %+v", resp.Version, resp.Topics)
	}
	if err := p.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("commit with offsets: %v", err)
	}
	await.For(t, 20*time.Second, "the transaction's offset committed for tv2-group", func() error {
		offs, err := adm.FetchOffsets(ctx, "tv2-group")
		if err != nil {
			return err
		}
		if o, ok := offs.Lookup(topic, 0); !ok || o.At != 42 {
			return fmt.Errorf("offset %+v (found %v)", o, ok)
		}
		return nil
	})
}
