package console

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkFirstRender5000 is the time to the first byte-complete render
// of the overview and of the topic list of a cluster with 5,000
// partitions (50 topics of 100, three brokers of franz-go's kfake): the
// requests to the cluster (metadata, log dirs), the model's load (canned)
// and the template. `make bench` runs it once per page.
func BenchmarkFirstRender5000(b *testing.B) {
	var names []string
	for i := range 50 {
		names = append(names, fmt.Sprintf("topic-%02d", i))
	}
	fake, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(100, names...))
	if err != nil {
		b.Fatal(err)
	}
	defer fake.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(fake.ListenAddrs()...))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	con, err := New(Options{Client: cl, Seeds: fake.ListenAddrs(), API: &fakeAPI{}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(con.Handler())
	defer srv.Close()
	for _, page := range []struct{ name, path string }{{"overview", "/console/"}, {"topics", "/console/topics"}} {
		b.Run(page.name, func(b *testing.B) {
			size := 0
			start := time.Now()
			for b.Loop() {
				resp, err := http.Get(srv.URL + page.path)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d\n%.500s", page.path, resp.StatusCode, body)
				}
				size = len(body)
			}
			b.ReportMetric(float64(size)/1024, "KiB/page")
			b.Logf("%s with 5,000 partitions: %v a render, %d KiB", page.name, time.Since(start)/time.Duration(b.N), size/1024)
		})
	}
}
