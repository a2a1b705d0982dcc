package cloudwatch

import (
	"context"
	"fmt"
	"testing"

	"github.com/weirhq/weir/agent/snapshot"
)

// BenchmarkExport5000Partitions: one PER_TOPIC_PER_PARTITION export of the
// controller's agent with one group committed on 5,000 partitions (≈ 10,000
// metrics, 11 requests) to the CBOR-decoding stand-in.
func BenchmarkExport5000Partitions(b *testing.B) {
	f := &fakeCloudWatch{}
	srv := newFakeServer(f)
	defer srv.Close()
	b.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	b.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	e, err := New(context.Background(), Options{Region: "eu-west-1", Endpoint: srv.URL, Level: snapshot.LevelPerTopicPerPartition})
	if err != nil {
		b.Fatal(err)
	}
	s := testSnapshot()
	s.Groups = []snapshot.Group{{Name: "bench"}}
	for ti := range 50 {
		for p := range int32(100) {
			s.Groups[0].Partitions = append(s.Groups[0].Partitions, snapshot.GroupPartition{Topic: fmt.Sprintf("topic-%02d", ti), Partition: p, Lag: 100, TimeLagMs: 2000})
		}
	}
	n := len(Metrics(s, e.opts))
	b.ResetTimer()
	for range b.N {
		if err := e.Export(context.Background(), s); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	f.mu.Lock()
	defer f.mu.Unlock()
	b.ReportMetric(float64(n), "metrics/op")
	b.ReportMetric(float64(len(f.mu.requests))/float64(b.N), "requests/op")
}
