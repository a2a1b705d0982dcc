package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	poll "github.com/weirhq/weir/internal/await"
)

// The hosted-partition snapshot (allPartitions, allReplicas: the ISR
// loop, HW checkpoints and metrics read it) follows creations, added
// partitions and deletions.
func TestHostedSnapshotFollowsTheTopics(t *testing.T) {
	b := startBroker(t, nil)
	ctx := context.Background()
	adm := kadm.NewClient(b.client(t))
	hosted := func(want int) func() error {
		return func() error {
			h := b.hostedSnapshot()
			if len(h.parts) != want || len(h.reps) != want {
				return fmt.Errorf("%d partitions and %d replicas in the snapshot, want %d", len(h.parts), len(h.reps), want)
			}
			for i, p := range h.parts {
				if h.reps[i] != p.rep {
					return fmt.Errorf("replica %d is not partition %d's", i, i)
				}
			}
			return nil
		}
	}
	poll.For(t, 10*time.Second, "no partitions", hosted(0))
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, "a"); err != nil {
		t.Fatal(err)
	}
	poll.For(t, 10*time.Second, "topic a's 3 partitions", hosted(3))
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "b"); err != nil {
		t.Fatal(err)
	}
	poll.For(t, 10*time.Second, "5 partitions", hosted(5))
	if _, err := adm.CreatePartitions(ctx, 4, "b"); err != nil {
		t.Fatal(err)
	}
	poll.For(t, 10*time.Second, "b grown to 6", hosted(9))
	if _, err := adm.DeleteTopic(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	poll.For(t, 10*time.Second, "a's partitions gone", hosted(6))
}
