package cloudwatch

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
	"go.uber.org/goleak"

	"github.com/weirhq/weir/agent/pipeline"
	"github.com/weirhq/weir/agent/snapshot"
	"github.com/weirhq/weir/internal/await"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The wire format: what aws-sdk-go-v2's CloudWatch client sends, decoded
// from its Smithy RPC v2 CBOR body.
type wireRequest struct {
	Namespace  string
	MetricData []wireDatum
}

type wireDatum struct {
	MetricName        string
	Dimensions        []struct{ Name, Value string }
	Timestamp         time.Time // CBOR tag 1, epoch seconds
	Value             float64
	Unit              string
	StorageResolution int
}

func (d wireDatum) dims() string {
	var parts []string
	for _, x := range d.Dimensions {
		parts = append(parts, x.Name+"="+x.Value)
	}
	return strings.Join(parts, ",")
}

// fakeCloudWatch is a CloudWatch endpoint that decodes PutMetricData and
// can fail the next requests with a status and an error type.
type fakeCloudWatch struct {
	srv *httptest.Server

	mu struct {
		sync.Mutex
		requests []wireRequest
		attempts int
		fail     []failure // answered in order before succeeding
		bodies   []int     // decompressed sizes
		gzipped  int       // requests that came gzipped
	}
}

type failure struct {
	status int
	code   string // __type, and the query-compatible error code
}

func newFake(t *testing.T) *fakeCloudWatch {
	f := &fakeCloudWatch{}
	f.srv = newFakeServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func newFakeServer(f *fakeCloudWatch) *httptest.Server {
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f.srv
}

func (f *fakeCloudWatch) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/service/GraniteServiceVersion20100801/operation/PutMetricData" ||
		r.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" || r.Header.Get("Content-Type") != "application/cbor" {
		http.Error(w, fmt.Sprintf("unexpected request %s %s %v", r.Method, r.URL.Path, r.Header), http.StatusBadRequest)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDTEST/") {
		http.Error(w, "unsigned request", http.StatusForbidden)
		return
	}
	raw, _ := io.ReadAll(r.Body)
	body := raw
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err == nil {
			body, err = io.ReadAll(zr)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mu.attempts++
	if r.Header.Get("Content-Encoding") == "gzip" {
		f.mu.gzipped++
	}
	if len(f.mu.fail) > 0 {
		fl := f.mu.fail[0]
		f.mu.fail = f.mu.fail[1:]
		writeCBOR(w, fl.status, map[string]string{"__type": "com.amazonaws.cloudwatch#" + fl.code, "message": "injected"},
			fl.code+";"+map[bool]string{true: "Receiver", false: "Sender"}[fl.status >= 500])
		return
	}
	var req wireRequest
	if err := cbor.Unmarshal(body, &req); err != nil {
		http.Error(w, "decoding CBOR: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(req.MetricData) > MaxBatch || len(body) > MaxRequestBytes {
		writeCBOR(w, 400, map[string]string{"__type": "InvalidParameterValue", "message": "too big"}, "InvalidParameterValue;Sender")
		return
	}
	f.mu.requests = append(f.mu.requests, req)
	f.mu.bodies = append(f.mu.bodies, len(body))
	writeCBOR(w, 200, map[string]string{}, "")
}

func writeCBOR(w http.ResponseWriter, status int, v any, queryError string) {
	b, _ := cbor.Marshal(v)
	w.Header().Set("Content-Type", "application/cbor")
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	if queryError != "" {
		w.Header().Set("X-Amzn-Query-Error", queryError)
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (f *fakeCloudWatch) received() ([]wireRequest, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]wireRequest(nil), f.mu.requests...), f.mu.attempts
}

func (f *fakeCloudWatch) failNext(fl ...failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mu.fail = append(f.mu.fail, fl...)
}

// testEnv gives the SDK static credentials and keeps it off IMDS and any
// shared config on the machine.
func testEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_CLOUDWATCH", "")
}

