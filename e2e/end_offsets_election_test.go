package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// TestEndOffsetsAfterElectionCoverAcks: right after a preferred election
// moves leadership (onto a replica just added by a reassignment, or back),
// the end offsets a client lists must cover every record acknowledged
// before it asked, or the answer must be the retriable OFFSET_NOT_AVAILABLE
// (KIP-207). A new leader's high watermark is the one it had as a
// follower, a fetch behind the old leader's, until its followers fetch
// from it; Weir answered ListOffsets with it, so a consumer reading "to the
// end" stopped short of acknowledged records: the collector's end-to-end
// test reported the last 69 records acknowledged in orders-1 as lost when
// it consumed moments after broker 4 took the partition over.
func TestEndOffsetsAfterElectionCoverAcks(t *testing.T) {
	t.Parallel()
	c := brokertest.StartCluster(t, 4, brokertest.Options{})
	adm := clusterAdmin(t, c)
	cl := c.Client(t)
	const topic = "endafterelection"
	home := [][]int32{{2, 3, 1}, {3, 1, 2}, {1, 2, 3}}
	away := [][]int32{{4, 2, 3}, {4, 1, 2}, {4, 2, 3}}
	createWithAssignment(t, cl, topic, home)
	waitFullISR(t, adm, topic, 3, 3)
	ctx := testContext(t, 4*time.Minute)
	stale := 0
	for round := range 12 {
		load := startNumberedProducer(t, c.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()),
			kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedRecords(500)), topic, 3)
		await.For(t, 20*time.Second, "records acknowledged before the move", func() error {
			if n := load.ackedCount(); n < 300 {
				return fmt.Errorf("%d acked", n)
			}
			return nil
		})
		target := away
		if round%2 == 1 {
			target = home
		}
		reassign(t, adm, map[string][][]int32{topic: target})
		moved := load.ackedCount()
		await.For(t, 20*time.Second, "records acknowledged after the move", func() error {
			if n := load.ackedCount(); n < moved+300 {
				return fmt.Errorf("%d acked since the move", n-moved)
			}
			return nil
		})
		if _, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{topic: {0: {}, 1: {}, 2: {}}}); err != nil {
			t.Fatalf("round %d: elect: %v", round, err)
		}
		load.stop(t)
		last := map[int32]int64{}
		load.mu.Lock()
		for i, off := range load.acked {
			if l, ok := last[int32(i%3)]; !ok || off > l {
				last[int32(i%3)] = off
			}
		}
		load.mu.Unlock()
		// Ask at once and for a while: every answer without an error must
		// be past the last acknowledged offset.
		for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			ends, err := adm.ListEndOffsets(context.Background(), topic)
			if err != nil {
				continue
			}
			ends.Each(func(o kadm.ListedOffset) {
				if l, ok := last[o.Partition]; ok && o.Err == nil && o.Offset <= l {
					stale++
					t.Errorf("round %d: partition %d: end offset %d (leader epoch %d), but offset %d was acknowledged",
						round, o.Partition, o.Offset, o.LeaderEpoch, last[o.Partition])
				}
			})
			if stale > 0 {
				return
			}
		}
		await.For(t, 10*time.Second, fmt.Sprintf("round %d: end offsets past every ack", round), func() error {
			return endOffsetsCover(adm, topic, last)
		})
	}
}
