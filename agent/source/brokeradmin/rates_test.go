package brokeradmin

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/weirhq/weir/agent/snapshot"
)

// exposition renders a broker /metrics page with the given counter values.
func exposition(bytesA, bytesB, msgs, prodCount, prodSum float64) string {
	return fmt.Sprintf(`# HELP kafka_server_brokertopicmetrics_bytesin_total Bytes in.
# TYPE kafka_server_brokertopicmetrics_bytesin_total counter
kafka_server_brokertopicmetrics_bytesin_total{topic="a"} %g
kafka_server_brokertopicmetrics_bytesin_total{topic="b"} %g
# TYPE kafka_server_brokertopicmetrics_messagesin_total counter
kafka_server_brokertopicmetrics_messagesin_total{topic="a"} %g
# TYPE kafka_network_requestmetrics_totaltimems summary
kafka_network_requestmetrics_totaltimems{request="Produce",quantile="0.5"} 1
kafka_network_requestmetrics_totaltimems_sum{request="Produce"} %g
kafka_network_requestmetrics_totaltimems_count{request="Produce"} %g
# TYPE kafka_network_requestmetrics_requests_total counter
kafka_network_requestmetrics_requests_total{request="Produce",version="9"} %g
# TYPE kafka_server_replicamanager_underreplicatedpartitions gauge
kafka_server_replicamanager_underreplicatedpartitions 2
# TYPE kafka_server_replicamanager_partitioncount gauge
kafka_server_replicamanager_partitioncount 12
# TYPE kafka_controller_kafkacontroller_activecontrollercount gauge
kafka_controller_kafkacontroller_activecontrollercount 1
`, bytesA, bytesB, msgs, prodSum, prodCount, prodCount)
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestRatesAcrossScrapesAndReset(t *testing.T) {
	var r Rates
	t0 := time.Unix(1000, 0)
	steps := []struct {
		page                 string
		at                   time.Time
		bytesIn, bA, msgs    float64
		produceMean, reqRate float64
	}{
		// First scrape: no rates yet, gauges as they are.
		{exposition(100, 50, 10, 4, 8), t0, 0, 0, 0, 0, 0},
		// 10 s later: a +1000, b +500, 20 msgs, 6 produces taking 30 ms.
		{exposition(1100, 550, 30, 10, 38), t0.Add(10 * time.Second), 150, 100, 2, 5, 0.6},
		// Broker restarted: every counter is below its previous value, so
		// the increase is the new value.
		{exposition(200, 0, 4, 2, 3), t0.Add(20 * time.Second), 20, 20, 0.4, 1.5, 0.2},
	}
	for i, st := range steps {
		fams, err := Parse(strings.NewReader(st.page))
		if err != nil {
			t.Fatal(err)
		}
		b := r.Convert(fams, st.at)
		if !near(b.BytesInPerSec, st.bytesIn) || !near(b.MessagesInPerSec, st.msgs) ||
			!near(b.ProduceTotalTimeMsMean, st.produceMean) || !near(b.RequestsPerSec["Produce"], st.reqRate) {
			t.Errorf("step %d: bytes in %v msgs %v produce mean %v req %v; want %v %v %v %v", i,
				b.BytesInPerSec, b.MessagesInPerSec, b.ProduceTotalTimeMsMean, b.RequestsPerSec["Produce"],
				st.bytesIn, st.msgs, st.produceMean, st.reqRate)
		}
		if len(b.Topics) != 2 || b.Topics[0].Topic != "a" || !near(b.Topics[0].BytesInPerSec, st.bA) {
			t.Errorf("step %d: topics %+v, want a at %v B/s", i, b.Topics, st.bA)
		}
		if b.UnderReplicatedPartitions != 2 || b.PartitionCount != 12 || b.ActiveControllerCount != 1 {
			t.Errorf("step %d: gauges %+v", i, b)
		}
		if len(b.Families) != 7 || b.Families[0].GetName() > b.Families[1].GetName() {
			t.Errorf("step %d: %d families, want 7 sorted", i, len(b.Families))
		}
	}
}

func TestIncrease(t *testing.T) {
	for _, c := range []struct{ prev, cur, want float64 }{{5, 9, 4}, {9, 9, 0}, {9, 3, 3}, {0, 0, 0}} {
		if got := Increase(c.prev, c.cur); got != c.want {
			t.Errorf("Increase(%v, %v) = %v, want %v", c.prev, c.cur, got, c.want)
		}
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	if _, err := Parse(strings.NewReader("kafka_x{topic=\"a\" 1\n")); err == nil {
		t.Fatal("malformed exposition parsed")
	}
}

func TestCollectOverHTTP(t *testing.T) {
	page := exposition(1, 2, 3, 4, 5)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, page)
	}))
	defer srv.Close()
	s := New(strings.TrimPrefix(srv.URL, "http://"), srv.Client())
	b, err := s.Collect(context.Background(), time.Now())
	if err != nil || b.PartitionCount != 12 {
		t.Fatalf("Collect = %+v, %v", b, err)
	}
	bad := New(srv.URL+"/nope", srv.Client())
	if _, err := bad.Collect(context.Background(), time.Now()); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("Collect of a 404 = %v", err)
	}
}

