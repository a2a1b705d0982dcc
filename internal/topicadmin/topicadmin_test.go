package topicadmin

import (
	"fmt"
	"maps"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestDescribe(t *testing.T) {
	td := kadm.TopicDetail{Topic: "orders", IsInternal: false, Partitions: kadm.PartitionDetails{
		1: {Topic: "orders", Partition: 1, Leader: 2, LeaderEpoch: 4, Replicas: []int32{2, 3}, ISR: []int32{2}},
		0: {Topic: "orders", Partition: 0, Leader: 1, LeaderEpoch: 3, Replicas: []int32{1, 2}, ISR: []int32{1, 2}},
		2: {Topic: "orders", Partition: 2, Leader: -1, Replicas: []int32{3, 1}, Err: kerr.LeaderNotAvailable},
	}}
	starts := kadm.ListedOffsets{"orders": {0: {Offset: 5}, 1: {Offset: 0}, 2: {Err: kerr.LeaderNotAvailable}}}
	ends := kadm.ListedOffsets{"orders": {0: {Offset: 50}, 1: {Offset: 7}}}
	d := describe(td, starts, ends)
	if d.Name != "orders" || d.ReplicationFactor != 2 || d.Internal || len(d.Partitions) != 3 {
		t.Fatalf("got %+v", d)
	}
	want := []string{
		"0 leader 1 epoch 3 [1 2] isr [1 2] offsets 5..50 ",
		"1 leader 2 epoch 4 [2 3] isr [2] offsets 0..7 ",
		"2 leader -1 epoch 0 [3 1] isr [] offsets -1..-1 " + kerr.LeaderNotAvailable.Error(),
	}
	for i, p := range d.Partitions {
		got := fmt.Sprintf("%d leader %d epoch %d %v isr %v offsets %d..%d %s", p.Partition, p.Leader, p.LeaderEpoch,
			p.Replicas, p.ISR, p.LogStartOffset, p.LogEndOffset, p.Error)
		if got != want[i] {
			t.Errorf("partition %d:\n got %q\nwant %q", i, got, want[i])
		}
	}
}

func TestNonDefaultConfigs(t *testing.T) {
	v := kadm.StringPtr
	cs := []kadm.Config{
		{Key: "retention.ms", Value: v("3600000"), Source: kmsg.ConfigSourceDynamicTopicConfig},
		{Key: "segment.bytes", Value: v("1073741824"), Source: kmsg.ConfigSourceDefaultConfig},
		{Key: "min.insync.replicas", Value: v("2"), Source: kmsg.ConfigSourceStaticBrokerConfig},
		{Key: "cleanup.policy", Value: v("delete"), Source: kmsg.ConfigSourceDynamicDefaultBrokerConfig},
		{Key: "sasl.secret", Value: v("hunter2"), Sensitive: true, Source: kmsg.ConfigSourceDynamicTopicConfig},
		{Key: "weird", Value: v("x"), Source: kmsg.ConfigSourceUnknown},
		{Key: "message.format", Source: kmsg.ConfigSourceDynamicTopicConfig},
	}
	want := map[string]string{"retention.ms": "3600000", "cleanup.policy": "delete", "sasl.secret": "(sensitive)", "message.format": ""}
	if got := nonDefaultConfigs(cs); !maps.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}
