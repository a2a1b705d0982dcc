package e2e

import (
	"context"
	"fmt"
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

// TestClusterGroupCoordinatorFailover kills the broker coordinating a
// consumer group (the leader of its __consumer_offsets partition, RF=3)
// while the group consumes and commits: the group goes on with a new
// coordinator, every offset committed before the kill is still there, and
// the group finishes the topic.
func TestClusterGroupCoordinatorFailover(t *testing.T) {
	t.Parallel()
	c := brokertest.StartCluster(t, 3, brokertest.Options{})
	adm := clusterAdmin(t, c)
	const topic, group, total = "orders", "billing", 6000
	if _, err := adm.CreateTopic(context.Background(), 6, 3, nil, topic); err != nil {
		t.Fatal(err)
	}
	waitFullISR(t, adm, topic, 6, 3)
	pr := c.Client(t, kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()))
	for i := range total {
		pr.Produce(context.Background(), &kgo.Record{Key: []byte(fmt.Sprint(i % 97)), Value: []byte(fmt.Sprint(i))}, nil)
	}
	if err := pr.Flush(testContext(t, 60*time.Second)); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	seen := map[string]bool{}
	cons := c.Client(t, kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.MetadataMinAge(50*time.Millisecond), kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }))
	poll := func() int {
		ctx := testContext(t, 5*time.Second)
		fs := cons.PollRecords(ctx, 100)
		n := 0
		fs.EachRecord(func(r *kgo.Record) {
			mu.Lock()
			seen[string(r.Value)] = true
			mu.Unlock()
			n++
		})
		if n > 0 {
			if err := cons.CommitUncommittedOffsets(testContext(t, 20*time.Second)); err != nil {
				t.Logf("commit: %v (retried with the next poll)", err)
			}
		}
		return n
	}
	await.For(t, 60*time.Second, "half the topic consumed and committed", func() error {
		poll()
		mu.Lock()
		defer mu.Unlock()
		if len(seen) < total/2 {
			return fmt.Errorf("%d of %d", len(seen), total)
		}
		return nil
	})
	before := committed(t, adm, group)

	coord := coordinatorOf(t, adm, group)
	c.Broker(coord).Kill()
	t.Logf("killed coordinator broker %d with %d records consumed and %d committed", coord, len(seen), sumOffsets(before))

	await.For(t, 90*time.Second, "the group to finish the topic on a new coordinator", func() error {
		poll()
		mu.Lock()
		defer mu.Unlock()
		if len(seen) < total {
			return fmt.Errorf("%d of %d consumed", len(seen), total)
		}
		return nil
	})
	// A fresh admin client: franz-go's sharded OffsetFetch keeps a cached
	// coordinator through dial errors (it would against Apache Kafka too).
	fresh := clusterAdmin(t, c)
	if nc := coordinatorOf(t, fresh, group); nc == coord {
		t.Fatalf("the coordinator is still the killed broker %d", coord)
	}
	after := committed(t, fresh, group)
	for tp, off := range before {
		if after[tp] < off {
			t.Errorf("%v: committed offset went from %d back to %d across the failover", tp, off, after[tp])
		}
	}
	if sumOffsets(after) != total {
		t.Errorf("committed %d in all, want %d", sumOffsets(after), total)
	}
	c.Broker(coord).Restart(t)
}

type tp struct {
	topic string
	p     int32
}

func committed(t *testing.T, adm *kadm.Client, group string) map[tp]int64 {
	t.Helper()
	var out map[tp]int64
	await.For(t, 30*time.Second, "the group's committed offsets", func() error {
		resp, err := adm.FetchOffsets(context.Background(), group)
		if err != nil {
			return err
		}
		if err := resp.Error(); err != nil {
			return err
		}
		out = map[tp]int64{}
		resp.Each(func(o kadm.OffsetResponse) { out[tp{o.Topic, o.Partition}] = o.At })
		return nil
	})
	return out
}

