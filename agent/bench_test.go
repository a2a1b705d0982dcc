package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/agent/config"
	"github.com/weirhq/weir/agent/export/prometheus"
	"github.com/weirhq/weir/agent/snapshot"
	"github.com/weirhq/weir/broker/brokertest"
)

const benchTopics, benchParts = 50, 100

func benchTopicNames() []string {
	names := make([]string, benchTopics)
	for i := range names {
		names[i] = fmt.Sprintf("topic-%02d", i)
	}
	return names
}

// BenchmarkCollectAndScrape5000Partitions measures one collection (metadata,
// start and end offsets, one group committed on every partition) and one
// PER_TOPIC_PER_PARTITION scrape over 50 topics × 100 partitions, against a
// real Weir broker process and, side by side, a kfake cluster. Run:
// go test -run '^$' -bench CollectAndScrape -benchtime 20x ./agent/
func BenchmarkCollectAndScrape5000Partitions(b *testing.B) {
	b.Run("weir", func(b *testing.B) {
		broker := brokertest.Start(b, brokertest.Options{Props: map[string]string{"offsets.topic.num.partitions": "10"}})
		cl, err := kgo.NewClient(kgo.SeedBrokers(broker.Addr))
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		start := time.Now()
		resp, err := kadm.NewClient(cl).CreateTopics(context.Background(), benchParts, 1, nil, benchTopicNames()...)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("created %d partitions on the broker in %v", benchTopics*benchParts, time.Since(start).Round(time.Millisecond))
		benchCollectAndScrape(b, cl)
	})
	b.Run("kfake", func(b *testing.B) {
		fake, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(benchParts, benchTopicNames()...))
		if err != nil {
			b.Fatal(err)
		}
		defer fake.Close()
		cl, err := kgo.NewClient(kgo.SeedBrokers(fake.ListenAddrs()...))
		if err != nil {
			b.Fatal(err)
		}
		defer cl.Close()
		benchCollectAndScrape(b, cl)
	})
}

func benchCollectAndScrape(b *testing.B, cl *kgo.Client) {
	const topics, parts = benchTopics, benchParts
	names := benchTopicNames()
	ctx := context.Background()
	offs := kadm.Offsets{}
	for _, n := range names {
		for p := range int32(parts) {
			offs.AddOffset(n, p, 0, -1)
		}
	}
	if err := kadm.NewClient(cl).CommitAllOffsets(ctx, "bench-group", offs); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Parse([]byte("brokers: [127.0.0.1:1]\ninterval: 30s\nlevel: PER_TOPIC_PER_PARTITION\nlog_dirs: [/]\n"))
	if err != nil {
		b.Fatal(err)
	}
	prom := prometheus.New(prometheus.Options{Level: cfg.Level})
	a, err := New(cfg, cl, []snapshot.Exporter{prom}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	handler := prom.BrokerHandler()
	var collect, scrape time.Duration
	var bytes int
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		s := a.Collect(ctx)
		collect += time.Since(start)
		if len(s.Errors) > 0 || s.Cluster == nil || len(s.Groups) != 1 || len(s.Groups[0].Partitions) != topics*parts {
			b.Fatalf("collection: errors %v", s.Errors)
		}
		_ = prom.Export(ctx, s)
		start = time.Now()
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		scrape += time.Since(start)
		bytes = rec.Body.Len()
		_, _ = io.Discard.Write(rec.Body.Bytes())
	}
	b.StopTimer()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(collect.Milliseconds())/float64(b.N), "collect-ms/op")
	b.ReportMetric(float64(scrape.Milliseconds())/float64(b.N), "scrape-ms/op")
	b.ReportMetric(float64(bytes)/1e6, "scrape-MB")
	b.ReportMetric(float64(ms.HeapInuse)/1e6, "heap-inuse-MB")
}
