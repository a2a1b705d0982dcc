package server

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// An AlterPartition request naming hundreds of partitions is one raft
// commit, not one per partition (a broker coming back rejoins the ISR of
// every partition it follows at once); each partition still gets its own
// answer.
func TestAlterPartitionIsOneCommitPerRequest(t *testing.T) {
	const parts = 300
	b := startBroker(t, nil)
	createTopic(t, b, "many", parts, nil)
	img := b.node.Image()
	it, _ := img.Topic("many")
	br, _ := img.Broker(b.cfg.NodeID)
	req := kmsg.NewPtrAlterPartitionRequest()
	req.SetVersion(1)
	req.BrokerID, req.BrokerEpoch = b.cfg.NodeID, br.Epoch
	rt := kmsg.NewAlterPartitionRequestTopic()
	rt.Topic = "many"
	for i, p := range it.Partitions {
		rp := kmsg.NewAlterPartitionRequestTopicPartition()
		rp.Partition, rp.LeaderEpoch, rp.PartitionEpoch, rp.NewISR = int32(i), p.LeaderEpoch, p.PartitionEpoch, p.ISR
		if i == 7 {
			rp.PartitionEpoch += 5 // stale: this one alone is refused
		}
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	before := b.node.CommitIndex()
	resp := b.handleAlterPartition(req).(*kmsg.AlterPartitionResponse)
	commits := b.node.CommitIndex() - before
	if commits > 3 { // one, and room for a stray controller commit
		t.Errorf("%d partitions took %d raft commits", parts, commits)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != parts {
		t.Fatalf("response %+v", resp)
	}
	for i, sp := range resp.Topics[0].Partitions {
		want := int16(0)
		if i == 7 {
			want = kerr.InvalidUpdateVersion.Code
		}
		if sp.Partition != int32(i) || sp.ErrorCode != want {
			t.Fatalf("partition %d: %+v, want error %d", i, sp, want)
		}
		if want == 0 && (sp.LeaderID != b.cfg.NodeID || len(sp.ISR) != 1) {
			t.Fatalf("partition %d: %+v", i, sp)
		}
	}
}