// phasePage is a broker page with the request phases and the figures MSK's
// PER_BROKER metrics come from; every counter is n times a base value
// (scrape two pages). Fetch is FetchConsumer plus FetchFollower.
func phasePage(n float64) string {
	return strings.NewReplacer("{n}", fmt.Sprint(n), "{2n}", fmt.Sprint(2*n), "{4n}", fmt.Sprint(4*n), "{10n}", fmt.Sprint(10*n),
		"{40n}", fmt.Sprint(40*n), "{80n}", fmt.Sprint(80*n), "{100n}", fmt.Sprint(100*n), "{200n}", fmt.Sprint(200*n),
		"{1000n}", fmt.Sprint(1000*n)).Replace(`# TYPE kafka_network_requestmetrics_totaltimems summary
kafka_network_requestmetrics_totaltimems_sum{request="Produce"} {10n}
kafka_network_requestmetrics_totaltimems_count{request="Produce"} {n}
kafka_network_requestmetrics_totaltimems_sum{request="Fetch"} {200n}
kafka_network_requestmetrics_totaltimems_count{request="Fetch"} {4n}
kafka_network_requestmetrics_totaltimems_sum{request="FetchConsumer"} {100n}
kafka_network_requestmetrics_totaltimems_count{request="FetchConsumer"} {2n}
kafka_network_requestmetrics_totaltimems_sum{request="FetchFollower"} {100n}
kafka_network_requestmetrics_totaltimems_count{request="FetchFollower"} {2n}
# TYPE kafka_network_requestmetrics_localtimems summary
kafka_network_requestmetrics_localtimems_sum{request="Produce"} {4n}
kafka_network_requestmetrics_localtimems_count{request="Produce"} {n}
kafka_network_requestmetrics_localtimems_sum{request="Fetch"} {80n}
kafka_network_requestmetrics_localtimems_count{request="Fetch"} {4n}
kafka_network_requestmetrics_localtimems_sum{request="FetchConsumer"} {40n}
kafka_network_requestmetrics_localtimems_count{request="FetchConsumer"} {2n}
kafka_network_requestmetrics_localtimems_sum{request="FetchFollower"} {40n}
kafka_network_requestmetrics_localtimems_count{request="FetchFollower"} {2n}
kafka_network_requestmetrics_localtimems_sum{request="Metadata"} {4n}
kafka_network_requestmetrics_localtimems_count{request="Metadata"} {n}
# TYPE kafka_network_requestmetrics_responsesendtimems summary
kafka_network_requestmetrics_responsesendtimems_sum{request="Produce"} {n}
kafka_network_requestmetrics_responsesendtimems_count{request="Produce"} {n}
# TYPE kafka_network_requestmetrics_throttletimems summary
kafka_network_requestmetrics_throttletimems_sum{request="Produce"} {4n}
kafka_network_requestmetrics_throttletimems_count{request="Produce"} {n}
# TYPE kafka_network_requestmetrics_requestbytes summary
kafka_network_requestmetrics_requestbytes_sum{request="Produce"} {1000n}
kafka_network_requestmetrics_requestbytes_count{request="Produce"} {n}
kafka_network_requestmetrics_requestbytes_sum{request="Metadata"} {n}
kafka_network_requestmetrics_requestbytes_count{request="Metadata"} {n}
# TYPE kafka_server_brokertopicmetrics_replicationbytesin_total counter
kafka_server_brokertopicmetrics_replicationbytesin_total {1000n}
# TYPE kafka_server_brokertopicmetrics_replicationbytesout_total counter
kafka_server_brokertopicmetrics_replicationbytesout_total {200n}
# TYPE kafka_server_brokertopicmetrics_producemessageconversions_total counter
kafka_server_brokertopicmetrics_producemessageconversions_total{topic="a"} 0
# TYPE kafka_server_brokertopicmetrics_fetchmessageconversions_total counter
kafka_server_brokertopicmetrics_fetchmessageconversions_total{topic="a"} {n}
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total {n}
# TYPE weir_broker_network_busy_seconds_total counter
weir_broker_network_busy_seconds_total {2n}
# TYPE weir_broker_request_handlers gauge
weir_broker_request_handlers 4
# TYPE weir_broker_client_connection_count gauge
weir_broker_client_connection_count{listener="PLAINTEXT"} 3
# TYPE kafka_server_quota_queue_size gauge
kafka_server_quota_queue_size{resource="Produce"} 0
kafka_server_quota_queue_size{resource="Fetch"} 2
# TYPE go_gc_heap_live_bytes gauge
go_gc_heap_live_bytes 1048576
# TYPE go_gc_gomemlimit_bytes gauge
go_gc_gomemlimit_bytes 9.223372036854776e+18
`)
}

