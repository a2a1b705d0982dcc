package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirhq/weir/collector/executor"
	"github.com/weirhq/weir/collector/model"
	"github.com/weirhq/weir/collector/monitor"
	"github.com/weirhq/weir/collector/planner"
)

// The fakes are the seam for these fast tests; e2e/collector_test.go runs
// the same API over the real monitor and executor against real brokers.

type fakeMonitor struct {
	mu     sync.Mutex
	c      *model.Cluster
	err    error
	gate   chan struct{} // if set, Model blocks until it is closed
	paused bool
}

func (f *fakeMonitor) Model(time.Time) (*model.Cluster, error) {
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.c, f.err
}

func (f *fakeMonitor) State(time.Time) monitor.State { return monitor.State{} }

func (f *fakeMonitor) RefreshMetadata(context.Context) error { return nil }

func (f *fakeMonitor) Pause(string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.paused {
		return errors.New("sampling is already paused")
	}
	f.paused = true
	return nil
}

func (f *fakeMonitor) Resume(string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.paused {
		return errors.New("sampling is not paused")
	}
	f.paused = false
	return nil
}

type fakeExecutor struct {
	mu   sync.Mutex
	reqs []executor.Request
	busy bool
}

func (f *fakeExecutor) Execute(r executor.Request) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.busy {
		return fmt.Errorf("%w: task x", executor.ErrBusy)
	}
	f.reqs = append(f.reqs, r)
	f.busy = true
	return nil
}

func (f *fakeExecutor) Stop() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.busy {
		return executor.ErrNotRunning
	}
	f.busy = false
	return nil
}

func (f *fakeExecutor) State() executor.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.busy {
		return executor.State{Phase: executor.PhaseReplicas, TaskID: f.reqs[len(f.reqs)-1].TaskID}
	}
	return executor.State{Phase: executor.PhaseIdle}
}

// skewed is three brokers, one of them new and empty, and 12 partitions
// on brokers 1 and 2 only.
func skewed() *model.Cluster {
	c := &model.Cluster{Windows: 3, ValidPartitionRatio: 1}
	for id := int32(1); id <= 3; id++ {
		c.Brokers = append(c.Brokers, model.Broker{ID: id, Rack: fmt.Sprintf("r%d", id), Host: "h",
			Capacity: model.Load{4, 100e6, 100e6, 100e9}})
	}
	for p := int32(0); p < 12; p++ {
		c.Partitions = append(c.Partitions, model.Partition{Topic: "t", Partition: p, Replicas: []int32{1 + p%2, 2 - p%2}, Leader: 1 + p%2,
			Load: model.PartitionLoad{Size: 1e9, BytesIn: 1e6, BytesOut: 1e6, LeaderCPU: 0.1, FollowerCPU: 0.05}})
	}
	c.Sort()
	return c
}

func newTestServer(t *testing.T, mon *fakeMonitor, ex *fakeExecutor, block time.Duration) *httptest.Server {
	s := New(Options{Monitor: mon, Executor: ex, Planner: planner.DefaultConfig(), MaxBlock: block})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	return srv
}

func call(t *testing.T, cl *http.Client, method, u string, hdr http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestBadRequests(t *testing.T) {
	srv := newTestServer(t, &fakeMonitor{c: skewed()}, &fakeExecutor{}, time.Second)
	for _, tc := range []struct {
		method, path string
		code         int
		want         string
	}{
		{"GET", "/kafkacruisecontrol/nope", 404, "Unrecognized endpoint"},
		{"GET", "/kafkacruisecontrol/rebalance", 405, "takes POST"},
		{"POST", "/kafkacruisecontrol/rebalance?json=true&bogus=1", 400, "Unrecognized endpoint parameters in rebalance POST request: [bogus]"},
		{"POST", "/kafkacruisecontrol/rebalance?json=true&dryrun=maybe", 400, "dryrun"},
		{"POST", "/kafkacruisecontrol/rebalance?json=true&goals=NoSuchGoal", 400, "NoSuchGoal"},
		{"POST", "/kafkacruisecontrol/rebalance?json=true&excluded_topics=(", 400, "excluded_topics"},
		{"POST", "/kafkacruisecontrol/add_broker?json=true", 400, "brokerid is required"},
		{"POST", "/kafkacruisecontrol/add_broker?json=true&brokerid=9", 400, "broker 9 is not in the cluster"},
		{"POST", "/kafkacruisecontrol/remove_broker?json=true&brokerid=x", 400, "not a broker id"},
		{"GET", "/kafkacruisecontrol/state?json=true&substates=FOO", 400, "Unsupported substates"},
		{"GET", "/kafkacruisecontrol/partition_load?json=true&resource=gpu", 400, "unknown resource"},
	} {
		resp, body := call(t, http.DefaultClient, tc.method, srv.URL+tc.path, nil)
		if resp.StatusCode != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s: %d %s, want %d containing %q", tc.method, tc.path, resp.StatusCode, body, tc.code, tc.want)
		}
		if tc.code != 404 && tc.code != 405 && !json.Valid([]byte(body)) {
			t.Errorf("%s %s: error body is not JSON: %s", tc.method, tc.path, body)
		}
	}
}

