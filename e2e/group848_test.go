package e2e

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// The consumer rebalance protocol (KIP-848) with franz-go: it takes this
// path only with kgo.ServerSideBalancer() and a broker advertising
// ConsumerGroupHeartbeat v1 (kgo.GroupProtocol names the classic
// protocol type and does not select it).

// props848 hand out a short heartbeat interval so assignments move fast.
var props848 = map[string]string{
	"offsets.topic.num.partitions":         "10",
	"group.consumer.heartbeat.interval.ms": "200",
}

func opts848(extra ...kgo.Opt) []kgo.Opt {
	return append([]kgo.Opt{kgo.ServerSideBalancer()}, extra...)
}

// TestConsumerProtocolContinuesFromCommit: a consumer-protocol member reads
// part of a topic, commits and leaves; a new one continues from the commit,
// nothing skipped or repeated, with either server assignor.
func TestConsumerProtocolContinuesFromCommit(t *testing.T) {
	t.Parallel()
	b := startBroker(t, props848)
	adm := admin(t, b)
	for _, c := range []struct {
		name     string
		balancer kgo.GroupBalancer
	}{
		{"uniform", kgo.CooperativeStickyBalancer()},
		{"range", kgo.RangeBalancer()},
	} {
		t.Run(c.name, func(t *testing.T) {
			topic, group := "kip848-"+c.name, "kip848-commit-"+c.name
			createTopic(t, adm, topic, 3, nil)
			produceN(t, b, topic, 0, 90)
			opts := opts848(kgo.Balancers(c.balancer))
			first := groupConsume(t, b, group, topic, 40, opts...)
			second := groupConsume(t, b, group, topic, 50, opts...)
			checkExactlyOnce(t, 90, append(first, second...))

			listed, err := adm.ListGroups(testContext(t, 10*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if g := listed[group]; g.ProtocolType != "consumer" || g.State != "Empty" {
				t.Errorf("ListGroups: %+v, want a consumer-protocol group, Empty", g)
			}
			// Two joins and two leaves; no members left to prefer an
			// assignor, so the default is named, as Kafka does.
			d := describe848(t, b, group)
			if d.ErrorCode != 0 || d.AssignorName != "uniform" || d.State != "Empty" || d.Epoch != 4 {
				t.Errorf("ConsumerGroupDescribe: error %d, assignor %q, state %s, epoch %d", d.ErrorCode, d.AssignorName, d.State, d.Epoch)
			}
		})
	}
}

// TestConsumerProtocolThreeMembers: three members split six partitions,
// each partition owned once; when one leaves, its partitions move to the
// other two. The coordinator's view (ConsumerGroupDescribe) agrees.
func TestConsumerProtocolThreeMembers(t *testing.T) {
	t.Parallel()
	b := startBroker(t, props848)
	adm := admin(t, b)
	const topic, group = "kip848-three", "kip848-three-members"
	createTopic(t, adm, topic, 6, nil)

	tr := newOwnership(topic)
	clients := make([]*kgo.Client, 3)
	for i := range clients {
		cl, err := kgo.NewClient(append(opts848(kgo.SeedBrokers(b.Addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic)), tr.hooks(i)...)...)
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = cl
		t.Cleanup(cl.Close)
	}
	stop := pollAll(clients)
	defer stop()

	await.For(t, 30*time.Second, "three members to own two partitions each", func() error { return tr.split([]int{0, 1, 2}, 2) })
	await.For(t, 10*time.Second, "the coordinator to agree", func() error { return describedSplit(t, b, group, 3) })

	clients[2].Close()
	tr.forget(2)
	await.For(t, 20*time.Second, "two members to take over the leaver's partitions", func() error { return tr.split([]int{0, 1}, 3) })
	await.For(t, 10*time.Second, "the coordinator to agree", func() error { return describedSplit(t, b, group, 2) })

	described, err := adm.DescribeGroups(testContext(t, 10*time.Second), group)
	if err != nil {
		t.Fatal(err)
	}
	if d := described[group]; d.State != "Dead" || len(d.Members) != 0 {
		t.Errorf("DescribeGroups of a consumer-protocol group: state %s, %d members; Kafka answers Dead", d.State, len(d.Members))
	}
}

// ownership tracks which member owns which partitions, from the
// client's assign, revoke and lose callbacks.
type ownership struct {
	topic string
	mu    sync.Mutex
	owned map[int]map[int32]bool
}

func newOwnership(topic string) *ownership {
	return &ownership{topic: topic, owned: map[int]map[int32]bool{}}
}

func (o *ownership) hooks(i int) []kgo.Opt {
	o.owned[i] = map[int32]bool{}
	drop := func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
		o.mu.Lock()
		defer o.mu.Unlock()
		for _, p := range m[o.topic] {
			delete(o.owned[i], p)
		}
	}
	return []kgo.Opt{
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			o.mu.Lock()
			defer o.mu.Unlock()
			for _, p := range m[o.topic] {
				if o.owned[i][p] {
					panic(fmt.Sprintf("member %d assigned partition %d it already owns", i, p))
				}
				o.owned[i][p] = true
			}
		}),
		kgo.OnPartitionsRevoked(drop),
		kgo.OnPartitionsLost(drop),
	}
}

