package anomaly

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirhq/weir/collector/executor"
	"github.com/weirhq/weir/collector/model"
	"github.com/weirhq/weir/collector/monitor"
)

type fakeMonitor struct {
	c   *model.Cluster
	err error
}

func (f *fakeMonitor) Model(time.Time) (*model.Cluster, error) { return f.c, f.err }
func (f *fakeMonitor) RefreshMetadata(context.Context) error   { return nil }

type fakeExecutor struct {
	reqs []executor.Request
	err  error
}

func (f *fakeExecutor) Execute(r executor.Request) error {
	if f.err != nil {
		return f.err
	}
	f.reqs = append(f.reqs, r)
	return nil
}

func (f *fakeExecutor) State() executor.State { return executor.State{Phase: executor.PhaseIdle} }

// TestManagerHeal: a due broker-failure fix is planned on the monitor's
// model and handed to the executor under its task id; a model not ready
// and a busy executor are reported, and the metrics count what started.
func TestManagerHeal(t *testing.T) {
	c := testCluster(4, part("t", 0, 100, 4, 1, 2), part("t", 1, 100, 1, 2, 3))
	c.Brokers[3].State = model.Dead
	mon, exe, reg := &fakeMonitor{err: &monitor.NotEnoughDataError{Needed: 1}}, &fakeExecutor{}, prometheus.NewRegistry()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m, err := New(Options{Config: DefaultConfig(), Monitor: mon, Executor: exe, Registerer: reg, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	o := &Observation{Time: now, Alive: map[int32]bool{1: true, 2: true, 3: true},
		Partitions: []PartitionState{{Topic: "t", Partition: 0, Replicas: []int32{4, 1, 2}}, {Topic: "t", Partition: 1, Replicas: []int32{1, 2, 3}}}}
	step := func(at time.Duration) *Fix {
		now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(at)
		o.Time = now
		m.mu.Lock()
		defer m.mu.Unlock()
		return m.mu.det.Step(o)
	}
	step(0)
	fix := step(5 * time.Second)
	if fix == nil {
		t.Fatal("no fix at the healing threshold")
	}
	m.heal(context.Background(), fix)
	if a := m.State().Recent[BrokerFailure][0]; a.Status != LoadMonitorNotReady {
		t.Fatalf("model not ready: %s %s", a.Status, a.Note)
	}

	mon.c, mon.err, exe.err = c, nil, fmt.Errorf("%w: task x is running", executor.ErrBusy)
	m.heal(context.Background(), step(6*time.Second))
	if a := m.State().Recent[BrokerFailure][0]; a.Status != FixFailedToStart || !strings.Contains(a.LastError, "running") {
		t.Fatalf("busy executor: %s %s", a.Status, a.LastError)
	}

	exe.err = nil
	if fix := step(16 * time.Second); fix == nil {
		t.Fatal("no fix after the cooldown")
	} else {
		m.heal(context.Background(), fix)
	}
	a := m.State().Recent[BrokerFailure][0]
	if a.Status != FixStarted || len(exe.reqs) != 1 || exe.reqs[0].TaskID != "self-healing-"+a.ID || len(exe.reqs[0].Moves) != 1 {
		t.Fatalf("fix: %s %s; executions %+v", a.Status, a.Note, exe.reqs)
	}
	for name, want := range map[string]float64{"weir_collector_self_healing_started_total": 1,
		"weir_collector_anomaly_ongoing": 1, "weir_collector_anomalies_total": 1} {
		if got := gathered(t, reg, name, "BROKER_FAILURE"); got != want {
			t.Errorf("%s{type=BROKER_FAILURE} = %v, want %v", name, got, want)
		}
	}
	if h := m.Recent(); len(h) != 1 || h[0].FixTaskID != exe.reqs[0].TaskID {
		t.Errorf("history %+v", h)
	}
}

// gathered is the value of the series name{type=typ} in reg.
func gathered(t *testing.T, reg *prometheus.Registry, name, typ string) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() != typ {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no %s{type=%s}", name, typ)
	return 0
}
