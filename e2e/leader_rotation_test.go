package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// TestPreferredLeaderRotationLosesNothing: leadership moves around the
// replicas by preferred elections (reorder the replicas, elect the first,
// as demote_broker and a rebalance's leadership moves do), a few hundred
// milliseconds apart, while an idempotent acks=all producer writes. Every
// acknowledged record must survive. (The collector's end-to-end test lost
// records once after a demotion followed by an election back.)
func TestPreferredLeaderRotationLosesNothing(t *testing.T) {
	t.Parallel()
	c := brokertest.StartCluster(t, 3, brokertest.Options{})
	adm := clusterAdmin(t, c)
	cl := c.Client(t)
	const topic = "rotate"
	createWithAssignment(t, cl, topic, [][]int32{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}})
	waitFullISR(t, adm, topic, 3, 3)
	load := startNumberedProducer(t, c.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedRecords(500)), topic, 3)
	orders := [][]int32{{2, 3, 1}, {3, 1, 2}, {1, 2, 3}}
	ctx := testContext(t, 2*time.Minute)
	for round := range 12 {
		req := kadm.AlterPartitionAssignmentsReq{}
		for p := range 3 {
			req.Assign(topic, int32(p), orders[(round+p)%3])
		}
		if resp, err := adm.AlterPartitionAssignments(ctx, req); err != nil || resp.Error() != nil {
			t.Fatalf("round %d: reorder: %v %v", round, err, resp.Error())
		}
		await.For(t, 20*time.Second, fmt.Sprintf("round %d: the new order", round), func() error {
			md, err := adm.Metadata(ctx, topic)
			if err != nil {
				return err
			}
			for p := range 3 {
				if got := md.Topics[topic].Partitions[int32(p)].Replicas; got[0] != orders[(round+p)%3][0] {
					return fmt.Errorf("partition %d: %v", p, got)
				}
			}
			return nil
		})
		if _, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{topic: {0: {}, 1: {}, 2: {}}}); err != nil {
			t.Fatalf("round %d: elect: %v", round, err)
		}
		await.For(t, 20*time.Second, fmt.Sprintf("round %d: the preferred leaders", round), func() error {
			md, err := adm.Metadata(ctx, topic)
			if err != nil {
				return err
			}
			for p := range 3 {
				pd := md.Topics[topic].Partitions[int32(p)]
				if pd.Leader != pd.Replicas[0] {
					return fmt.Errorf("partition %d led by %d, replicas %v", p, pd.Leader, pd.Replicas)
				}
			}
			return nil
		})
	}
	load.stop(t)
	if n := load.failures(); n > 0 {
		t.Errorf("%d produce errors", n)
	}
	waitEndOffsetsCoverAcks(t, adm, load, topic, 3)
	checkAcked(t, load, consumeAllCluster(t, c, topic))
	t.Logf("%d records acked through 12 leadership rotations", load.ackedCount())
}