func TestRemoveEveryBrokerIsRefusedWithThePartitions(t *testing.T) {
	srv := newTestServer(t, &fakeMonitor{c: skewed()}, &fakeExecutor{}, 5*time.Second)
	resp, body := call(t, http.DefaultClient, "POST", srv.URL+"/kafkacruisecontrol/remove_broker?json=true&brokerid=1,2,3", nil)
	if resp.StatusCode != 400 || !strings.Contains(body, "t-0") {
		t.Fatalf("removing every broker: %d %s, want 400 listing the partitions", resp.StatusCode, body)
	}
}

func TestNotEnoughDataIs503WithTheWait(t *testing.T) {
	mon := &fakeMonitor{err: &monitor.NotEnoughDataError{ValidWindows: 0, Needed: 1, Wait: 20 * time.Second}}
	srv := newTestServer(t, mon, &fakeExecutor{}, 5*time.Second)
	resp, body := call(t, http.DefaultClient, "GET", srv.URL+"/kafkacruisecontrol/proposals?json=true", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "20s") {
		t.Fatalf("proposals without a model: %d %s, want 503 saying how long", resp.StatusCode, body)
	}
}

// The asynchronous protocol: a slow task answers 202 with User-Task-ID and
// a session cookie; the same request from the same session (cccli's way)
// or with the header gets the result once it is ready.
func TestAsyncProtocol(t *testing.T) {
	gate := make(chan struct{})
	mon := &fakeMonitor{c: skewed(), gate: gate}
	srv := newTestServer(t, mon, &fakeExecutor{}, 50*time.Millisecond)
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar}
	u := srv.URL + "/kafkacruisecontrol/proposals?json=true&verbose=true"
	resp, body := call(t, cl, "GET", u, nil)
	id := resp.Header.Get("User-Task-ID")
	if resp.StatusCode != http.StatusAccepted || id == "" || !strings.Contains(body, `"progress"`) {
		t.Fatalf("first answer: %d %q %s, want 202 with a task id and progress", resp.StatusCode, id, body)
	}
	if resp.Header.Get("Cruise-Control-Version") == "" {
		t.Error("no Cruise-Control-Version header: cccli cannot tell a final answer")
	}
	resp, _ = call(t, cl, "GET", u, nil)
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("User-Task-ID") != id {
		t.Fatalf("second answer: %d task %q, want 202 for the same task %s", resp.StatusCode, resp.Header.Get("User-Task-ID"), id)
	}
	_, tasks := call(t, http.DefaultClient, "GET", srv.URL+"/kafkacruisecontrol/user_tasks?json=true", nil)
	if !strings.Contains(tasks, id) || !strings.Contains(tasks, `"Active"`) {
		t.Fatalf("user_tasks while running: %s", tasks)
	}
	close(gate)
	var res optimizationResult
	for {
		resp, body = call(t, cl, "GET", u, nil)
		if resp.StatusCode == http.StatusOK {
			break
		}
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("polling: %d %s", resp.StatusCode, body)
		}
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if res.Summary.NumReplicaMovements == 0 || len(res.Proposals) == 0 || len(res.LoadAfter.Brokers) != 3 || res.LoadBefore == nil {
		t.Fatalf("proposal: %+v", res.Summary)
	}
	resp, _ = call(t, http.DefaultClient, "GET", u, http.Header{"User-Task-Id": {id}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("fetching the finished task by id: %d", resp.StatusCode)
	}
	resp, body = call(t, http.DefaultClient, "GET", u, http.Header{"User-Task-Id": {"00000000-0000-4000-8000-000000000000"}})
	if resp.StatusCode != 400 || !strings.Contains(body, "no user task") {
		t.Fatalf("an unknown task id: %d %s", resp.StatusCode, body)
	}
}

