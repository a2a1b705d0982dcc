package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weirhq/weir/collector/anomaly"
	"github.com/weirhq/weir/collector/planner"
)

// fakeAnomalies is a detector's snapshot and its self-healing switches.
type fakeAnomalies struct {
	mu sync.Mutex
	st anomaly.State
}

func (f *fakeAnomalies) State() anomaly.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st
}

func (f *fakeAnomalies) SetSelfHealing(enable, disable []anomaly.Type) (before, after [anomaly.NumTypes]bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	before = f.st.SelfHealing
	for _, t := range enable {
		f.st.SelfHealing[t] = true
	}
	for _, t := range disable {
		f.st.SelfHealing[t] = false
	}
	return before, f.st.SelfHealing
}

func TestAnomalyDetectorStateAndAdmin(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	an := &fakeAnomalies{}
	an.st.SelfHealing[anomaly.BrokerFailure] = true
	an.st.NumSelfHealingStarted, an.st.MeanTimeToStartFix = 1, 5*time.Second
	an.st.Recent[anomaly.BrokerFailure] = []anomaly.Anomaly{{ID: "BROKER_FAILURE-3", Type: anomaly.BrokerFailure,
		Description: "broker(s) 4 hold replicas but are not alive", Detected: at, StatusUpdated: at.Add(5 * time.Second),
		Status: anomaly.FixStarted, FailedBrokers: map[int32]time.Time{4: at}, Brokers: []int32{4},
		FixStarted: at.Add(5 * time.Second), FixTaskID: "self-healing-BROKER_FAILURE-3", Attempts: 1}}
	an.st.Ongoing = &an.st.Recent[anomaly.BrokerFailure][0]
	s := New(Options{Monitor: &fakeMonitor{c: skewed()}, Executor: &fakeExecutor{}, Planner: planner.DefaultConfig(), Anomalies: an})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })

	_, body := call(t, http.DefaultClient, "GET", srv.URL+"/kafkacruisecontrol/state?json=true&substates=anomaly_detector", nil)
	var st struct {
		A struct {
			Enabled  []string                   `json:"selfHealingEnabled"`
			Failures []map[string]any           `json:"recentBrokerFailures"`
			Goals    []map[string]any           `json:"recentGoalViolations"`
			Ongoing  string                     `json:"ongoingSelfHealingAnomaly"`
			Metrics  map[string]json.RawMessage `json:"metrics"`
		} `json:"AnomalyDetectorState"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	a := st.A
	if len(a.Failures) != 1 || a.Goals == nil || a.Ongoing != "BROKER_FAILURE-3" || len(a.Enabled) != 1 {
		t.Fatalf("state: %s", body)
	}
	f := a.Failures[0]
	for k, want := range map[string]any{"anomalyId": "BROKER_FAILURE-3", "status": "FIX_STARTED", "detectionMs": float64(at.UnixMilli()),
		"statusUpdateMs": float64(at.UnixMilli() + 5000), "fixTaskId": "self-healing-BROKER_FAILURE-3"} {
		if f[k] != want {
			t.Errorf("%s = %v, want %v", k, f[k], want)
		}
	}
	if fb, _ := f["failedBrokersByTimeMs"].(map[string]any); fb["4"] != float64(at.UnixMilli()) {
		t.Errorf("failedBrokersByTimeMs = %v", f["failedBrokersByTimeMs"])
	}
	if string(a.Metrics["numSelfHealingStarted"]) != "1" || string(a.Metrics["meanTimeToStartFixMs"]) != "5000" {
		t.Errorf("metrics %s", body)
	}
	_, text := call(t, http.DefaultClient, "GET", srv.URL+"/kafkacruisecontrol/state?substates=anomaly_detector", nil)
	if !strings.Contains(text, "recentBrokerFailures BROKER_FAILURE-3 FIX_STARTED") {
		t.Errorf("text state: %s", text)
	}

	resp, body := call(t, http.DefaultClient, "POST", srv.URL+"/kafkacruisecontrol/admin?json=true&disable_self_healing_for=broker_failure&enable_self_healing_for=GOAL_VIOLATION", nil)
	var res adminResult
	if err := json.Unmarshal([]byte(body), &res); err != nil || resp.StatusCode != 200 {
		t.Fatalf("admin: %d %s", resp.StatusCode, body)
	}
	if !res.Before["BROKER_FAILURE"] || res.After["BROKER_FAILURE"] || !res.After["GOAL_VIOLATION"] {
		t.Errorf("admin: %s", body)
	}
	for q, want := range map[string]string{"": "give enable_self_healing_for", "&enable_self_healing_for=nope": `unknown anomaly type \"nope\"`} {
		resp, body := call(t, http.DefaultClient, "POST", srv.URL+"/kafkacruisecontrol/admin?json=true"+q, nil)
		if resp.StatusCode != 400 || !strings.Contains(body, want) {
			t.Errorf("admin%s: %d %s, want 400 with %q", q, resp.StatusCode, body, want)
		}
	}
}
