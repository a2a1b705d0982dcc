package console

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fakeAPI answers the Cruise Control endpoints the console reads with
// canned bodies, and records the POSTs it gets.
type fakeAPI struct {
	posts []string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/kafkacruisecontrol/")
	if err := r.ParseForm(); err != nil { // as the real API does
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodPost {
		f.posts = append(f.posts, name+"?"+r.URL.RawQuery)
		w.Write([]byte(`{}`))
		return
	}
	switch name {
	case "load":
		w.Write([]byte(`{"brokers":[{"Broker":0,"Rack":"a","BrokerState":"ALIVE","CpuPct":12.5,"DiskPct":40,"DiskMB":4,"LeaderNwInRate":10,"NwOutRate":5,"Replicas":3,"Leaders":2,"NetworkInCapacity":1000,"NetworkOutCapacity":1000}]}`))
	case "state":
		if r.URL.Query().Get("substates") == "anomaly_detector" {
			w.Write([]byte(`{"AnomalyDetectorState":{"selfHealingEnabled":["BROKER_FAILURE"],"ongoingSelfHealingAnomaly":"None",
				"recentBrokerFailures":[{"anomalyId":"7","detectionMs":1700000000000,"status":"FIX_STARTED","description":"broker 2 is dead","brokers":[2]}]}}`))
			return
		}
		w.Write([]byte(`{"ExecutorState":{"state":"NO_TASK_IN_PROGRESS"}}`))
	case "proposals":
		w.Write([]byte(`{"summary":{"numReplicaMovements":1,"dataToMoveBytes":1000000},
			"goalSummary":[{"goal":"RackAwareGoal","status":"NO-ACTION","hard":true}],
			"proposals":[{"topicPartition":"orders-0","oldLeader":0,"oldReplicas":[0],"newReplicas":[1],"dataToMoveMB":1}],
			"loadBeforeOptimization":{"brokers":[{"Broker":0,"Replicas":2},{"Broker":1,"Replicas":0}]},
			"loadAfterOptimization":{"brokers":[{"Broker":0,"Replicas":1},{"Broker":1,"Replicas":1}]}}`))
	default:
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]string{"errorMessage": "no endpoint " + name})
	}
}

type fixture struct {
	con  *Console
	api  *fakeAPI
	srv  *httptest.Server
	cl   *kgo.Client
	fake *kfake.Cluster
}

