package samples

import (
	"fmt"
	"testing"
	"time"

	"github.com/weirhq/weir/agent/snapshot"
)

// BenchmarkRecords5000Partitions: encoding one cycle's samples of a broker
// leading 5,000 partitions.
func BenchmarkRecords5000Partitions(b *testing.B) {
	s := &snapshot.Snapshot{Time: testTime, ClusterName: "bench", BrokerID: 1, Broker: &snapshot.Broker{}, Cluster: &snapshot.Cluster{}}
	for ti := range 50 {
		tp := snapshot.Topic{Name: fmt.Sprintf("topic-%02d", ti)}
		s.Broker.Topics = append(s.Broker.Topics, snapshot.TopicRates{Topic: tp.Name, BytesInPerSec: 1000})
		for p := range int32(100) {
			tp.Partitions = append(tp.Partitions, snapshot.Partition{Partition: p, Leader: 1, Replicas: []int32{1, 2, 3}, ProduceRate: 10})
		}
		s.Cluster.Topics = append(s.Cluster.Topics, tp)
	}
	p := NewProducer(nil, Options{Interval: time.Minute})
	var bytes int
	for range b.N {
		recs, err := p.Records(s)
		if err != nil || len(recs) != 5001 {
			b.Fatalf("%d records: %v", len(recs), err)
		}
		bytes = 0
		for _, r := range recs {
			bytes += len(r.Key) + len(r.Value)
		}
	}
	b.ReportMetric(float64(bytes)/1e3, "kB/op")
}
