package autoscaler

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirhq/weir/autoscaler/policy"
	"github.com/weirhq/weir/autoscaler/provision"
)

// agent serves one broker's agent metrics in the Prometheus text format,
// with counters the test advances.
type agent struct {
	mu                  sync.Mutex
	used, provisioned   int64
	bytesIn             float64
	partitions, leaders int
	fail                bool
	withoutStorage      bool
}

func (a *agent) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if !a.withoutStorage {
		fmt.Fprintf(w, "# TYPE %s gauge\n%s %d\n", mStorageUsed, mStorageUsed, a.used)
		fmt.Fprintf(w, "# TYPE %s gauge\n%s %d\n", mStorageProvisioned, mStorageProvisioned, a.provisioned)
	}
	fmt.Fprintf(w, "# TYPE %s counter\n%s %g\n", mBytesIn, mBytesIn, a.bytesIn)
	fmt.Fprintf(w, "# TYPE %s counter\n%s 0\n", mBytesOut, mBytesOut)
	fmt.Fprintf(w, "# TYPE %s gauge\n%s %d\n", mPartitions, mPartitions, a.partitions)
	fmt.Fprintf(w, "# TYPE %s gauge\n%s %d\n", mLeaders, mLeaders, a.leaders)
}

func (a *agent) set(f func(*agent)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(a)
}

// fakeProvisioner is the unit-test seam for the control plane; the real
// one (provision.Local against weir up) runs in e2e/autoscaler_test.go.
type fakeProvisioner struct {
	mu      sync.Mutex
	cluster policy.Cluster
	ops     map[string]provision.Operation
	calls   []string
	busy    bool
	grow    func()
}

func (f *fakeProvisioner) Name() string { return "fake" }

func (f *fakeProvisioner) Describe(context.Context) (policy.Cluster, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.cluster
	c.Provisioned = map[int32]int64{}
	for k, v := range f.cluster.Provisioned {
		c.Provisioned[k] = v
	}
	return c, nil
}

func (f *fakeProvisioner) start(call string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	if f.busy {
		return "", fmt.Errorf("update: %w", provision.ErrBusy)
	}
	id := fmt.Sprintf("op-%d", len(f.ops)+1)
	f.ops[id] = provision.Operation{ID: id, State: provision.InProgress}
	f.cluster.State, f.cluster.Operation = "UPDATING", id
	return id, nil
}

func (f *fakeProvisioner) UpdateBrokerStorage(_ context.Context, brokers []int32, n int64) (string, error) {
	id, err := f.start(fmt.Sprintf("storage %v %d", brokers, n))
	if err == nil {
		f.mu.Lock()
		f.grow = func() { // when the operation completes
			for _, b := range brokers {
				f.cluster.Provisioned[b] = n
			}
		}
		f.mu.Unlock()
	}
	return id, err
}

func (f *fakeProvisioner) UpdateBrokerCount(_ context.Context, n int) (string, error) {
	return f.start(fmt.Sprintf("count %d", n))
}

func (f *fakeProvisioner) Operation(_ context.Context, id string) (provision.Operation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ops[id], nil
}

// complete ends the running operation.
func (f *fakeProvisioner) complete(state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	op := f.ops[f.cluster.Operation]
	op.State = state
	f.ops[op.ID] = op
	if f.grow != nil && state == provision.Complete {
		f.grow()
	}
	f.grow = nil
	f.cluster.State, f.cluster.Operation = "ACTIVE", ""
}

type harness struct {
	t      *testing.T
	a      *Autoscaler
	prov   *fakeProvisioner
	agents []*agent
	now    time.Time
	logs   *syncBuffer
	policy string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newHarness(t *testing.T, pol string, state string) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, now: time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC), logs: &syncBuffer{},
		policy: filepath.Join(dir, "policy.yaml"),
		prov: &fakeProvisioner{ops: map[string]provision.Operation{},
			cluster: policy.Cluster{State: "ACTIVE", Brokers: 3, Provisioned: map[int32]int64{1: 1 << 30, 2: 1 << 30, 3: 1 << 30}}}}
	if err := os.WriteFile(h.policy, []byte(pol), 0o644); err != nil {
		t.Fatal(err)
	}
	var targets []provision.Agent
	for id := int32(1); id <= 3; id++ {
		ag := &agent{used: 100 << 20, provisioned: 1 << 30, partitions: 10, leaders: 3}
		srv := httptest.NewServer(ag)
		t.Cleanup(srv.Close)
		h.agents = append(h.agents, ag)
		targets = append(targets, provision.Agent{Broker: id, Metrics: srv.URL + "/metrics"})
	}
	a, err := New(Config{PolicyPath: h.policy, Provisioner: h.prov, StatePath: state, Interval: 10 * time.Second,
		Agents: func(context.Context) ([]provision.Agent, error) { return targets, nil },
		Logger: log.New(io.MultiWriter(h.logs), "", 0), Now: func() time.Time { return h.now }})
	if err != nil {
		t.Fatal(err)
	}
	h.a = a
	return h
}

