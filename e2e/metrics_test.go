package e2e

import (
	"github.com/weirhq/weir/broker/brokertest"

	"bufio"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/internal/await"
)

// TestMetricsEndpoint checks that the admin listener serves the Kafka metric
// names that existing dashboards chart (the JMX exporter's names), with the
// values the traffic just sent implies, and that /healthz and /readyz answer.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	b := startBroker(t, nil)
	const topic, n = "metrics-topic", 50
	createTopic(t, admin(t, b), topic, 1, nil)
	cl := b.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for i := range n {
		produceSync(t, cl, &kgo.Record{Topic: topic, Value: []byte(fmt.Sprintf("metric-%d", i))})
	}

	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := httpGet(t, "http://"+b.AdminAddr+path); code != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
	}

	topicLabel := map[string]string{"topic": topic}
	partLabel := map[string]string{"topic": topic, "partition": "0"}
	checks := []struct {
		name   string
		labels map[string]string
		ok     func(float64) bool
		want   string
	}{
		{"kafka_server_brokertopicmetrics_bytesin_total", topicLabel, positive, "> 0"},
		{"kafka_server_brokertopicmetrics_messagesin_total", topicLabel, equals(n), fmt.Sprint(n)},
		{"kafka_network_requestmetrics_requests_total", map[string]string{"request": "Produce"}, atLeast(n), fmt.Sprintf(">= %d", n)},
		{"kafka_log_log_size", partLabel, positive, "> 0"},
		{"kafka_log_log_logendoffset", partLabel, equals(n), fmt.Sprint(n)},
		{"kafka_server_replicamanager_partitioncount", nil, atLeast(1), ">= 1"},
		{"kafka_server_replicamanager_underreplicatedpartitions", nil, equals(0), "0"},
	}
	// Counters may be updated just after the produce response is sent: poll.
	var samples []sample
	await.For(t, 10*time.Second, "the metrics to reflect the produced records", func() error {
		code, body := httpGet(t, "http://"+b.AdminAddr+"/metrics")
		if code != http.StatusOK {
			return fmt.Errorf("GET /metrics: %d", code)
		}
		samples = parseMetrics(body)
		for _, c := range checks {
			if v, ok := find(samples, c.name, c.labels); !ok || !c.ok(v) {
				return fmt.Errorf("%s%v = %v (present %v), want %s", c.name, c.labels, v, ok, c.want)
			}
		}
		return nil
	})
}

type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)`)
	labelPair  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// parseMetrics reads the Prometheus text format's samples.
func parseMetrics(body string) []sample {
	var out []sample
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m := sampleLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			continue
		}
		s := sample{name: m[1], labels: map[string]string{}, value: v}
		for _, l := range labelPair.FindAllStringSubmatch(m[2], -1) {
			s.labels[l[1]] = l[2]
		}
		out = append(out, s)
	}
	return out
}

// find sums the samples of name whose labels include want (a counter may be
// split by further labels such as version).
func find(samples []sample, name string, want map[string]string) (float64, bool) {
	var sum float64
	found := false
next:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for k, v := range want {
			if s.labels[k] != v {
				continue next
			}
		}
		sum += s.value
		found = true
	}
	return sum, found
}

func positive(v float64) bool { return v > 0 }

func equals(want float64) func(float64) bool { return func(v float64) bool { return v == want } }

func atLeast(want float64) func(float64) bool { return func(v float64) bool { return v >= want } }

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// wantServed fails the test unless the broker has served each API at each
// of the versions listed (kafka_network_requestmetrics_requests_total
// counts requests per API and version): proof that a client pinned to an
// old release really spoke its protocol.
func wantServed(t *testing.T, b *brokertest.Broker, want map[string][]int) {
	t.Helper()
	_, body := httpGet(t, "http://"+b.AdminAddr+"/metrics")
	samples := parseMetrics(body)
	for api, versions := range want {
		for _, v := range versions {
			if n, _ := find(samples, "kafka_network_requestmetrics_requests_total", map[string]string{"request": api, "version": strconv.Itoa(v)}); n == 0 {
				t.Errorf("no %s v%d request was served", api, v)
			}
		}
	}
}
