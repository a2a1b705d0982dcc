package monitor

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/weirhq/weir/agent/samples"
)

func encodePartition(t *testing.T, p *samples.PartitionLoad) []byte {
	t.Helper()
	v, err := samples.EncodePartition(p)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestIntake: accepted and rejected samples are counted by reason, pause
// and resume switch sampling, and State reports it all.
func TestIntake(t *testing.T) {
	cfg := testConfig()
	cfg.ClusterName, cfg.MinSamplesPerPartitionWindow, cfg.MinValidPartitionRatio = "east", 1, 0.995
	reg := prometheus.NewRegistry()
	m, err := New(nil, cfg, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	now := base.Add(15 * time.Second)
	m.now = func() time.Time { return now }
	m.mu.meta, m.mu.loading = testMeta(), false
	east := func(p int32) *samples.PartitionLoad { s := psample(p, 1e9, 5); s.ClusterName = "east"; return s }
	west := east(0)
	west.ClusterName = "west"
	broker, _ := samples.EncodeBroker(&samples.BrokerLoad{Time: base, ClusterName: "east", BrokerID: 1, CPUPercent: f64(50), CPUCores: 4})
	values := [][]byte{encodePartition(t, east(0)), broker, {42, 1}, {samples.SchemaPartitionLoadV1, 0xff}, nil, encodePartition(t, west)}
	m.mu.Lock()
	for _, v := range values {
		m.ingest(v, now)
	}
	m.mu.Unlock()
	if err := m.Pause("maintenance"); err != nil {
		t.Fatal(err)
	}
	if err := m.Pause("again"); err == nil {
		t.Error("paused twice")
	}
	m.mu.Lock()
	m.ingest(encodePartition(t, east(1)), now)
	m.mu.Unlock()
	st := m.State(now)
	if st.State != StatePaused || st.ReasonOfLatestPauseOrResume != "maintenance" || st.SamplesAccepted != 2 || st.SamplesRejected != 5 ||
		!st.LastSampleTime.Equal(base.Add(time.Second)) || st.NumValidWindows != 0 || st.ValidPartitionRatio != 0.5 || st.TotalNumPartitions != 2 {
		t.Fatalf("paused state %+v", st)
	}
	for _, c := range []struct {
		result, reason string
		want           float64
	}{{resultRejected, reasonPaused, 1}, {resultRejected, reasonUnknownSchema, 1}, {resultRejected, reasonDecode, 2},
		{resultRejected, reasonClusterName, 1}, {resultAccepted, reasonBroker, 1}, {resultAccepted, reasonPartition, 1}} {
		if got := gathered(t, reg, "weir_collector_samples_total", c.result, c.reason); got != c.want {
			t.Errorf("weir_collector_samples_total{result=%q,reason=%q} = %v, want %v", c.result, c.reason, got, c.want)
		}
	}
	if gathered(t, reg, "weir_collector_sampling_paused") != 1 {
		t.Error("weir_collector_sampling_paused not 1 while paused")
	}
	if err := m.Resume("done"); err != nil {
		t.Fatal(err)
	}
	if err := m.Resume("done"); err == nil {
		t.Error("resumed twice")
	}
	m.mu.Lock()
	m.ingest(encodePartition(t, east(1)), now)
	m.mu.Unlock()
	st = m.State(now)
	if st.State != StateRunning || st.NumValidWindows != 1 || st.ValidPartitionRatio != 1 || len(st.Windows) != 3 || !st.Windows[0].Valid ||
		!st.Windows[0].Start.Equal(base) {
		t.Fatalf("resumed state %+v", st)
	}
	c, err := m.Model(now)
	if err != nil {
		t.Fatal(err)
	}
	// Broker 1 uses 50% of 4 cores; it leads a-0 and a-1 alike.
	if p := c.Partitions[1]; p.Load.LeaderCPU != 1 || p.Load.BytesIn != 5 {
		t.Errorf("a-0 load %+v", p.Load)
	}
	if gathered(t, reg, "weir_collector_model_valid_windows") != 1 || gathered(t, reg, "weir_collector_model_valid_partition_ratio") != 1 ||
		gathered(t, reg, "weir_collector_sampling_paused") != 0 {
		t.Error("model gauges wrong")
	}
}

// gathered is the value of the series name{result, reason} (label values
// in that order) in reg; -1 if absent.
func gathered(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if matches(m, labels) {
				return m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

func matches(m *dto.Metric, values []string) bool {
	if len(values) != len(m.GetLabel()) {
		return false
	}
	names := []string{"reason", "result"} // sorted, as the registry returns them
	for i, l := range m.GetLabel() {
		want := values[1-i] // result, reason given; reason, result stored
		if l.GetName() != names[i] || l.GetValue() != want {
			return false
		}
	}
	return true
}