// tick advances the clock by the interval and runs one round.
func (h *harness) tick() Report {
	h.now = h.now.Add(10 * time.Second)
	return h.a.Tick(context.Background())
}

func (h *harness) calls() []string {
	h.prov.mu.Lock()
	defer h.prov.mu.Unlock()
	return append([]string(nil), h.prov.calls...)
}

const storagePolicy = `
storage:
  target_utilization: 60
  max_size: 2GiB
  scale_out_step: 512MiB
  cooldown: 5m
`

// TestStorageGrowsOncePerCooldown: a broker over the target grows every
// broker by the step through the provisioner, once; while the operation
// runs and during the cooldown nothing more is asked, and each hold is
// logged once; the cooldown survives a restart through the state file.
func TestStorageGrowsOncePerCooldown(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	h := newHarness(t, storagePolicy, state)
	h.tick() // first scrape: no rates yet, no sample
	if r := h.tick(); len(r.Decision.Actions) != 0 || len(h.calls()) != 0 {
		t.Fatalf("under target: %v, calls %v", r.Decision, h.calls())
	}
	h.agents[1].set(func(a *agent) { a.used = 700 << 20 }) // 68 % of 1 GiB
	r := h.tick()
	if got := h.calls(); len(got) != 1 || got[0] != "storage [1 2 3] 1610612736" {
		t.Fatalf("calls %v, want one grow of every broker to 1.5 GiB; report:\n%s", got, r)
	}
	if len(r.Started) != 1 || r.Started[0].Operation != "op-1" {
		t.Fatalf("started %+v", r.Started)
	}
	for range 3 {
		if r := h.tick(); len(r.Decision.Actions) != 0 || !hasHold(r, policy.NotActive) || len(h.calls()) != 1 {
			t.Fatalf("while the operation runs: %s", r)
		}
	}
	h.prov.complete(provision.Complete)
	h.agents[1].set(func(a *agent) { a.provisioned = 1536 << 20; a.used = 1000 << 20 }) // 65 % of 1.5 GiB: hot again
	r = h.tick()
	if !hasHold(r, policy.Cooldown) || len(h.calls()) != 1 {
		t.Fatalf("within the cooldown: %s, calls %v", r, h.calls())
	}
	if n := strings.Count(h.logs.String(), "hold storage COOLDOWN"); n != 1 {
		t.Errorf("the cooldown hold logged %d times, want once:\n%s", n, h.logs)
	}
	if !strings.Contains(h.logs.String(), "operation op-1 (grow storage on broker(s) 1,2,3 to 1536MiB") {
		t.Errorf("the operation's end is not logged:\n%s", h.logs)
	}

	// A restarted autoscaler reads the state file: still in the cooldown.
	h2 := newHarness(t, storagePolicy, state)
	h2.now = h.now
	h2.prov.cluster.Provisioned = map[int32]int64{1: 1536 << 20, 2: 1536 << 20, 3: 1536 << 20}
	h2.agents[0].set(func(a *agent) { a.used = 1000 << 20; a.provisioned = 1536 << 20 })
	h2.tick()
	if r := h2.tick(); !hasHold(r, policy.Cooldown) || len(h2.calls()) != 0 {
		t.Fatalf("after a restart within the cooldown: %s, calls %v", r, h2.calls())
	}
	h2.now = h2.now.Add(5 * time.Minute)
	if r := h2.tick(); len(h2.calls()) != 1 || h2.calls()[0] != "storage [1 2 3] 2147483648" {
		t.Fatalf("after the cooldown: %s, calls %v", r, h2.calls())
	}
}

// TestBusyRefusalIsAHold: a control plane that refuses because the
// cluster is busy records nothing (no cooldown starts), and the next
// evaluation asks again.
func TestBusyRefusalIsAHold(t *testing.T) {
	h := newHarness(t, storagePolicy, "")
	h.prov.busy = true
	h.agents[0].set(func(a *agent) { a.used = 900 << 20 })
	h.tick()
	r := h.tick()
	if len(r.Started) != 1 || r.Started[0].Error == "" || !strings.Contains(h.logs.String(), "the control plane refused, the cluster is busy") {
		t.Fatalf("a busy refusal: %s\n%s", r, h.logs)
	}
	h.prov.busy = false
	if h.tick(); len(h.calls()) != 2 {
		t.Fatalf("after the refusal, calls %v: want a second try", h.calls())
	}
}