// add_broker moves replicas onto the new broker only; dryrun=false hands
// the moves to the executor, and a second execution is refused.
func TestAddBrokerExecutes(t *testing.T) {
	ex := &fakeExecutor{}
	srv := newTestServer(t, &fakeMonitor{c: skewed()}, ex, 5*time.Second)
	resp, body := call(t, http.DefaultClient, "POST", srv.URL+"/kafkacruisecontrol/add_broker?json=true&brokerid=3&dryrun=false&verbose=true&replication_throttle=1000000", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("add_broker: %d %s", resp.StatusCode, body)
	}
	var res optimizationResult
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if len(ex.reqs) != 1 || ex.reqs[0].ReplicationThrottle != 1e6 || len(ex.reqs[0].Moves) == 0 {
		t.Fatalf("executor got %+v", ex.reqs)
	}
	for _, m := range ex.reqs[0].Moves {
		for _, b := range m.Added() {
			if b != 3 {
				t.Errorf("%s: adds a replica on broker %d; add_broker moves only onto 3", m.Name(), b)
			}
		}
	}
	resp, body = call(t, http.DefaultClient, "POST", srv.URL+"/kafkacruisecontrol/rebalance?json=true&dryrun=false", nil)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "while one runs") {
		t.Fatalf("a second execution: %d %s, want 409", resp.StatusCode, body)
	}
	_, body = call(t, http.DefaultClient, "GET", srv.URL+"/kafkacruisecontrol/user_tasks?json=true", nil)
	if !strings.Contains(body, `"InExecution"`) {
		t.Fatalf("user_tasks during the execution: %s", body)
	}
	resp, body = call(t, http.DefaultClient, "POST", srv.URL+"/kafkacruisecontrol/stop_proposal_execution?json=true", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "stopped") {
		t.Fatalf("stop: %d %s", resp.StatusCode, body)
	}
	_, body = call(t, http.DefaultClient, "GET", srv.URL+"/kafkacruisecontrol/user_tasks?json=true", nil)
	if strings.Contains(body, `"InExecution"`) {
		t.Fatalf("user_tasks after the stop: %s", body)
	}
}

func TestDemoteMovesLeadershipOnly(t *testing.T) {
	c := skewed()
	prop := demotion(c, []int32{1}, nil)
	if len(prop.Moves) == 0 {
		t.Fatal("no moves")
	}
	for _, m := range prop.Moves {
		if m.MovesReplicas() || m.NewLeader() == 1 || m.NewReplicas[len(m.NewReplicas)-1] != 1 {
			t.Errorf("%s: %v -> %v, want the same replicas with broker 1 last", m.Name(), m.OldReplicas, m.NewReplicas)
		}
	}
}

func TestSampling(t *testing.T) {
	srv := newTestServer(t, &fakeMonitor{c: skewed()}, &fakeExecutor{}, time.Second)
	for _, step := range []struct {
		path string
		code int
	}{{"pause_sampling", 200}, {"pause_sampling", 400}, {"resume_sampling", 200}, {"resume_sampling", 400}} {
		resp, body := call(t, http.DefaultClient, "POST", srv.URL+"/kafkacruisecontrol/"+step.path+"?json=true&reason=test", nil)
		if resp.StatusCode != step.code {
			t.Errorf("%s: %d %s, want %d", step.path, resp.StatusCode, body, step.code)
		}
	}
}

func TestLoadAndPartitionLoad(t *testing.T) {
	srv := newTestServer(t, &fakeMonitor{c: skewed()}, &fakeExecutor{}, 5*time.Second)
	_, body := call(t, http.DefaultClient, "GET", srv.URL+"/kafkacruisecontrol/load?json=true", nil)
	var bs brokerStats
	if err := json.Unmarshal([]byte(body), &bs); err != nil || len(bs.Brokers) != 3 || bs.Brokers[0].Replicas != 12 {
		t.Fatalf("load: %v %s", err, body)
	}
	_, body = call(t, http.DefaultClient, "GET", srv.URL+"/kafkacruisecontrol/partition_load?json=true&entries=5&partition=2-9&resource=networkOutbound", nil)
	var pl partitionLoad
	if err := json.Unmarshal([]byte(body), &pl); err != nil || len(pl.Records) != 5 || pl.Records[0].Partition < 2 {
		t.Fatalf("partition_load: %v %s", err, body)
	}
	_, text := call(t, http.DefaultClient, "GET", srv.URL+"/kafkacruisecontrol/load", nil)
	if !strings.Contains(text, "BROKER") || json.Valid([]byte(text)) {
		t.Fatalf("load with json=false is not Cruise Control's text table: %s", text)
	}
}
