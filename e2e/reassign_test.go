package e2e

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// TestReassignmentUnderThrottle moves a partition holding data from
// brokers {1,2,3} to {2,3,4} while a producer keeps writing, with
// replication throttles set the way kafka-reassign-partitions sets them
// (leader side: the existing replicas; follower side: the new one). The
// move must lose no record, end with replicas {2,3,4}, and take at least
// as long as the throttle allows: the data cannot have moved faster than
// the rate.
func TestReassignmentUnderThrottle(t *testing.T) {
	t.Parallel()
	c := brokertest.StartCluster(t, 4, brokertest.Options{})
	adm := clusterAdmin(t, c)
	cl := c.Client(t)
	const topic = "move"
	createWithAssignment(t, cl, topic, [][]int32{{1, 2, 3}})
	waitFullISR(t, adm, topic, 1, 3)

	// Fill the partition: 16 MiB that the new replica must copy.
	const records, size = 16 * 1024, 1024
	pr := c.Client(t, kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	value := make([]byte, size)
	for i := range records {
		pr.Produce(context.Background(), &kgo.Record{Value: value, Key: []byte(fmt.Sprint(i))}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	if err := pr.Flush(testContext(t, 60*time.Second)); err != nil {
		t.Fatal(err)
	}

	const rate = 4 << 20 // bytes/s
	ctx := testContext(t, 30*time.Second)
	checkAltered(t, "throttle rates")(adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{
		{Name: "leader.replication.throttled.rate", Value: kadm.StringPtr(fmt.Sprint(rate))},
		{Name: "follower.replication.throttled.rate", Value: kadm.StringPtr(fmt.Sprint(rate))},
	}))
	checkAltered(t, "throttled replicas")(adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Name: "leader.replication.throttled.replicas", Value: kadm.StringPtr("0:1,0:2,0:3")},
		{Name: "follower.replication.throttled.replicas", Value: kadm.StringPtr("0:4")},
	}, topic))

	// Bad targets are refused with INVALID_REPLICA_ASSIGNMENT and change
	// nothing.
	for _, bad := range [][]int32{{2, 3, 9}, {2, 2, 3}, {2, 3}, {1, 2, 3, 4}} {
		resp, err := adm.AlterPartitionAssignments(ctx, kadm.AlterPartitionAssignmentsReq{topic: {0: bad}})
		if err != nil {
			t.Fatal(err)
		}
		var got error
		resp.Each(func(r kadm.AlterPartitionAssignmentsResponse) { got = r.Err })
		if got != kerr.InvalidReplicaAssignment {
			t.Errorf("reassigning to %v: %v, want INVALID_REPLICA_ASSIGNMENT", bad, got)
		}
	}
	if listed, err := adm.ListPartitionReassignments(ctx, kadm.TopicsSet{topic: {0: {}}}); err != nil || len(listed) > 0 {
		t.Fatalf("a refused reassignment left %v (%v)", listed, err)
	}

	// Keep writing during the move.
	load := startNumberedProducer(t, c.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedRecords(200)), topic, 1)

	start := time.Now()
	resp, err := adm.AlterPartitionAssignments(ctx, kadm.AlterPartitionAssignmentsReq{topic: {0: {2, 3, 4}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Error(); err != nil {
		t.Fatalf("reassignment refused: %v", err)
	}
	await.For(t, 60*time.Second, "the reassignment to finish", func() error {
		listed, err := adm.ListPartitionReassignments(context.Background(), kadm.TopicsSet{topic: {0: {}}})
		if err != nil {
			return err
		}
		if len(listed) > 0 {
			return fmt.Errorf("still moving: %v", listed)
		}
		// Replicas and ISR from one Metadata answer: a broker other than
		// the controller applies the move's last record a moment later,
		// and under load (make test, beside another e2e test) a separate
		// Metadata request after this wait saw replicas [1 2 3 4].
		md, err := adm.Metadata(context.Background(), topic)
		if err != nil {
			return err
		}
		pd := md.Topics[topic].Partitions[0]
		if pd.Err != nil {
			return pd.Err
		}
		if got := slices.Sorted(slices.Values(pd.Replicas)); !slices.Equal(got, []int32{2, 3, 4}) {
			return fmt.Errorf("replicas %v", pd.Replicas)
		}
		if s := slices.Sorted(slices.Values(pd.ISR)); !slices.Equal(s, []int32{2, 3, 4}) {
			return fmt.Errorf("ISR %v", pd.ISR)
		}
		return nil
	})
	took := time.Since(start)
	moved := float64(records * size)
	t.Logf("moved %.1f MiB in %v: %.2f MiB/s under a %d MiB/s throttle", moved/(1<<20), took.Round(time.Millisecond), moved/took.Seconds()/(1<<20), rate>>20)
	// The quota is measured over a window, so a first burst may run ahead:
	// allow 1.5x, but a move at disk speed (no throttle) fails this.
	if min := time.Duration(moved / (1.5 * rate) * float64(time.Second)); took < min {
		t.Errorf("the move took %v; at most 1.5x the throttle it needs at least %v", took, min)
	}
	load.stop(t)

	final := consumeAllCluster(t, c, topic)
	if n := len(final[0]) - load.ackedCount(); n < records {
		t.Fatalf("%d records in the partition, want at least %d filled + %d acked during the move", len(final[0]), records, load.ackedCount())
	}
	checkAckedSubset(t, load, final)
}

// createWithAssignment creates a topic with explicit replica assignments.
func createWithAssignment(t *testing.T, cl *kgo.Client, topic string, assignment [][]int32) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, -1, -1
	for i, replicas := range assignment {
		a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		a.Partition, a.Replicas = int32(i), replicas
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testContext(t, 30*time.Second), cl)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.Topics[0].ErrorCode; code != 0 {
		t.Fatalf("create %s with assignment %v: error %d %v", topic, assignment, code, resp.Topics[0].ErrorMessage)
	}
}

// checkAckedSubset runs checkAcked on the numbered records only (the
// partition also holds filler records).
func checkAckedSubset(t *testing.T, p *numberedProducer, got map[int32][]*kgo.Record) {
	t.Helper()
	numbered := map[int32][]*kgo.Record{}
	for part, recs := range got {
		for _, r := range recs {
			if _, err := strconv.Atoi(string(r.Value)); err == nil {
				numbered[part] = append(numbered[part], r)
			}
		}
	}
	checkAcked(t, p, numbered)
}

// checkAltered fails the test on a request error or any resource's error.
func checkAltered(t *testing.T, what string) func(kadm.AlterConfigsResponses, error) {
	return func(rs kadm.AlterConfigsResponses, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("altering %s: %v", what, err)
		}
		for _, r := range rs {
			if r.Err != nil {
				t.Fatalf("altering %s on %s: %v %s", what, r.Name, r.Err, r.ErrMessage)
			}
		}
	}
}
