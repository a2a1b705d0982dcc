package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
)

// TestReassignOntoNewLeaderLosesNothing: a reassignment whose target puts
// a new replica first ([1 2 3] -> [4 2 3]) ends with the new replica
// leading, while an idempotent acks=all producer writes throughout. Every
// acknowledged record must be in the log afterwards, once and in order.
// (Found by the collector's end-to-end test: add_broker moves leaders'
// replicas onto the new broker this way.)
func TestReassignOntoNewLeaderLosesNothing(t *testing.T) {
	c := brokertest.StartCluster(t, 4, brokertest.Options{})
	adm := clusterAdmin(t, c)
	cl := c.Client(t)
	const topic = "newleader"
	createWithAssignment(t, cl, topic, [][]int32{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}})
	waitFullISR(t, adm, topic, 3, 3)
	load := startNumberedProducer(t, c.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedRecords(500)), topic, 3)
	for round, target := range [][][]int32{
		{{4, 2, 3}, {4, 3, 1}, {4, 1, 2}}, // the new replica first: it leads at the end
		{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}}, // and back
		{{4, 2, 3}, {4, 3, 1}, {4, 1, 2}},
	} {
		waitFor(t, 10*time.Second, "records acked before the move", func() error {
			if load.ackedCount() < 2000*(round+1) {
				return fmt.Errorf("%d acked", load.ackedCount())
			}
			return nil
		})
		req := kadm.AlterPartitionAssignmentsReq{}
		for p, r := range target {
			req.Assign(topic, int32(p), r)
		}
		resp, err := adm.AlterPartitionAssignments(testContext(t, 30*time.Second), req)
		if err != nil {
			t.Fatal(err)
		}
		if err := resp.Error(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 60*time.Second, "the reassignment", func() error {
			md, err := adm.Metadata(context.Background(), topic)
			if err != nil {
				return err
			}
			for p, r := range target {
				got := md.Topics[topic].Partitions[int32(p)].Replicas
				if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(r))) {
					return fmt.Errorf("partition %d on %v", p, got)
				}
			}
			return nil
		})
	}
	load.stop(t)
	if n := load.failures(); n > 0 {
		t.Errorf("%d produce errors", n)
	}
	checkAcked(t, load, consumeAllCluster(t, c, topic))
	t.Logf("%d records acked", load.ackedCount())
}