func (o *ownership) forget(i int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.owned[i] = map[int32]bool{}
}

// split checks each member owns want partitions and each of the six is
// owned exactly once.
func (o *ownership) split(members []int, want int) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	count := map[int32]int{}
	for _, i := range members {
		if len(o.owned[i]) != want {
			return fmt.Errorf("member %d owns %d partitions, want %d: %v", i, len(o.owned[i]), want, o.owned)
		}
		for p := range o.owned[i] {
			count[p]++
		}
	}
	for p := int32(0); p < 6; p++ {
		if count[p] != 1 {
			return fmt.Errorf("partition %d owned %d times: %v", p, count[p], o.owned)
		}
	}
	return nil
}

// pollAll polls every client (so each runs its group loop) until stop.
func pollAll(clients []*kgo.Client) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				cl.PollFetches(ctx)
			}
		}()
	}
	return func() { cancel(); wg.Wait() }
}

func describe848(t *testing.T, b *brokertest.Broker, group string) kmsg.ConsumerGroupDescribeResponseGroup {
	t.Helper()
	cl := b.Client(t)
	req := kmsg.NewPtrConsumerGroupDescribeRequest()
	req.Groups = []string{group}
	resp, err := req.RequestWith(testContext(t, 10*time.Second), cl)
	if err != nil {
		t.Fatalf("ConsumerGroupDescribe %s: %v", group, err)
	}
	if len(resp.Groups) != 1 {
		t.Fatalf("ConsumerGroupDescribe %s: %d groups", group, len(resp.Groups))
	}
	return resp.Groups[0]
}

// describedSplit checks the coordinator's view: a Stable group of n
// members at the assignment epoch, whose current assignments cover the
// six partitions once and match their targets.
func describedSplit(t *testing.T, b *brokertest.Broker, group string, n int) error {
	d := describe848(t, b, group)
	if err := kerr.ErrorForCode(d.ErrorCode); err != nil {
		return err
	}
	if d.State != "Stable" || len(d.Members) != n || d.AssignorName != "uniform" {
		return fmt.Errorf("state %s, %d members, assignor %q", d.State, len(d.Members), d.AssignorName)
	}
	var all []int32
	for _, m := range d.Members {
		if m.MemberEpoch != d.AssignmentEpoch || fmt.Sprint(m.Assignment) != fmt.Sprint(m.TargetAssignment) {
			return fmt.Errorf("member %s at epoch %d (assignment epoch %d), assignment %v, target %v",
				m.MemberID, m.MemberEpoch, d.AssignmentEpoch, m.Assignment, m.TargetAssignment)
		}
		for _, tp := range m.Assignment.TopicPartitions {
			all = append(all, tp.Partitions...)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	if fmt.Sprint(all) != "[0 1 2 3 4 5]" {
		return fmt.Errorf("partitions assigned: %v", all)
	}
	return nil
}
