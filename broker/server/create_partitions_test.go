package server

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// A CreatePartitions sent again before the first one's entry is applied
// (a client resending after a lost answer or a timeout, or two clients
// asking for the same count) adds the partitions once: each handler
// places the new partitions against the image it read, and the apply
// refuses every entry but the first (INVALID_PARTITIONS), as Kafka's
// controller does. Before, each entry appended its partitions, so eight
// requests to grow it from 4 to 8 partitions left it with 36, as they
// still may below weir.metadata.version 2 (TestMetadataVersionGatesPreconditions);
// a fresh cluster starts at 2.
func TestCreatePartitionsSentAgainAddsThemOnce(t *testing.T) {
	const senders = 8
	b := startBroker(t, nil)
	createTopic(t, b, "grow", 1, nil)
	admins := make([]*kadm.Client, senders) // one connection each: handled at once
	for i := range admins {
		admins[i] = kadm.NewClient(b.client(t))
	}
	for round, count := range []int{4, 8, 12} {
		start := make(chan struct{})
		errs := make([]error, senders)
		var wg sync.WaitGroup
		for i, adm := range admins {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				resp, err := adm.UpdatePartitions(context.Background(), count, "grow")
				if err == nil {
					err = resp["grow"].Err
				}
				errs[i] = err
			}()
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, kerr.InvalidPartitions):
				t.Fatalf("round %d, sender %d: %v", round, i, err)
			}
		}
		tp, _ := b.node.Image().Topic("grow")
		if got := len(tp.Partitions); got != count || ok != 1 {
			t.Fatalf("round %d: %d senders asked for %d partitions: the topic has %d, %d were told it worked (want 1)", round, senders, count, got, ok)
		}
	}
}