// TestBadReloadKeepsLastGoodPolicy: a bad edit is logged with the file,
// line and rule, the metric says so, and the last good policy decides.
func TestBadReloadKeepsLastGoodPolicy(t *testing.T) {
	h := newHarness(t, storagePolicy, "")
	if err := os.WriteFile(h.policy, []byte("storage:\n  target_utilization: 95\n  max_size: 2GiB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.tick()
	if !strings.Contains(h.logs.String(), "keeping the last good policy") || !strings.Contains(h.logs.String(), "policy.yaml:2") {
		t.Errorf("a bad reload is not logged with file and line:\n%s", h.logs)
	}
	if got := metricLine(t, h.a, "weir_autoscaler_policy_loaded"); got != "weir_autoscaler_policy_loaded 0" {
		t.Errorf("policy_loaded: %q", got)
	}
	h.agents[2].set(func(a *agent) { a.used = 700 << 20 })
	if h.tick(); len(h.calls()) != 1 {
		t.Errorf("the last good policy (60 %%) did not act: calls %v", h.calls())
	}
}

// TestPlanDoesNotAct: Plan (and a posted policy) decide without acting.
func TestPlanDoesNotAct(t *testing.T) {
	h := newHarness(t, storagePolicy, "")
	for _, a := range h.agents {
		a.set(func(a *agent) { a.used = 200 << 20 })
	}
	h.tick()
	h.tick()
	other, err := policy.Parse([]byte("storage:\n  target_utilization: 10\n  max_size: 2GiB\n"), "low.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := h.a.Plan(context.Background(), other)
	if len(r.Decision.Actions) != 1 || len(h.calls()) != 0 {
		t.Fatalf("plan with a 10 %% target: %s, calls %v", r, h.calls())
	}
	srv := httptest.NewServer(h.a.Handler())
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/plan?format=text", "application/yaml", strings.NewReader("storage:\n  target_utilization: 10\n  max_size: 2GiB\n"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "would grow storage on broker(s) 1,2,3") || len(h.calls()) != 0 {
		t.Errorf("POST /v1/plan: %s (calls %v)", body, h.calls())
	}
	resp, err = http.Post(srv.URL+"/v1/plan", "application/yaml", strings.NewReader("storage:\n  target: 10\n"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "unknown key") {
		t.Errorf("a bad posted policy: %s %s", resp.Status, body)
	}
}

// TestScrapeFailureIsInsufficientData: an agent that does not answer
// leaves its broker without fresh samples; the broker count is not
// changed on the others' figures alone.
func TestScrapeFailureIsInsufficientData(t *testing.T) {
	h := newHarness(t, `
brokers:
  min_brokers: 3
  max_brokers: 6
  window: 30s
  targets:
    network_in_per_second: 1MiB
`, "")
	for _, a := range h.agents {
		a.set(func(a *agent) { a.bytesIn = 0 })
	}
	h.tick()
	h.agents[2].set(func(a *agent) { a.fail = true })
	var r Report
	for range 6 {
		for _, a := range h.agents {
			a.set(func(a *agent) { a.bytesIn += 50 << 20 }) // 5 MiB/s each
		}
		r = h.tick()
	}
	if len(h.calls()) != 0 || !hasHold(r, policy.InsufficientData) || len(r.Errors) == 0 {
		t.Fatalf("with broker 3's agent down: %s, calls %v", r, h.calls())
	}
	h.agents[2].set(func(a *agent) { a.fail = false })
	for range 6 {
		for _, a := range h.agents {
			a.set(func(a *agent) { a.bytesIn += 50 << 20 })
		}
		r = h.tick()
		if len(h.calls()) > 0 {
			break
		}
	}
	if got := h.calls(); len(got) != 1 || got[0] != "count 4" {
		t.Fatalf("with every agent back and 5 MiB/s per broker over a 1 MiB/s target: calls %v\n%s", got, r)
	}
}

func hasHold(r Report, b policy.Blocked) bool {
	for _, h := range r.Decision.Holds {
		if h.Blocked == b {
			return true
		}
	}
	return false
}

func metricLine(t *testing.T, a *Autoscaler, name string) string {
	t.Helper()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, name+" ") || strings.HasPrefix(l, name+"{") {
			return l
		}
	}
	return ""
}
