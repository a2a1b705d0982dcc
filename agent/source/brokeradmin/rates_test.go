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
