package otlp

import (
	"context"
	"fmt"
	"testing"

	"github.com/weirhq/weir/agent/snapshot"
)

// bigSnapshot is 50 topics × 100 partitions with one group committed on all.
func bigSnapshot() *snapshot.Snapshot {
	s := testSnapshot()
	s.Cluster.Topics, s.Groups = nil, []snapshot.Group{{Name: "bench", Members: 3}}
	for ti := range 50 {
		tp := snapshot.Topic{Name: fmt.Sprintf("topic-%02d", ti)}
		for p := range int32(100) {
			tp.Partitions = append(tp.Partitions, snapshot.Partition{Partition: p, Leader: 1, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}, EndOffset: 1000})
			s.Groups[0].Partitions = append(s.Groups[0].Partitions, snapshot.GroupPartition{Topic: tp.Name, Partition: p, Committed: 900, End: 1000, Lag: 100, TimeLagMs: 2000})
		}
		s.Cluster.Topics = append(s.Cluster.Topics, tp)
	}
	return s
}

// BenchmarkExport5000Partitions: one PER_TOPIC_PER_PARTITION export of
// 5,000 partitions (≈ 33,000 points) to the Collector's receiver over gRPC.
func BenchmarkExport5000Partitions(b *testing.B) {
	r := startReceiverB(b)
	e, err := New(context.Background(), Options{Endpoint: r.grpcAddr, Insecure: true, Level: snapshot.LevelPerTopicPerPartition})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close(context.Background())
	s := bigSnapshot()
	points := 0
	for _, m := range e.Metrics(s).ScopeMetrics[0].Metrics {
		points += countPoints(m.Data)
	}
	b.ResetTimer()
	for range b.N {
		if err := e.Export(context.Background(), s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(points), "points/op")
}
