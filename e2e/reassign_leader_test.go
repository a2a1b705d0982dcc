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
	"github.com/weirhq/weir/internal/await"
)

// TestReassignOntoNewLeaderLosesNothing: reassignments whose targets put a
// new replica first ([1 2 3] -> [4 2 3]) end with the new replica leading,
// while an idempotent acks=all producer writes throughout, several
// partitions moving at once and each new replica catching up thousands of
// records first. Every acknowledged record must be in the log afterwards,
// once and in order, and no produce may fail. (Found by the collector's
// end-to-end test: add_broker moves leaders' replicas onto the new broker
// this way.)
//
// The old leader's addition of the new replica completes the reassignment
// in the same controller commit, so the controller's answer names the new
// leader while the old leader's metadata still has it leading; until the
// commit reaches it, every image it applies carries the partition as it
// was. Weir took the answer as its ISR and then rolled back to the older
// image's ISR without the new replica, so its high watermark passed the
// new leader's log end: the new leader then truncated the followers below
// records acknowledged to the producer (115 lost in the collector's run;
// here 6 of 9 runs lost 1 to 373 before the fix). Leaders now ignore an
// answer for another leader epoch and images older than what they know
// (replica.Stale). Late replica fetch responses, which appended an old
// leader's records to a new leader's log or after a follower's truncation,
// are dropped (broker/replication/fetcher.go).
func TestReassignOntoNewLeaderLosesNothing(t *testing.T) {
	t.Parallel()
	c := brokertest.StartCluster(t, 4, brokertest.Options{})
	adm := clusterAdmin(t, c)
	cl := c.Client(t)
	const topic = "newleader"
	home := [][]int32{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}, {1, 3, 2}, {2, 1, 3}, {3, 2, 1}}
	onto4 := make([][]int32, len(home))
	for p, r := range home {
		onto4[p] = []int32{4, r[1], r[2]} // the new replica first: it leads at the end
	}
	createWithAssignment(t, cl, topic, home)
	waitFullISR(t, adm, topic, int32(len(home)), 3)
	load := startNumberedProducer(t, c.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.MaxBufferedRecords(2000)), topic, len(home))
	for round := range 6 {
		target := onto4
		if round%2 == 1 {
			target = home // and back, so the next round moves onto an empty replica again
		}
		want := 3000 * len(home) * (round + 1) / 2 // thousands of records per partition to catch up
		await.For(t, 60*time.Second, "records acked before the move", func() error {
			if n := load.ackedCount(); n < want {
				return fmt.Errorf("%d of %d acked, %d produce errors", n, want, load.errorCount())
			}
			return nil
		})
		reassign(t, adm, map[string][][]int32{topic: target})
	}
	load.stop(t)
	if n := load.failures(); n > 0 {
		t.Errorf("%d produce errors", n)
	}
	waitEndOffsetsCoverAcks(t, adm, load, topic, len(home))
	checkAcked(t, load, consumeAllCluster(t, c, topic))
}

// reassign moves every partition of each topic to its target, all in one
// request, and waits until the moves completed.
func reassign(t *testing.T, adm *kadm.Client, targets map[string][][]int32) {
	t.Helper()
	req := kadm.AlterPartitionAssignmentsReq{}
	for topic, target := range targets {
		for p, r := range target {
			req.Assign(topic, int32(p), r)
		}
	}
	resp, err := adm.AlterPartitionAssignments(testContext(t, 30*time.Second), req)
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Error(); err != nil {
		t.Fatal(err)
	}
	await.For(t, 60*time.Second, "the reassignment", func() error {
		md, err := adm.Metadata(context.Background())
		if err != nil {
			return err
		}
		for topic, target := range targets {
			for p, r := range target {
				got := md.Topics[topic].Partitions[int32(p)].Replicas
				if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(r))) {
					return fmt.Errorf("%s-%d on %v", topic, p, got)
				}
			}
		}
		return nil
	})
}

// waitEndOffsetsCoverAcks waits until every partition's end offset (its
// high watermark) is past the last offset acknowledged there: a leader
// elected just before the producer stopped advances its high watermark
// once its followers have fetched from it, and consuming before that
// would stop short of records that are safely replicated.
func waitEndOffsetsCoverAcks(t *testing.T, adm *kadm.Client, load *numberedProducer, topic string, partitions int) {
	t.Helper()
	last := map[int32]int64{}
	load.mu.Lock()
	for i, off := range load.acked {
		last[int32(i%partitions)] = max(last[int32(i%partitions)], off)
	}
	load.mu.Unlock()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if err := endOffsetsCover(adm, topic, last); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	// checkAcked names what is missing
}

func endOffsetsCover(adm *kadm.Client, topic string, last map[int32]int64) error {
	ends, err := adm.ListEndOffsets(context.Background(), topic)
	if err != nil {
		return err
	}
	for p, off := range last {
		if o, ok := ends.Lookup(topic, p); !ok || o.Err != nil || o.Offset <= off {
			return fmt.Errorf("partition %d ends at %d (%v), last ack at %d", p, o.Offset, o.Err, off)
		}
	}
	return nil
}
