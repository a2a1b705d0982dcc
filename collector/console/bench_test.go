package console

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
)

// The figure: pages stay responsive with 5,000 partitions. Both
// benchmarks time an HTTP GET of a page to its whole body (the requests to
// the cluster, the model's load, which is canned, and the template), once
// against franz-go's kfake and once against real brokers. `make bench`
// runs both (-bench FirstRender5000).

// BenchmarkFirstRender5000 renders the overview and the topic list of a
// kfake cluster of three brokers with 50 topics of 100 partitions.
func BenchmarkFirstRender5000(b *testing.B) {
	fake, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(100, benchTopics()...))
	if err != nil {
		b.Fatal(err)
	}
	defer fake.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(fake.ListenAddrs()...))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	benchPages(b, cl, fake.ListenAddrs(), []string{"/console/", "/console/topics"})
}

// BenchmarkFirstRender5000Live renders the overview, the topic list and
// one topic of 100 partitions of three real `weir broker` processes
// (brokertest) holding 50 topics of 100 partitions at replication factor
// 3: 5,000 partitions, 15,000 replicas. The console's client is the
// collector's (metadata at most 100 ms old).
func BenchmarkFirstRender5000Live(b *testing.B) {
	c := brokertest.StartCluster(b, 3, brokertest.Options{})
	cl := c.Client(b, kgo.MetadataMinAge(100*time.Millisecond))
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	adm := kadm.NewClient(cl)
	for _, name := range benchTopics() {
		resp, err := adm.CreateTopic(ctx, 100, 3, nil, name)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			b.Fatalf("creating %s: %v", name, err)
		}
	}
	con := benchConsole(b, cl, c.Bootstrap())
	for _, name := range benchTopics() {
		if err := con.awaitServed(ctx, name, 100); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("50 topics of 100 partitions at RF 3 created and served by every broker in %v", time.Since(start).Round(time.Millisecond))
	benchPages(b, cl, c.Bootstrap(), []string{"/console/", "/console/topics", "/console/topics/topic-00"})
	// Each broker leads ~1,700 partitions; its controlled shutdown did
	// not finish within brokertest's 15 s stop limit on the loaded 2-core
	// test machine (a broker matter, not the console's): the benchmark
	// measures pages, so it ends the brokers with SIGKILL.
	for _, br := range c.Brokers {
		br.Kill()
	}
}

func benchTopics() []string {
	var names []string
	for i := range 50 {
		names = append(names, fmt.Sprintf("topic-%02d", i))
	}
	return names
}

func benchConsole(b *testing.B, cl *kgo.Client, seeds []string) *Console {
	con, err := New(Options{Client: cl, Seeds: seeds, API: &fakeAPI{}})
	if err != nil {
		b.Fatal(err)
	}
	return con
}

// benchPages times GETs of each path, the first (cold) one logged apart.
func benchPages(b *testing.B, cl *kgo.Client, seeds []string, paths []string) {
	srv := httptest.NewServer(benchConsole(b, cl, seeds).Handler())
	defer srv.Close()
	for _, path := range paths {
		b.Run(path, func(b *testing.B) {
			first, size := getPage(b, srv.URL+path)
			start := time.Now()
			for b.Loop() {
				_, size = getPage(b, srv.URL+path)
			}
			b.ReportMetric(float64(size)/1024, "KiB/page")
			b.Logf("%s with 5,000 partitions: first %v, then %v a render, %d KiB", path, first.Round(time.Millisecond),
				(time.Since(start) / time.Duration(b.N)).Round(100*time.Microsecond), size/1024)
		})
	}
}

// getPage GETs u to the end of its body and returns the time it took.
func getPage(b *testing.B, u string) (time.Duration, int) {
	start := time.Now()
	resp, err := http.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("%s: %d %v\n%.500s", u, resp.StatusCode, err, body)
	}
	return time.Since(start), len(body)
}