func newFixture(t *testing.T, o Options) *fixture {
	t.Helper()
	fake, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fake.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(fake.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	f := &fixture{api: &fakeAPI{}, cl: cl, fake: fake}
	o.Client, o.Seeds, o.API = cl, fake.ListenAddrs(), f.api
	if f.con, err = New(o); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(f.con.Handler())
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) produce(t *testing.T, recs ...*kgo.Record) {
	t.Helper()
	if err := f.cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// get fetches a page, returning its status and body.
func (f *fixture) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(f.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// post submits a form the way the console's own pages do.
func (f *fixture) post(t *testing.T, path string, form url.Values, headers map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (f *fixture) form(kv ...string) url.Values {
	v := url.Values{"token": {f.con.token()}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestPagesRender(t *testing.T) {
	f := newFixture(t, Options{})
	f.produce(t, &kgo.Record{Topic: "orders", Partition: 0, Key: []byte("k1"), Value: []byte(`{"id":1}`)})
	for _, tc := range []struct{ path, want string }{
		{"/console/", "Cluster overview"},
		{"/console/", "12.5 %"},
		{"/console/load", "Load: broker"},
		{"/console/topics", `data-topic="orders"`},
		{"/console/topics/orders", "Partitions"},
		{"/console/topics/orders/messages", "&#34;id&#34;: 1"},
		{"/console/topics/orders/search", "Search"},
		{"/console/groups", "Consumer groups"},
		{"/console/rebalance", "Moves per broker"},
		{"/console/rebalance", "NO_TASK_IN_PROGRESS"},
		{"/console/anomalies", "broker 2 is dead"},
		{"/console/operations", "not configured"},
		{"/console/autoscaler", "not configured"},
		{"/console/static/console.js", "X-Console-Partial"},
	} {
		code, body := f.get(t, tc.path)
		if code != http.StatusOK || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s: %d, want 200 with %q in:\n%.1500s", tc.path, code, tc.want, body[strings.Index(body, "<main"):])
		}
	}
}

func TestBadParametersAre400(t *testing.T) {
	f := newFixture(t, Options{})
	for _, path := range []string{
		"/console/topics/bad%20name",
		"/console/topics/orders/messages?partition=-1",
		"/console/topics/orders/messages?partition=9",
		"/console/topics/orders/messages?limit=100000",
		"/console/topics/orders/messages?format=xml",
		"/console/topics/orders/messages?offset=abc",
		"/console/topics/orders/messages?offset=1&timestamp=2026-01-01T00:00:00Z",
		"/console/topics/orders/messages?timestamp=yesterday",
		"/console/topics/orders/search?q=x&mode=groovy",
		"/console/topics/orders/search?q=(&mode=regex",
		"/console/topics/orders/search?q=x&field=body",
		"/console/topics/orders/search?q=x&max_bytes=999999999999",
		"/console/topics/orders/search?q=x&max_ms=0",
		"/console/topics?filter=" + strings.Repeat("x", 300),
	} {
		code, body := f.get(t, path)
		if code != http.StatusBadRequest || !strings.Contains(body, `id="error-message"`) {
			t.Errorf("GET %s: %d, want a 400 page:\n%.400s", path, code, body)
		}
	}
	if code, _ := f.get(t, "/console/nothing-here"); code != http.StatusNotFound {
		t.Errorf("an unknown page: %d, want 404", code)
	}
	if code, _ := f.get(t, "/console/topics/nosuchtopic/messages"); code != http.StatusNotFound {
		t.Errorf("messages of a missing topic: %d, want 404", code)
	}
}

func TestPostsNeedTokenAndSameOrigin(t *testing.T) {
	f := newFixture(t, Options{})
	form := f.form("name", "new-topic", "partitions", "1", "replication_factor", "1")
	bad := url.Values{"name": {"new-topic"}}
	if code, _ := f.post(t, "/console/topics", bad, nil); code != http.StatusForbidden {
		t.Errorf("without the token: %d, want 403", code)
	}
	if code, _ := f.post(t, "/console/topics", form, map[string]string{"Sec-Fetch-Site": "cross-site"}); code != http.StatusForbidden {
		t.Errorf("cross-site: %d, want 403", code)
	}
	if code, _ := f.post(t, "/console/topics", form, map[string]string{"Origin": "http://evil.example"}); code != http.StatusForbidden {
		t.Errorf("another origin: %d, want 403", code)
	}
	if len(f.con.Actions()) != 0 {
		t.Errorf("refused posts were acted on: %+v", f.con.Actions())
	}
}

func TestTopicLifecycle(t *testing.T) {
	f := newFixture(t, Options{})
	for _, form := range []url.Values{
		f.form("name", "a b"),
		f.form("name", "x", "partitions", "0"),
		f.form("name", "x", "partitions", "two"),
		f.form("name", "x", "replication_factor", "99"),
		f.form("name", "x", "configs", "not a config line"),
	} {
		if code, body := f.post(t, "/console/topics", form, nil); code != http.StatusBadRequest {
			t.Errorf("create %v: %d, want 400:\n%.300s", form, code, body)
		}
	}
	code, _ := f.post(t, "/console/topics", f.form("name", "made", "partitions", "3", "replication_factor", "1", "configs", "retention.ms=1000\n# c\n"), nil)
	if code != http.StatusSeeOther {
		t.Fatalf("create: %d, want 303", code)
	}
	if code, body := f.get(t, "/console/topics/made"); code != 200 || !strings.Contains(body, "3 partitions") {
		t.Errorf("the new topic: %d\n%.600s", code, body)
	}
	if code, _ := f.post(t, "/console/topics/made/config", f.form("key", "retention.ms", "value", "5000"), nil); code != http.StatusBadRequest {
		t.Errorf("alter without confirm: %d, want 400", code)
	}
	if code, _ := f.post(t, "/console/topics/made/config", f.form("key", "Bad Key", "value", "1", "confirm", "yes"), nil); code != http.StatusBadRequest {
		t.Errorf("alter a bad key: %d, want 400", code)
	}
	if code, body := f.post(t, "/console/topics/made/config", f.form("key", "retention.ms", "value", "5000", "confirm", "yes"), nil); code != http.StatusSeeOther {
		t.Errorf("alter: %d\n%.300s", code, body)
	}
	if code, _ := f.post(t, "/console/topics/__consumer_offsets/delete", f.form("confirm", "__consumer_offsets"), nil); code != http.StatusBadRequest {
		t.Errorf("delete an internal topic: %d, want 400", code)
	}
	if code, _ := f.post(t, "/console/topics/made/delete", f.form("confirm", "mad"), nil); code != http.StatusBadRequest {
		t.Errorf("delete with a mistyped name: %d, want 400", code)
	}
	if code, _ := f.post(t, "/console/topics/made/delete", f.form("confirm", "made"), nil); code != http.StatusSeeOther {
		t.Errorf("delete: %d, want 303", code)
	}
	if _, body := f.get(t, "/console/topics"); strings.Contains(body, `data-topic="made"`) {
		t.Errorf("the deleted topic is still listed")
	}
	acts := f.con.Actions()
	if len(acts) != 3 || acts[0].What != "delete topic" || acts[2].What != "create topic" || acts[0].Err != "" {
		t.Errorf("actions: %+v", acts)
	}
}

// hideTopic makes the fake cluster answer Metadata naming topic with
// UNKNOWN_TOPIC_OR_PARTITION, as a broker that has not applied the
// topic's creation yet does, for the first n such requests (every one
// when n < 0); the count of answers hidden so far is returned.
func (f *fixture) hideTopic(topic string, n int32) *atomic.Int32 {
	var hidden atomic.Int32
	f.fake.ControlKey(int16(kmsg.Metadata), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		f.fake.KeepControl()
		req := kr.(*kmsg.MetadataRequest)
		if n >= 0 && hidden.Load() >= n || !slices.ContainsFunc(req.Topics, func(rt kmsg.MetadataRequestTopic) bool {
			return rt.Topic != nil && *rt.Topic == topic
		}) {
			return nil, nil, false
		}
		hidden.Add(1)
		resp := req.ResponseKind().(*kmsg.MetadataResponse)
		resp.Version = req.Version
		st := kmsg.NewMetadataResponseTopic()
		st.Topic, st.ErrorCode = kmsg.StringPtr(topic), kerr.UnknownTopicOrPartition.Code
		resp.Topics = append(resp.Topics, st)
		return resp, nil, true
	})
	return &hidden
}

// The create form redirects to the new topic's page only once every
// broker serves the topic: a broker that has not applied the creation
// yet would make that page a 404 (visible.go).
func TestCreateWaitsUntilTheTopicIsServed(t *testing.T) {
	f := newFixture(t, Options{})
	hidden := f.hideTopic("fresh", 5)
	code, body := f.post(t, "/console/topics", f.form("name", "fresh", "partitions", "2", "replication_factor", "1"), nil)
	if code != http.StatusSeeOther {
		t.Fatalf("create: %d, want 303:\n%.600s", code, body)
	}
	if n := hidden.Load(); n != 5 {
		t.Errorf("the create answered after %d of the 5 answers that did not know the topic yet", n)
	}
	if code, body := f.get(t, "/console/topics/fresh"); code != http.StatusOK || !strings.Contains(body, "2 partitions") {
		t.Errorf("the page the create redirects to: %d\n%.600s", code, body)
	}
}

// A topic no broker serves within the page's timeout is a 504 page that
// says the topic was created, not a redirect to a 404.
func TestCreateNotServedInTimeIs504(t *testing.T) {
	f := newFixture(t, Options{Timeout: 400 * time.Millisecond})
	f.hideTopic("slow", -1)
	code, body := f.post(t, "/console/topics", f.form("name", "slow", "partitions", "1", "replication_factor", "1"), nil)
	if code != http.StatusGatewayTimeout || !strings.Contains(body, "topic slow was created, but not every broker serves it") {
		t.Errorf("create of a topic never served: %d, want 504 saying so:\n%.800s", code, body)
	}
	if acts := f.con.Actions(); len(acts) != 1 || acts[0].Err != "" {
		t.Errorf("the create is recorded as done: %+v", acts)
	}
}

func TestRebalanceNeedsConfirm(t *testing.T) {
	f := newFixture(t, Options{})
	if code, _ := f.post(t, "/console/rebalance/execute", f.form(), nil); code != http.StatusBadRequest {
		t.Errorf("execute without confirm: %d, want 400", code)
	}
	if code, _ := f.post(t, "/console/rebalance/execute", f.form("confirm", "yes", "throttle", "-5"), nil); code != http.StatusBadRequest {
		t.Errorf("execute with a bad throttle: %d, want 400", code)
	}
	if code, _ := f.post(t, "/console/rebalance/stop", f.form(), nil); code != http.StatusBadRequest {
		t.Errorf("stop without confirm: %d, want 400", code)
	}
	if len(f.api.posts) != 0 {
		t.Fatalf("unconfirmed posts reached the API: %v", f.api.posts)
	}
	if code, _ := f.post(t, "/console/rebalance/execute", f.form("confirm", "yes", "throttle", "1000"), nil); code != http.StatusSeeOther {
		t.Errorf("execute: %d, want 303", code)
	}
	if len(f.api.posts) != 1 || !strings.Contains(f.api.posts[0], "dryrun=false") || !strings.Contains(f.api.posts[0], "replication_throttle=1000") {
		t.Errorf("the API got %v", f.api.posts)
	}
}

func TestGroupReset(t *testing.T) {
	f := newFixture(t, Options{})
	for i := 0; i < 5; i++ {
		f.produce(t, &kgo.Record{Topic: "orders", Partition: 0, Value: []byte("v")})
	}
	for _, form := range []url.Values{
		f.form("strategy", "sideways"),
		f.form("strategy", "offset", "value", "x"),
		f.form("strategy", "shift", "value", ""),
		f.form("strategy", "time", "value", "soon"),
		f.form("strategy", "earliest", "topic", "bad topic"),
	} {
		if code, _ := f.post(t, "/console/groups/g1/reset", form, nil); code != http.StatusBadRequest {
			t.Errorf("reset %v: %d, want 400", form, code)
		}
	}
	code, body := f.post(t, "/console/groups/g1/reset", f.form("strategy", "offset", "value", "3", "topic", "orders"), nil)
	if code != http.StatusOK || !strings.Contains(body, `id="apply-reset"`) || !strings.Contains(body, `<td class="new">3</td>`) {
		t.Fatalf("preview: %d\n%.1000s", code, body)
	}
	if len(f.con.Actions()) != 0 {
		t.Fatalf("a preview was recorded as an action")
	}
	code, _ = f.post(t, "/console/groups/g1/reset", f.form("strategy", "offset", "value", "3", "topic", "orders", "confirm", "yes"), nil)
	if code != http.StatusSeeOther {
		t.Fatalf("apply: %d, want 303", code)
	}
	_, body = f.get(t, "/console/groups/g1")
	if !strings.Contains(body, `<td class="committed">3</td>`) || !strings.Contains(body, `<td class="lag">2</td>`) {
		t.Errorf("the group after the reset:\n%.2000s", body)
	}
	// Lag in time: the age of the record at the committed offset.
	if !regexp.MustCompile(`<td class="timelag">[0-9]+s</td>`).MatchString(body) {
		t.Errorf("no lag in time:\n%s", body[strings.Index(body, "<main"):])
	}
	if code, _ := f.get(t, "/console/groups/nosuch"); code != http.StatusNotFound {
		t.Errorf("a missing group: %d, want 404", code)
	}
}

func TestServicesConfigured(t *testing.T) {
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/clusters/current":
			w.Write([]byte(`{"clusterInfo":{"state":"UPDATING"}}`))
		case "/v1/clusters/current/operations":
			w.Write([]byte(`{"clusterOperationInfoList":[{"operationType":"UPDATE_BROKER_COUNT","operationState":"UPDATE_IN_PROGRESS",
				"creationTime":"2026-01-01T00:00:00Z","operationSteps":[{"stepName":"start brokers","stepStatus":"IN_PROGRESS"}]}]}`))
		case "/v1/last":
			w.Write([]byte(`{"policy":"storage.yaml","decision":{"Holds":[{"Kind":"storage","Blocked":"COOLDOWN","Reason":"grew 2m ago"}]},
				"latest":{"1":{"StorageUsed":1048576,"StorageProvisioned":1073741824,"CPUPercent":12.5}}}`))
		case "/v1/plan":
			w.Write([]byte(`{"policy":"storage.yaml","decision":{}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer svc.Close()
	f := newFixture(t, Options{ControlPlane: svc.URL, Autoscaler: svc.URL})
	for _, tc := range []struct{ path, want string }{
		{"/console/", `<span id="cluster-state">UPDATING</span>`},
		{"/console/operations", "UPDATE_IN_PROGRESS"},
		{"/console/operations", "start brokers: IN_PROGRESS"},
		{"/console/autoscaler", "COOLDOWN"},
		{"/console/autoscaler", "grew 2m ago"},
		{"/console/autoscaler", "1.00 MiB / 1.00 GiB"},
		{"/console/autoscaler", "nothing to do"},
	} {
		if code, body := f.get(t, tc.path); code != 200 || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s: %d, want %q in:\n%.1500s", tc.path, code, tc.want, body)
		}
	}
}

func TestMessagePages(t *testing.T) {
	f := newFixture(t, Options{})
	for i := range 5 {
		f.produce(t, &kgo.Record{Topic: "orders", Partition: 0, Value: []byte(fmt.Sprint("v", i))})
	}
	_, body := f.get(t, "/console/topics/orders/messages?limit=2&offset=2")
	if !strings.Contains(body, `href="?limit=2&amp;offset=0" id="older"`) {
		t.Errorf("no older link to offset 0:\n%s", body[strings.Index(body, "<main"):])
	}
	if !strings.Contains(body, `href="?limit=2&amp;offset=4" id="newer"`) || !strings.Contains(body, "v3") || strings.Contains(body, "v4") {
		t.Errorf("the page from 2:\n%s", body[strings.Index(body, "<main"):])
	}
	_, body = f.get(t, "/console/topics/orders/messages?timestamp=2999-01-01T00:00:00Z")
	if !strings.Contains(body, "no messages") || !strings.Contains(body, "showing from 5.") {
		t.Errorf("from a time after every record:\n%s", body[strings.Index(body, "<main"):])
	}
	_, body = f.get(t, "/console/topics/orders/messages?timestamp=0&limit=1")
	if !strings.Contains(body, "v0") || !strings.Contains(body, `id="newer"`) {
		t.Errorf("from time 0:\n%s", body[strings.Index(body, "<main"):])
	}
	_, body = f.get(t, "/console/topics/orders/messages?offset=-1")
	if !strings.Contains(body, "v4") || strings.Contains(body, "v3") || strings.Contains(body, `id="newer"`) {
		t.Errorf("the last record:\n%s", body[strings.Index(body, "<main"):])
	}
}

func TestPartialRefresh(t *testing.T) {
	f := newFixture(t, Options{})
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+"/console/", nil)
	req.Header.Set("X-Console-Partial", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(body), "<nav>") || !strings.Contains(string(body), "Cluster overview") {
		t.Errorf("a partial render should be the content only:\n%.500s", body)
	}
}

func TestSearch(t *testing.T) {
	f := newFixture(t, Options{})
	f.produce(t,
		&kgo.Record{Topic: "orders", Partition: 0, Key: []byte("alpha"), Value: []byte("first order")},
		&kgo.Record{Topic: "orders", Partition: 1, Key: []byte("beta"), Value: []byte("second"), Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t-42")}}},
		&kgo.Record{Topic: "orders", Partition: 1, Key: []byte("gamma"), Value: []byte{0, 1, 2, 0xff}},
	)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"q=order", []string{"1 matches in 3 records", "first order"}},
		{"q=t-4%5B0-9%5D&mode=regex&field=headers", []string{"1 matches", "second"}},
		{"q=gamma&field=value", []string{"0 matches"}},
		{"q=a&max_results=1", []string{"result limit (1)"}},
		{"q=zzz&max_bytes=3", []string{"byte limit"}},
		{"q=gamma", []string{"00000000  00 01 02 ff"}},
	} {
		code, body := f.get(t, "/console/topics/orders/search?"+tc.query)
		for _, w := range tc.want {
			if code != 200 || !strings.Contains(body, w) {
				t.Errorf("search %s: %d, want %q in:\n%.3000s", tc.query, code, w, body)
			}
		}
	}
}

func TestActionLogSurvivesARestart(t *testing.T) {
	path := t.TempDir() + "/console-actions.jsonl"
	f := newFixture(t, Options{ActionLog: path})
	if code, _ := f.post(t, "/console/topics", f.form("name", "kept", "partitions", "1"), nil); code != http.StatusSeeOther {
		t.Fatalf("create: %d", code)
	}
	if code, _ := f.post(t, "/console/topics/kept/delete", f.form("confirm", "kept"), nil); code != http.StatusSeeOther {
		t.Fatalf("delete: %d", code)
	}
	again, err := New(Options{ActionLog: path})
	if err != nil {
		t.Fatal(err)
	}
	acts := again.Actions()
	if len(acts) != 2 || acts[0].What != "delete topic" || acts[1].What != "create topic" || acts[1].Target != "kept" {
		t.Errorf("after a restart: %+v", acts)
	}
}

func TestActionLogIsTrimmed(t *testing.T) {
	path := t.TempDir() + "/console-actions.jsonl"
	var as []Action
	for i := range 3 * maxActions {
		as = append(as, Action{What: "create topic", Target: fmt.Sprint("t", i)})
	}
	data := append(encodeActions(as), []byte(`{"what": "torn`)...)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := loadActions(path)
	if err != nil || len(got) != maxActions || got[len(got)-1].Target != fmt.Sprint("t", 3*maxActions-1) {
		t.Fatalf("loaded %d actions (last %+v), %v", len(got), got[len(got)-1], err)
	}
	again, _ := loadActions(path)
	if len(again) != maxActions || again[0] != got[0] {
		t.Errorf("the trimmed file: %d actions", len(again))
	}
}