func TestRequestPhasesAndIdle(t *testing.T) {
	var r Rates
	t0 := time.Unix(1000, 0)
	convert := func(page string, at time.Time) *snapshot.Broker {
		fams, err := Parse(strings.NewReader(page))
		if err != nil {
			t.Fatal(err)
		}
		return r.Convert(fams, at)
	}
	b := convert(phasePage(1), t0)
	if b.ProcessCPUValid || b.RequestHandlerIdleValid || b.NetworkProcessorIdleValid || b.Requests["Produce"].Count != 0 {
		t.Fatalf("first scrape has rates: %+v", b)
	}
	if !b.ClientConnectionValid || b.ClientConnectionCount != 3 || !b.HeapValid || b.HeapLiveBytes != 1<<20 || b.HeapLimitBytes != 0 ||
		b.ThrottleQueueSize["Fetch"] != 2 || !b.ReplicationValid || !b.ConversionsValid || !b.RequestStatsValid {
		t.Fatalf("gauges %+v", b)
	}
	// 10 s later every counter is 11 times its first value: Produce saw 10
	// requests taking 100 ms in all, 40 of them local, 10 sending.
	b = convert(phasePage(11), t0.Add(10*time.Second))
	p := b.Requests["Produce"]
	if p.Count != 10 || !near(p.TotalMs, 10) || !near(p.LocalMs, 4) || !near(p.ResponseSendMs, 1) || !near(p.ThrottleMs, 4) {
		t.Errorf("produce phases %+v", p)
	}
	if fc := b.Requests[FetchConsumer]; fc.Count != 20 || !near(fc.TotalMs, 50) || !near(fc.LocalMs, 20) || !near(b.FetchTotalTimeMsMean, 50) {
		t.Errorf("consumer fetch phases %+v, FetchTotalTimeMsMean %v", fc, b.FetchTotalTimeMsMean)
	}
	// Worked time: Produce 40 local + 10 send, Fetch 800 local, Metadata 40
	// local, over 60 requests; the 20 follower fetches' 400 ms are exempt
	// from quotas.
	if !near(b.RequestTimeMsMean, (890-400)/float64(60-20)) || !near(b.RequestExemptTimeMsMean, 20) {
		t.Errorf("request time %v, exempt %v", b.RequestTimeMsMean, b.RequestExemptTimeMsMean)
	}
	if !near(b.RequestBytesMean, (10000+10)/20.0) || !near(b.ProduceRequestBytesPerSec, 1000) {
		t.Errorf("request bytes mean %v, produce bytes/s %v", b.RequestBytesMean, b.ProduceRequestBytesPerSec)
	}
	// 10 s of CPU over 10 s on 4 processors: 75 % idle; 20 s of network
	// work: half the processors.
	if !b.RequestHandlerIdleValid || !near(b.RequestHandlerIdlePercent, 75) {
		t.Errorf("request handler idle %v", b.RequestHandlerIdlePercent)
	}
	if !b.NetworkProcessorIdleValid || !near(b.NetworkProcessorIdlePercent, 50) {
		t.Errorf("network processor idle %v", b.NetworkProcessorIdlePercent)
	}
	if !near(b.ReplicationBytesInPerSec, 1000) || !near(b.ReplicationBytesOutPerSec, 200) || !near(b.FetchMessageConversionsPerSec, 1) ||
		len(b.Topics) != 1 || !near(b.Topics[0].FetchMessageConversionsPerSec, 1) {
		t.Errorf("replication %v %v, conversions %v, topics %+v", b.ReplicationBytesInPerSec, b.ReplicationBytesOutPerSec, b.FetchMessageConversionsPerSec, b.Topics)
	}
}

// TestIdleFromGauges: a broker without the counters (Kafka's JMX exporter)
// that exposes the one-minute idle gauges (0–1) gets them in percent.
func TestIdleFromGauges(t *testing.T) {
	fams, err := Parse(strings.NewReader(`# TYPE kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent gauge
kafka_server_kafkarequesthandlerpool_requesthandleravgidlepercent 0.75
# TYPE kafka_network_socketserver_networkprocessoravgidlepercent gauge
kafka_network_socketserver_networkprocessoravgidlepercent 0.5
`))
	if err != nil {
		t.Fatal(err)
	}
	var r Rates
	b := r.Convert(fams, time.Now())
	if !b.RequestHandlerIdleValid || b.RequestHandlerIdlePercent != 75 || !b.NetworkProcessorIdleValid || b.NetworkProcessorIdlePercent != 50 ||
		b.RequestStatsValid || b.ReplicationValid || b.ClientConnectionValid || b.HeapValid {
		t.Fatalf("%+v", b)
	}
}