func sumOffsets(m map[tp]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func coordinatorOf(t *testing.T, adm *kadm.Client, group string) int32 {
	t.Helper()
	var id int32 = -1
	await.For(t, 30*time.Second, "the group's coordinator", func() error {
		resp := adm.FindGroupCoordinators(context.Background(), group)
		r, ok := resp[group]
		if !ok || r.Err != nil {
			return fmt.Errorf("%v", r.Err)
		}
		id = r.NodeID
		return nil
	})
	return id
}

// TestClusterNotLeaderHints sends a Produce v10 and a Fetch v16 to a
// broker that does not lead the partition: the answer is
// NOT_LEADER_OR_FOLLOWER with the current leader and its endpoint
// (KIP-951), so clients go straight to it.
func TestClusterNotLeaderHints(t *testing.T) {
	t.Parallel()
	c := brokertest.StartCluster(t, 3, brokertest.Options{})
	adm := clusterAdmin(t, c)
	const topic = "hints"
	created, err := adm.CreateTopic(context.Background(), 1, 3, nil, topic)
	if err != nil {
		t.Fatal(err)
	}
	waitFullISR(t, adm, topic, 1, 3)
	leader, _, err := partitionState(context.Background(), adm, topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	other := c.Brokers[0]
	if other.NodeID == leader {
		other = c.Brokers[1]
	}
	cl := other.Client(t)
	ctx := testContext(t, 10*time.Second)

	prod := kmsg.NewPtrProduceRequest()
	prod.SetVersion(10)
	prod.Acks, prod.TimeoutMillis = -1, 5000
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic = topic
	pp := kmsg.NewProduceRequestTopicPartition()
	pp.Records = recordBatch([]byte("x"))
	pt.Partitions = append(pt.Partitions, pp)
	prod.Topics = append(prod.Topics, pt)
	// At creation the ISR is every replica, before each broker has
	// applied the topic: ask until this broker knows it.
	var pr *kmsg.ProduceResponse
	await.For(t, 10*time.Second, fmt.Sprintf("broker %d to know the partition", other.NodeID), func() error {
		presp, err := cl.Broker(int(other.NodeID)).Request(ctx, prod)
		if err != nil {
			return err
		}
		pr = presp.(*kmsg.ProduceResponse)
		if code := pr.Topics[0].Partitions[0].ErrorCode; code == kerr.UnknownTopicOrPartition.Code {
			return kerr.UnknownTopicOrPartition
		}
		return nil
	})
	sp := pr.Topics[0].Partitions[0]
	if sp.ErrorCode != kerr.NotLeaderForPartition.Code || sp.CurrentLeader.LeaderID != leader {
		t.Fatalf("produce to broker %d: error %d, leader hint %+v; want NOT_LEADER_OR_FOLLOWER naming %d", other.NodeID, sp.ErrorCode, sp.CurrentLeader, leader)
	}
	if len(pr.Brokers) != 1 || pr.Brokers[0].NodeID != leader {
		t.Fatalf("produce node endpoints %+v, want broker %d", pr.Brokers, leader)
	}

	fetch := kmsg.NewPtrFetchRequest()
	fetch.SetVersion(16)
	fetch.MaxWaitMillis, fetch.MaxBytes = 100, 1<<20
	ft := kmsg.NewFetchRequestTopic()
	ft.TopicID = created.ID
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes, fp.CurrentLeaderEpoch = 1<<20, -1
	ft.Partitions = append(ft.Partitions, fp)
	fetch.Topics = append(fetch.Topics, ft)
	fresp, err := cl.Broker(int(other.NodeID)).Request(ctx, fetch)
	if err != nil {
		t.Fatal(err)
	}
	fr := fresp.(*kmsg.FetchResponse)
	fsp := fr.Topics[0].Partitions[0]
	if fsp.ErrorCode != kerr.NotLeaderForPartition.Code || fsp.CurrentLeader.LeaderID != leader || len(fr.Brokers) != 1 {
		t.Fatalf("fetch from broker %d: error %d, hint %+v, endpoints %+v; want NOT_LEADER_OR_FOLLOWER naming %d", other.NodeID, fsp.ErrorCode, fsp.CurrentLeader, fr.Brokers, leader)
	}
}
