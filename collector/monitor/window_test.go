package monitor

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/weirhq/weir/agent/samples"
	"github.com/weirhq/weir/collector/model"
)

// base is the start of window 1,000 of 10 s windows.
var base = time.UnixMilli(1000 * 10_000).UTC()

func testConfig() Config {
	c := DefaultConfig()
	c.PartitionWindow, c.NumPartitionWindows, c.MinSamplesPerPartitionWindow = 10*time.Second, 3, 2
	c.BrokerWindow, c.NumBrokerWindows, c.MinSamplesPerBrokerWindow = 10*time.Second, 3, 1
	c.MinValidPartitionRatio = 0.5
	return c
}

func f64(v float64) *float64 { return &v }
func i64(v int64) *int64     { return &v }

// psample is a partition sample of a-<p> at base + at.
func psample(p int32, at time.Duration, bytesIn float64) *samples.PartitionLoad {
	return &samples.PartitionLoad{Time: base.Add(at), Topic: "a", Partition: p, Leader: 1, Replicas: []int32{1, 2},
		BytesInPerSec: f64(bytesIn), BytesOutPerSec: f64(2 * bytesIn), MessagesInPerSec: bytesIn / 10, SizeBytes: i64(int64(1000 + at.Seconds()))}
}

// testMeta is brokers 1 and 2 with a-0 and a-1, and the samples topic.
func testMeta() *metadata {
	return &metadata{brokers: map[int32]brokerMeta{1: {host: "h1", rack: "r1"}, 2: {host: "h2"}},
		partitions: []partitionMeta{
			{tp: tp{"__weir_metrics", 0}, leader: 2, replicas: []int32{2}},
			{tp: tp{"a", 0}, leader: 1, replicas: []int32{1, 2}},
			{tp: tp{"a", 1}, leader: 1, replicas: []int32{1, 2}},
		}}
}

func TestWindows(t *testing.T) {
	now := base.Add(35 * time.Second) // window 1,003 is open; 1,000–1,002 are kept
	for _, tc := range []struct {
		name    string
		at      map[int32][]time.Duration // samples per partition, as offsets from base
		valid   []bool                    // per kept window, oldest first
		ratio   float64
		rejects map[time.Duration]string
	}{
		{name: "two samples each in every window",
			at:    map[int32][]time.Duration{0: {1e9, 2e9, 11e9, 12e9, 21e9, 22e9}, 1: {1e9, 2e9, 11e9, 12e9, 21e9, 22e9}},
			valid: []bool{true, true, true}, ratio: 1},
		{name: "one sample is not enough",
			at:    map[int32][]time.Duration{0: {1e9, 2e9, 21e9}, 1: {1e9, 2e9, 21e9}},
			valid: []bool{true, false, false}, ratio: 1},
		{name: "half the partitions is the ratio",
			at:    map[int32][]time.Duration{0: {1e9, 2e9, 21e9, 22e9}, 1: {1e9, 2e9, 21e9}},
			valid: []bool{true, false, true}, ratio: 0.5},
		{name: "a gap of one window between two full ones is bridged (AVG_ADJACENT)",
			at:    map[int32][]time.Duration{0: {1e9, 2e9, 11e9, 21e9, 22e9}, 1: {1e9, 2e9, 21e9, 22e9}},
			valid: []bool{true, true, true}, ratio: 1},
		{name: "the open window does not count",
			at:    map[int32][]time.Duration{0: {31e9, 32e9}, 1: {31e9, 32e9}},
			valid: []bool{false, false, false}, ratio: 0},
		{name: "too old and future samples are rejected",
			at:      map[int32][]time.Duration{0: {-1e9, 200e9}},
			valid:   []bool{false, false, false},
			rejects: map[time.Duration]string{-1e9: reasonTooOld, 200e9: reasonFuture}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWindows(testConfig())
			for p, ats := range tc.at {
				for _, at := range ats {
					if got := w.addPartition(psample(p, at, 100), now); got != tc.rejects[at] {
						t.Errorf("sample at %v: %q, want %q", at, got, tc.rejects[at])
					}
				}
			}
			c := w.evaluate(now, testMeta().counted("__weir_metrics"))
			if len(c.windows) != 3 {
				t.Fatalf("%d windows kept, want 3", len(c.windows))
			}
			for i, want := range tc.valid {
				if c.windows[i].valid != want {
					t.Errorf("window %d valid %v, want %v (%+v)", i, c.windows[i].valid, want, c.windows[i])
				}
			}
			if c.ratio != tc.ratio {
				t.Errorf("ratio %v, want %v", c.ratio, tc.ratio)
			}
		})
	}
}

