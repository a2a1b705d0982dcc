package brokertest_test

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

	"github.com/weirhq/weir/broker/brokertest"
)

func TestMain(m *testing.M) { brokertest.Main(m) }

// scaleFigures are what one run of the scale scenario measured.
type scaleFigures struct {
	create, shutdownOne, shutdownAll, startup time.Duration
	inSync                                    time.Duration // from the restart until every ISR is whole
	// fences counts the controller's "fenced broker" lines: one
	// FenceBroker proposal per controlled shutdown, whatever the number of
	// leaderships it moves.
	fences int
}

// runScale builds a 3-broker cluster holding topics × 100 partitions at
// RF 3, stops broker 3 with SIGTERM (a controlled shutdown: its
// leaderships move first), then stops the other two, starts all three
// again and waits until every partition has a leader, then until every
// ISR holds all three replicas. Each stop is
// brokertest's Stop, which fails the test past StopTimeout.
func runScale(t testing.TB, topics int) scaleFigures {
	var f scaleFigures
	c := brokertest.StartCluster(t, 3, brokertest.Options{})
	cl := c.Client(t)
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	var names []string
	for i := range topics {
		name := fmt.Sprintf("scale-%02d", i)
		names = append(names, name)
		resp, err := adm.CreateTopic(ctx, 100, 3, nil, name)
		if err == nil {
			err = resp.Err
		}
		// A retried create whose first try went through (a loaded machine).
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			t.Fatalf("creating %s: %v", name, err)
		}
	}
	awaitLeaders(t, ctx, c.Brokers, names, 100, nil)
	f.create = time.Since(start)

	b3 := c.Broker(3)
	start = time.Now()
	b3.Stop()
	f.shutdownOne = time.Since(start)
	// Every partition has a leader other than broker 3, from its ISR,
	// which broker 3 has left, as both brokers left see it.
	awaitLeaders(t, ctx, c.Brokers[:2], names, 100, func(p kadm.PartitionDetail) bool {
		return p.Leader != 3 && slices.Contains(p.ISR, p.Leader) && !slices.Contains(p.ISR, 3)
	})

	start = time.Now()
	for _, b := range []*brokertest.Broker{c.Broker(2), c.Broker(1)} {
		b.Stop()
	}
	f.shutdownAll = time.Since(start)
	for _, b := range c.Brokers {
		f.fences += strings.Count(b.Logs(), "controlled shutdown: fenced broker")
		for _, line := range strings.Split(b.Logs(), "\n") {
			if strings.Contains(line, "broker shutdown phases") {
				t.Logf("broker %d: %s", b.NodeID, line[strings.Index(line, "msg="):])
			}
		}
	}

	start = time.Now()
	c.Restart(t, 5*time.Minute)
	awaitLeaders(t, ctx, c.Brokers, names, 100, nil)
	f.startup = time.Since(start)
	// The last broker stopped led every partition alone; the others
	// rejoin every ISR (AlterPartition requests, each one raft commit).
	awaitLeaders(t, ctx, c.Brokers[:1], names, 100, func(p kadm.PartitionDetail) bool { return len(p.ISR) == 3 })
	f.inSync = time.Since(start)
	return f
}

// awaitLeaders waits until every broker in brokers reports, in its own
// Metadata, a leader for each of the topics' partitions (for which ok,
// if given, holds).
func awaitLeaders(t testing.TB, ctx context.Context, brokers []*brokertest.Broker, names []string, parts int, ok func(kadm.PartitionDetail) bool) {
	t.Helper()
	for _, b := range brokers {
		cl := b.Client(t)
		adm := kadm.NewClient(cl)
		var last string
		for {
			last = missingLeaders(ctx, cl, adm, names, parts, ok)
			if last == "" {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("broker %d: partitions without a leader: %s", b.NodeID, last)
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
		cl.Close()
	}
}

// missingLeaders says what is not yet led, or "" when all is.
func missingLeaders(ctx context.Context, cl *kgo.Client, adm *kadm.Client, names []string, parts int, ok func(kadm.PartitionDetail) bool) string {
	cl.ForceMetadataRefresh()
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	md, err := adm.Metadata(rctx, names...)
	if err != nil {
		return err.Error()
	}
	var bad []string
	for _, name := range names {
		td, found := md.Topics[name]
		if !found || td.Err != nil || len(td.Partitions) != parts {
			bad = append(bad, name)
			continue
		}
		for _, p := range td.Partitions {
			if p.Err != nil || p.Leader < 0 || (ok != nil && !ok(p)) {
				bad = append(bad, fmt.Sprintf("%s-%d(leader %d, %v)", name, p.Partition, p.Leader, p.Err))
				break
			}
		}
	}
	return strings.Join(bad, " ")
}

// BenchmarkControlledShutdown500 is the small scale: 500 partitions at
// RF 3 (each broker leads about 170). About 75 s with race-built brokers
// on the loaded test machine, so it is a benchmark (make bench), not a
// test of make test; the controller's batching has its own fast tests
// (server's TestAlterPartitionIsOneCommitPerRequest, quorum's TestApply).
func BenchmarkControlledShutdown500(b *testing.B) { benchScale(b, 5) }

// BenchmarkControlledShutdown5000 is the full scale: 50 topics × 100
// partitions at RF 3, 5,000 partitions, about 1,700 led by each broker.
func BenchmarkControlledShutdown5000(b *testing.B) { benchScale(b, 50) }

func benchScale(b *testing.B, topics int) {
	for range b.N {
		f := runScale(b, topics)
		b.ReportMetric(f.shutdownOne.Seconds(), "shutdown-one-s")
		b.ReportMetric(f.shutdownAll.Seconds(), "shutdown-rest-s")
		b.ReportMetric(f.startup.Seconds(), "startup-s")
		b.ReportMetric(f.inSync.Seconds(), "insync-s")
		b.ReportMetric(f.create.Seconds(), "create-s")
		b.ReportMetric(float64(f.fences), "fence-proposals")
	}
}
