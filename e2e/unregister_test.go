package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// TestUnregisterBroker: UnregisterBroker (key 64) through franz-go on
// three voters and a fourth broker. An unknown id gets
// BROKER_ID_NOT_REGISTERED; a live broker unregistered registers again; a
// stopped one, unregistered through a broker that is not the controller
// (forwarded), is forgotten: DescribeCluster and Metadata list three,
// asking again gets BROKER_ID_NOT_REGISTERED, the leader drops it from
// the raft configuration, and the partition it was assigned keeps its
// assignment and a leader.
func TestUnregisterBroker(t *testing.T) {
	t.Parallel()
	c := brokertest.StartCluster(t, 4, brokertest.Options{})
	cl := c.Client(t, kgo.MetadataMinAge(10*time.Millisecond))
	adm := clusterAdmin(t, c)
	createWithAssignment(t, cl, "kept", [][]int32{{4, 1, 2}})

	if code := unregisterBroker(t, cl, 1, 9); code != kerr.BrokerIDNotRegistered.Code {
		t.Errorf("unregistering unknown broker 9: %v, want BROKER_ID_NOT_REGISTERED", kerr.ErrorForCode(code))
	}

	// A live broker: its next heartbeat is refused and it registers again.
	registered := func() int { return strings.Count(c.Broker(4).Logs(), "registered with the controller") }
	before, start := registered(), time.Now()
	if code := unregisterBroker(t, cl, 1, 4); code != 0 {
		t.Fatalf("unregistering live broker 4: %v", kerr.ErrorForCode(code))
	}
	await.For(t, 30*time.Second, "broker 4 to register again", func() error {
		if n := registered(); n <= before {
			return fmt.Errorf("registered %d times, as before", n)
		}
		return wantBrokers(adm, 1, 2, 3, 4)
	})
	t.Logf("live broker 4 registered again and was listed %v after its unregistration", time.Since(start).Round(time.Millisecond))

	// A stopped broker, through a broker that is not the controller.
	c.Broker(4).Stop()
	ctrl := describeCluster(t, cl).ControllerID
	via := int32(1)
	if ctrl == via {
		via = 2
	}
	start = time.Now()
	if code := unregisterBroker(t, cl, via, 4); code != 0 {
		t.Fatalf("unregistering stopped broker 4 via broker %d (controller %d): %v", via, ctrl, kerr.ErrorForCode(code))
	}
	t.Logf("unregistered broker 4 via broker %d (controller %d) in %v", via, ctrl, time.Since(start).Round(time.Millisecond))
	if code := unregisterBroker(t, cl, ctrl, 4); code != kerr.BrokerIDNotRegistered.Code {
		t.Errorf("unregistering broker 4 again: %v, want BROKER_ID_NOT_REGISTERED", kerr.ErrorForCode(code))
	}
	var ids []int32
	for _, b := range describeCluster(t, cl).Brokers {
		ids = append(ids, b.NodeID)
	}
	if !slices.Equal(ids, []int32{1, 2, 3}) {
		t.Errorf("DescribeCluster lists %v, want [1 2 3]", ids)
	}
	if err := wantBrokers(adm, 1, 2, 3); err != nil {
		t.Errorf("Metadata: %v", err)
	}
	await.For(t, 15*time.Second, "the controller to drop broker 4 from the raft configuration", func() error {
		for _, b := range c.Brokers {
			for _, line := range strings.Split(b.Logs(), "\n") {
				if strings.Contains(line, "removing non-voter") && strings.Contains(line, "broker=4") {
					return nil
				}
			}
		}
		return fmt.Errorf("no broker logged it")
	})

	// The assignment stays; the partition is led by a registered broker.
	leader, isr, err := partitionState(context.Background(), adm, "kept", 0)
	if err != nil || (leader != 1 && leader != 2) || slices.Contains(isr, 4) {
		t.Errorf("kept-0 after unregistering broker 4: leader %d, ISR %v (%v)", leader, isr, err)
	}
	md, err := adm.Metadata(testContext(t, 10*time.Second), "kept")
	if err != nil {
		t.Fatal(err)
	}
	if p := md.Topics["kept"].Partitions[0]; !slices.Equal(p.Replicas, []int32{4, 1, 2}) || !slices.Equal(p.OfflineReplicas, []int32{4}) {
		t.Errorf("kept-0: replicas %v, offline %v, want [4 1 2] and [4]", p.Replicas, p.OfflineReplicas)
	}
	if err := cl.ProduceSync(testContext(t, 15*time.Second), &kgo.Record{Topic: "kept", Value: []byte("after")}).FirstErr(); err != nil {
		t.Errorf("producing to kept after unregistering broker 4: %v", err)
	}
}

// unregisterBroker sends UnregisterBroker for id to broker via and returns
// the error code.
func unregisterBroker(t *testing.T, cl *kgo.Client, via, id int32) int16 {
	t.Helper()
	req := kmsg.NewPtrUnregisterBrokerRequest()
	req.BrokerID = id
	resp, err := req.RequestWith(testContext(t, 20*time.Second), cl.Broker(int(via)))
	if err != nil {
		t.Fatalf("UnregisterBroker %d via broker %d: %v", id, via, err)
	}
	if resp.ErrorCode != 0 {
		t.Logf("UnregisterBroker %d via broker %d: %v %s", id, via, kerr.ErrorForCode(resp.ErrorCode), derefOr(resp.ErrorMessage))
	}
	return resp.ErrorCode
}

func describeCluster(t *testing.T, cl *kgo.Client) *kmsg.DescribeClusterResponse {
	t.Helper()
	resp, err := kmsg.NewPtrDescribeClusterRequest().RequestWith(testContext(t, 10*time.Second), cl)
	if err != nil || resp.ErrorCode != 0 {
		t.Fatalf("DescribeCluster: %v %v", err, resp)
	}
	return resp
}

// wantBrokers checks that Metadata (kadm's ListBrokers) lists exactly ids.
func wantBrokers(adm *kadm.Client, ids ...int32) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bs, err := adm.ListBrokers(ctx)
	if err != nil {
		return err
	}
	if got := bs.NodeIDs(); !slices.Equal(got, ids) {
		return fmt.Errorf("brokers %v, want %v", got, ids)
	}
	return nil
}

func derefOr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