// TestModelAverages: a partition's load is the mean over valid windows of
// each window's mean; the size is the latest; brokers are alive or dead.
func TestModelAverages(t *testing.T) {
	cfg := testConfig()
	w := newWindows(cfg)
	now := base.Add(35 * time.Second)
	for _, s := range []*samples.PartitionLoad{
		psample(0, 1e9, 100), psample(0, 2e9, 200), // window 1,000: 150
		psample(0, 11e9, 300), psample(0, 12e9, 300), // window 1,001: 300
		psample(1, 1e9, 10), psample(1, 2e9, 10),
		psample(1, 11e9, 10), psample(1, 12e9, 10),
		psample(0, 31e9, 9999), // the open window: ignored but its size is the latest
	} {
		if why := w.addPartition(s, now); why != "" {
			t.Fatal(why)
		}
	}
	meta := testMeta()
	meta.partitions[2].replicas = []int32{1, 3} // broker 3 is not in the metadata: dead
	c, err := buildModel(modelInput{cfg: cfg, now: now, meta: meta, win: w, sizes: map[tp]int64{{"__weir_metrics", 0}: 77}})
	if err != nil {
		t.Fatal(err)
	}
	p := c.Partitions[1]
	if p.Name() != "a-0" || p.Load.BytesIn != 225 || p.Load.BytesOut != 450 || p.Load.MessagesIn != 22.5 || p.Load.Size != 1031 {
		t.Errorf("a-0 %+v", p.Load)
	}
	if c.Partitions[0].Load.Size != 77 || c.Windows != 2 || c.ValidPartitionRatio != 1 {
		t.Errorf("samples topic %+v, windows %d, ratio %v", c.Partitions[0].Load, c.Windows, c.ValidPartitionRatio)
	}
	if len(c.Brokers) != 3 || c.Brokers[0].Rack != "r1" || c.Brokers[2].State != model.Dead || c.Brokers[1].State != model.Alive ||
		c.Brokers[0].CapacitySource != SourceDefault || c.Brokers[0].Capacity[model.NetworkIn] != 125e6 {
		t.Errorf("brokers %+v", c.Brokers)
	}
}

func TestNotEnoughData(t *testing.T) {
	cfg := testConfig()
	cfg.MinValidWindows = 2
	w := newWindows(cfg)
	now := base.Add(25 * time.Second) // 5 s left in window 1,002
	for _, at := range []time.Duration{11e9, 12e9} {
		w.addPartition(psample(0, at, 1), now)
		w.addPartition(psample(1, at, 1), now)
	}
	_, err := buildModel(modelInput{cfg: cfg, now: now, meta: testMeta(), win: w})
	var ne *NotEnoughDataError
	if !errors.As(err, &ne) || ne.ValidWindows != 1 || ne.Needed != 2 || ne.Wait != 5*time.Second || ne.NeededRatio != 0.5 {
		t.Fatalf("%v (%+v)", err, ne)
	}
	if !strings.Contains(err.Error(), "about 5s until enough") {
		t.Errorf("message %q does not say how long", err)
	}
	if _, err := buildModel(modelInput{cfg: cfg, now: now, win: w}); err == nil || errors.As(err, &ne) {
		t.Errorf("no metadata: %v", err)
	}
}

func TestPrune(t *testing.T) {
	w := newWindows(testConfig())
	w.addPartition(psample(0, 1e9, 1), base)
	w.addBroker(&samples.BrokerLoad{Time: base, BrokerID: 1}, base)
	w.prune(base.Add(35 * time.Second))
	if len(w.partitions) != 1 || len(w.brokers) != 1 {
		t.Fatal("pruned samples still in the kept windows")
	}
	w.prune(base.Add(45 * time.Second))
	if len(w.partitions) != 0 || len(w.brokers) != 0 {
		t.Fatal("expired series kept")
	}
}