func newExporter(t *testing.T, o Options) *Exporter {
	t.Helper()
	testEnv(t)
	if o.MaxBackoff == 0 {
		o.MaxBackoff = 10 * time.Millisecond
	}
	e, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var testTime = time.Unix(1_700_000_000, 0)

// testSnapshot is broker 2's agent on the active controller, with two
// topics of two partitions and a group on each.
func testSnapshot() *snapshot.Snapshot {
	s := &snapshot.Snapshot{Time: testTime, ClusterName: "east", BrokerID: 2,
		Cluster: &snapshot.Cluster{Brokers: []snapshot.BrokerMeta{{ID: 1}, {ID: 2}}},
		Host: &snapshot.Host{CPU: snapshot.CPUPercent{Valid: true, User: 30, System: 10, Idle: 55, IOWait: 5},
			Memory: snapshot.Memory{TotalBytes: 1000, UsedBytes: 600, FreeBytes: 300},
			Disks:  []snapshot.Disk{{UsedPercent: 25}, {UsedPercent: 40}}},
		Broker: &snapshot.Broker{BytesInPerSec: 2048, BytesOutPerSec: 1024, MessagesInPerSec: 20, UnderReplicatedPartitions: 1,
			PartitionCount: 4, LeaderCount: 2, ProduceTotalTimeMsMean: 3.5, FetchTotalTimeMsMean: 501, ConnectionCount: 7,
			ActiveControllerCount: 1, GlobalTopicCount: 2, GlobalPartitionCount: 4,
			Topics: []snapshot.TopicRates{{Topic: "orders", BytesInPerSec: 2000, MessagesInPerSec: 19}, {Topic: "tmp", BytesInPerSec: 48}}},
	}
	for _, topic := range []string{"orders", "tmp"} {
		g := snapshot.Group{Name: topic + "-readers", Members: 2}
		for p := range int32(2) {
			g.Partitions = append(g.Partitions, snapshot.GroupPartition{Topic: topic, Partition: p, Committed: 90, End: 100 + int64(p), Lag: 10 + int64(p), TimeLagMs: 1500 * int64(p+1)})
		}
		s.Groups = append(s.Groups, g)
	}
	return s
}

func TestPutMetricDataOnTheWire(t *testing.T) {
	f := newFake(t)
	e := newExporter(t, Options{Endpoint: f.srv.URL, Level: snapshot.LevelPerTopicPerPartition})
	if err := e.Export(context.Background(), testSnapshot()); err != nil {
		t.Fatal(err)
	}
	reqs, _ := f.received()
	if len(reqs) != 1 || reqs[0].Namespace != "AWS/Kafka" {
		t.Fatalf("%d requests, namespace %q", len(reqs), reqs[0].Namespace)
	}
	got := map[string]wireDatum{}
	for _, d := range reqs[0].MetricData {
		got[d.MetricName+"{"+d.dims()+"}"] = d
		if !d.Timestamp.Equal(testTime) {
			t.Errorf("%s: timestamp %v", d.MetricName, d.Timestamp)
		}
	}
	const c, b = "Cluster Name=east", "Broker ID=2"
	for key, want := range map[string]struct {
		v    float64
		unit string
	}{
		"ActiveControllerCount{" + c + "}":                                             {1, "Count"},
		"GlobalPartitionCount{" + c + "}":                                              {4, "Count"},
		"GlobalTopicCount{" + c + "}":                                                  {2, "Count"},
		"OfflinePartitionsCount{" + c + "}":                                            {0, "Count"},
		"BytesInPerSec{" + c + "," + b + "}":                                           {2048, "Bytes/Second"},
		"BytesOutPerSec{" + c + "," + b + "}":                                          {1024, "Bytes/Second"},
		"MessagesInPerSec{" + c + "," + b + "}":                                        {20, "Count/Second"},
		"CpuUser{" + c + "," + b + "}":                                                 {30, "Percent"},
		"CpuIoWait{" + c + "," + b + "}":                                               {5, "Percent"},
		"MemoryUsed{" + c + "," + b + "}":                                              {600, "Bytes"},
		"MemoryFree{" + c + "," + b + "}":                                              {300, "Bytes"},
		"KafkaDataLogsDiskUsed{" + c + "," + b + "}":                                   {40, "Percent"},
		"UnderReplicatedPartitions{" + c + "," + b + "}":                               {1, "Count"},
		"ProduceTotalTimeMsMean{" + c + "," + b + "}":                                  {3.5, "Milliseconds"},
		"FetchConsumerTotalTimeMsMean{" + c + "," + b + "}":                            {501, "Milliseconds"},
		"ConnectionCount{" + c + "," + b + "}":                                         {7, "Count"},
		"BytesInPerSec{" + c + "," + b + ",Topic=tmp}":                                 {48, "Bytes/Second"},
		"MessagesInPerSec{" + c + "," + b + ",Topic=orders}":                           {19, "Count/Second"},
		"SumOffsetLag{" + c + ",Consumer Group=orders-readers,Topic=orders}":           {21, "Count"},
		"MaxOffsetLag{" + c + ",Consumer Group=orders-readers,Topic=orders}":           {11, "Count"},
		"EstimatedMaxTimeLag{" + c + ",Consumer Group=tmp-readers,Topic=tmp}":          {3, "Seconds"},
		"OffsetLag{" + c + ",Consumer Group=tmp-readers,Topic=tmp,Partition=1}":        {11, "Count"},
		"EstimatedTimeLag{" + c + ",Consumer Group=tmp-readers,Topic=tmp,Partition=0}": {1.5, "Seconds"},
	} {
		d, ok := got[key]
		if !ok {
			t.Errorf("%s not sent", key)
			continue
		}
		if d.Value != want.v || d.Unit != want.unit {
			t.Errorf("%s = %v %s, want %v %s", key, d.Value, d.Unit, want.v, want.unit)
		}
	}
}

func TestLevels(t *testing.T) {
	names := func(o Options, s *snapshot.Snapshot) map[string]int {
		out := map[string]int{}
		for _, d := range Metrics(s, o) {
			out[*d.MetricName+"/"+fmt.Sprint(len(d.Dimensions))]++
		}
		return out
	}
	def := names(Options{}, testSnapshot())
	for key, n := range map[string]int{"BytesInPerSec/2": 1, "BytesInPerSec/3": 0, "SumOffsetLag/3": 2, "OffsetLag/4": 0,
		"ConnectionCreationRate/2": 0, "CpuUser/2": 1, "GlobalTopicCount/1": 1} {
		if def[key] != n {
			t.Errorf("DEFAULT %s: %d, want %d", key, def[key], n)
		}
	}
	if got := names(Options{Level: snapshot.LevelPerBroker}, testSnapshot()); got["ConnectionCreationRate/2"] != 1 || got["BytesInPerSec/3"] != 0 {
		t.Errorf("PER_BROKER: %v", got)
	}
	if got := names(Options{Level: snapshot.LevelPerTopicPerBroker, Topics: func(s string) bool { return s == "tmp" }}, testSnapshot()); got["BytesInPerSec/3"] != 1 || got["SumOffsetLag/3"] != 1 || got["OffsetLag/4"] != 0 {
		t.Errorf("PER_TOPIC_PER_BROKER with a topic filter: %v", got)
	}
	if got := names(Options{Level: snapshot.LevelPerTopicPerPartition, Groups: func(g string) bool { return g == "tmp-readers" }}, testSnapshot()); got["OffsetLag/4"] != 2 || got["EstimatedTimeLag/4"] != 2 {
		t.Errorf("PER_TOPIC_PER_PARTITION with a group filter: %v", got)
	}
	// A broker that is not the controller publishes no cluster-wide metrics.
	s := testSnapshot()
	s.Broker.ActiveControllerCount = 0
	if got := names(Options{}, s); got["GlobalTopicCount/1"] != 0 || got["SumOffsetLag/3"] != 0 || got["ActiveControllerCount/1"] != 1 || got["BytesInPerSec/2"] != 1 {
		t.Errorf("follower broker: %v", got)
	}
	// A cluster-wide agent publishes no per-broker metrics.
	s = testSnapshot()
	s.BrokerID, s.Broker = -1, nil
	if got := names(Options{}, s); got["GlobalTopicCount/1"] != 1 || got["SumOffsetLag/3"] != 2 || got["CpuUser/2"] != 0 {
		t.Errorf("cluster-wide agent: %v", got)
	}
}

// manyLags is a snapshot of n partitions' lag, one CloudWatch metric each
// at PER_TOPIC_PER_PARTITION (TimeLagMs −1: no EstimatedTimeLag).
func manyLags(n int, groupName string) *snapshot.Snapshot {
	g := snapshot.Group{Name: groupName}
	for p := range n {
		g.Partitions = append(g.Partitions, snapshot.GroupPartition{Topic: "t", Partition: int32(p), Lag: int64(p), TimeLagMs: -1})
	}
	return &snapshot.Snapshot{Time: testTime, ClusterName: "east", BrokerID: -1, Groups: []snapshot.Group{g}}
}

func TestBatching(t *testing.T) {
	f := newFake(t)
	e := newExporter(t, Options{Endpoint: f.srv.URL, Level: snapshot.LevelPerTopicPerPartition})
	// 2,497 OffsetLag + SumOffsetLag + MaxOffsetLag = 2,499 metrics → 1000, 1000, 499.
	if err := e.Export(context.Background(), manyLags(2497, "g")); err != nil {
		t.Fatal(err)
	}
	reqs, attempts := f.received()
	var sizes []int
	seen := map[string]bool{}
	for _, r := range reqs {
		sizes = append(sizes, len(r.MetricData))
		for _, d := range r.MetricData {
			seen[d.MetricName+d.dims()] = true
		}
	}
	if fmt.Sprint(sizes) != "[1000 1000 499]" || attempts != 3 || len(seen) != 2499 {
		t.Fatalf("batches %v in %d attempts, %d distinct metrics", sizes, attempts, len(seen))
	}
	if f.mu.gzipped != 3 { // the SDK gzips bodies over 10 KiB
		t.Errorf("%d of 3 requests gzipped", f.mu.gzipped)
	}

	// Long dimension values (CloudWatch allows 1,024 characters) hit the
	// 1 MB payload limit before the 1,000-metric one.
	f2 := newFake(t)
	e2 := newExporter(t, Options{Endpoint: f2.srv.URL, Level: snapshot.LevelPerTopicPerPartition})
	if err := e2.Export(context.Background(), manyLags(1500, strings.Repeat("g", 1024))); err != nil {
		t.Fatal(err)
	}
	reqs, _ = f2.received()
	total := 0
	for i, r := range reqs {
		total += len(r.MetricData)
		if f2.mu.bodies[i] > MaxRequestBytes {
			t.Errorf("request %d: %d bytes", i, f2.mu.bodies[i])
		}
	}
	if len(reqs) < 2 || total != 1502 || len(reqs[0].MetricData) >= 1000 {
		t.Fatalf("%d requests, %d metrics, first %d", len(reqs), total, len(reqs[0].MetricData))
	}
}

func TestRetries(t *testing.T) {
	for _, c := range []struct {
		name string
		fail []failure
	}{
		{"500", []failure{{500, "InternalServiceError"}}},
		{"503 twice", []failure{{503, "ServiceUnavailable"}, {503, "ServiceUnavailable"}}},
		{"throttling", []failure{{400, "Throttling"}}},
		{"throttling and 500", []failure{{400, "Throttling"}, {500, "InternalServiceError"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t)
			e := newExporter(t, Options{Endpoint: f.srv.URL})
			f.failNext(c.fail...)
			if err := e.Export(context.Background(), testSnapshot()); err != nil {
				t.Fatalf("export failed despite retries: %v", err)
			}
			reqs, attempts := f.received()
			if len(reqs) != 1 || attempts != len(c.fail)+1 {
				t.Fatalf("%d requests stored in %d attempts", len(reqs), attempts)
			}
		})
	}
	t.Run("gives up", func(t *testing.T) {
		f := newFake(t)
		e := newExporter(t, Options{Endpoint: f.srv.URL, MaxAttempts: 3})
		f.failNext(failure{500, "InternalServiceError"}, failure{500, "InternalServiceError"}, failure{500, "InternalServiceError"})
		err := e.Export(context.Background(), testSnapshot())
		if _, attempts := f.received(); err == nil || attempts != 3 {
			t.Fatalf("err %v after %d attempts", err, attempts)
		}
	})
	t.Run("no retry on a client error", func(t *testing.T) {
		f := newFake(t)
		e := newExporter(t, Options{Endpoint: f.srv.URL})
		f.failNext(failure{400, "InvalidParameterValue"})
		err := e.Export(context.Background(), testSnapshot())
		if _, attempts := f.received(); err == nil || !strings.Contains(err.Error(), "InvalidParameterValue") || attempts != 1 {
			t.Fatalf("err %v after %d attempts", err, attempts)
		}
	})
}

func TestEndpointFromTheEnvironment(t *testing.T) {
	f := newFake(t)
	testEnv(t)
	t.Setenv("AWS_ENDPOINT_URL_CLOUDWATCH", f.srv.URL)
	e, err := New(context.Background(), Options{Namespace: "Weir/Kafka"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Export(context.Background(), testSnapshot()); err != nil {
		t.Fatal(err)
	}
	if reqs, _ := f.received(); len(reqs) != 1 || reqs[0].Namespace != "Weir/Kafka" {
		t.Fatalf("requests %d", len(reqs))
	}
}

// recorder counts what a healthy sink exported.
type recorder struct {
	mu sync.Mutex
	n  int
}

func (r *recorder) Name() string { return "ok" }
func (r *recorder) Export(context.Context, *snapshot.Snapshot) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	return nil
}
func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// TestDeadEndpointNeverBlocksCollection: CloudWatch refusing connections,
// hanging, or always throttling costs the collection nothing; failures and
// drops are counted and the queue stays bounded.
func TestDeadEndpointNeverBlocksCollection(t *testing.T) {
	refused := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln.Close()
		return "http://" + ln.Addr().String()
	}
	hanging := func(t *testing.T) string {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(func() { close(release); srv.Close() })
		return srv.URL
	}
	throttling := func(t *testing.T) string {
		f := newFake(t)
		fails := make([]failure, 1000)
		for i := range fails {
			fails[i] = failure{400, "Throttling"}
		}
		f.failNext(fails...)
		return f.srv.URL
	}
	for name, endpoint := range map[string]func(*testing.T) string{"refused": refused, "hanging": hanging, "throttling": throttling} {
		t.Run(name, func(t *testing.T) {
			e := newExporter(t, Options{Endpoint: endpoint(t), CallTimeout: 50 * time.Millisecond})
			ok := &recorder{}
			p := pipeline.New([]snapshot.Exporter{e, ok}, pipeline.Options{ExportTimeout: 200 * time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { p.Run(ctx); close(done) }()
			const n = 20
			for i := range n {
				start := time.Now()
				p.Publish(testSnapshot())
				if d := time.Since(start); d > 50*time.Millisecond {
					t.Fatalf("Publish took %v", d)
				}
				if h := p.Health()[0]; h.Queued > pipeline.DefaultQueueSize {
					t.Fatalf("queue grew to %d", h.Queued)
				}
				await.True(t, 5*time.Second, "the healthy sink to keep up", func() bool { return ok.count() == i+1 })
			}
			await.For(t, 10*time.Second, "every cloudwatch export failed or dropped", func() error {
				if h := p.Health()[0]; h.Errors+h.Dropped != n || h.Queued != 0 {
					return fmt.Errorf("cloudwatch health %+v", h)
				}
				return nil
			})
			if h := p.Health()[0]; h.Exported != 0 || h.LastError == "" {
				t.Fatalf("cloudwatch health %+v", h)
			}
			cancel()
			<-done
		})
	}
}

// value finds a metric by name and dimensions ("Name=value,…" in order).
func value(data []wireDatum, name, dims string) (wireDatum, bool) {
	for _, d := range data {
		if d.MetricName == name && d.dims() == dims {
			return d, true
		}
	}
	return wireDatum{}, false
}

func wire(t *testing.T, s *snapshot.Snapshot, level snapshot.Level) []wireDatum {
	t.Helper()
	var out []wireDatum
	for _, d := range Metrics(s, Options{Level: level}) {
		w := wireDatum{MetricName: *d.MetricName, Value: *d.Value, Unit: string(d.Unit)}
		for _, dm := range d.Dimensions {
			w.Dimensions = append(w.Dimensions, struct{ Name, Value string }{*dm.Name, *dm.Value})
		}
		out = append(out, w)
	}
	return out
}

// TestStorageHostAndBrokerFigures checks the values of the metrics computed
// from more than one field: KafkaDataLogsDiskUsed from DescribeLogDirs (or
// statfs), the cluster's fullest broker, HeapMemoryAfterGC, the interval's
// network counts, UserPartitionExists.
func TestStorageHostAndBrokerFigures(t *testing.T) {
	const c, b = "Cluster Name=east", "Cluster Name=east,Broker ID=2"
	s := testSnapshot()
	s.Storage = []snapshot.BrokerStorage{
		{BrokerID: 1, LogDirs: []snapshot.LogDirStorage{{Dir: "/d", TotalBytes: 1000, UsableBytes: 100}}},
		{BrokerID: 2, LogDirs: []snapshot.LogDirStorage{{Dir: "/d", TotalBytes: 1000, UsableBytes: 750}, {Dir: "/e", TotalBytes: 1000, UsableBytes: 750}}},
	}
	s.Broker.HeapLiveBytes, s.Broker.HeapValid = 100, true
	s.Broker.ClientConnectionCount, s.Broker.ClientConnectionValid = 5, true
	s.Host.NetInterval = snapshot.NetCounts{Valid: true, RxBytes: 1000, RxDropped: 3}
	s.Host.TCP = snapshot.TCPOpens{Valid: true, InInterval: 7, IntervalValid: true}
	s.Cluster.Topics = []snapshot.Topic{{Name: "__weir_metrics", Partitions: []snapshot.Partition{{Replicas: []int32{2}}}},
		{Name: "orders", Partitions: []snapshot.Partition{{Replicas: []int32{1}}}}}
	data := wire(t, s, snapshot.LevelDefault)
	for _, w := range []struct {
		name, dims string
		v          float64
	}{
		{"KafkaDataLogsDiskUsed", b, 25}, // 500 of 2000 bytes, not statfs's 40
		{"KafkaDataLogsDiskUsed", c, 90}, // broker 1's
		{"HeapMemoryAfterGC", b, 10},     // 100 of the host's 1000 bytes
		{"NetworkRxBytes", b, 1000},
		{"NetworkRxDropped", b, 3},
		{"UserPartitionExists", b, 0}, // only a "__" topic
		{"ClientConnectionCount", b + ",Client Authentication=Unauthenticated", 5},
	} {
		if d, ok := value(data, w.name, w.dims); !ok || d.Value != w.v {
			t.Errorf("%s{%s} = %v (sent %v), want %v", w.name, w.dims, d.Value, ok, w.v)
		}
	}
	if _, ok := value(data, "TcpConnections", b); ok {
		t.Error("TcpConnections sent at DEFAULT")
	}
	if d, ok := value(wire(t, s, snapshot.LevelPerBroker), "TcpConnections", b); !ok || d.Value != 7 {
		t.Errorf("TcpConnections %v at PER_BROKER", d.Value)
	}

	// A limit set with GOMEMLIMIT is the heap's denominator; a broker that
	// answers -1 (Kafka before 3.3) falls back to statfs's fullest log dir.
	s.Broker.HeapLimitBytes = 400
	s.Storage[1].LogDirs[0].TotalBytes = -1
	s.Cluster.Topics[1].Partitions[0].Replicas = []int32{1, 2}
	data = wire(t, s, snapshot.LevelDefault)
	for _, w := range []struct {
		name string
		v    float64
	}{{"HeapMemoryAfterGC", 25}, {"KafkaDataLogsDiskUsed", 40}, {"UserPartitionExists", 1}} {
		if d, ok := value(data, w.name, b); !ok || d.Value != w.v {
			t.Errorf("%s = %v (sent %v), want %v", w.name, d.Value, ok, w.v)
		}
	}
}
