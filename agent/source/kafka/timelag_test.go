package kafka

import (
	"testing"
	"time"
)

func TestEstimateTimeLag(t *testing.T) {
	t0 := time.Unix(10_000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	// 10 records a second for 60 s: end 0 at t0 … 600 at t0+60s.
	steady := []Sample{{at(0), 0}, {at(20), 200}, {at(40), 400}, {at(60), 600}}
	stalled := []Sample{{at(0), 500}, {at(30), 500}, {at(60), 500}}
	cases := []struct {
		name      string
		samples   []Sample
		committed int64
		now       time.Time
		want      int64
	}{
		{"caught up", steady, 600, at(60), 0},
		{"past the end", steady, 700, at(60), 0},
		{"on a sample", steady, 400, at(60), 20_000},
		{"interpolated", steady, 450, at(60), 15_000},
		{"now after the last sample", steady, 450, at(65), 20_000},
		{"older than the window: extrapolated at 10/s", steady, -100, at(60), 70_000},
		{"nothing produced over the window: the window's age", stalled, 100, at(60), 60_000},
		{"one sample, lagging: unknown", steady[:1], -5, at(0), -1},
		{"one sample, caught up", steady[3:], 600, at(60), 0},
		{"no samples", nil, 5, at(0), -1},
	}
	for _, c := range cases {
		if got := EstimateTimeLag(c.samples, c.committed, c.now); got != c.want {
			t.Errorf("%s: EstimateTimeLag = %d ms, want %d", c.name, got, c.want)
		}
	}
}

func TestHistoryWindowAndRate(t *testing.T) {
	h := NewHistory(30 * time.Second)
	t0 := time.Unix(0, 0)
	tp := TP{"t", 0}
	var r float64
	for i := range 10 {
		r = h.Add(tp, t0.Add(time.Duration(i)*10*time.Second), int64(i*50))
	}
	if got := len(h.samples[tp]); got != 4 { // 60..90 s: the window is 30 s
		t.Fatalf("kept %d samples, want 4", got)
	}
	if r != 5 {
		t.Fatalf("rate %v, want 5/s", r)
	}
	// The topic was recreated: its end offset went back, history restarts.
	if r := h.Add(tp, t0.Add(100*time.Second), 3); r != 0 || len(h.samples[tp]) != 1 {
		t.Fatalf("after recreation: rate %v, %d samples", r, len(h.samples[tp]))
	}
	h.Retain(t0, nil)
	if len(h.samples) != 0 {
		t.Fatal("Retain kept a partition that is gone")
	}
	// Many samples within the window are capped.
	for i := range 3 * maxSamples {
		h.Add(tp, t0.Add(time.Duration(i)*time.Millisecond), int64(i))
	}
	if got := len(h.samples[tp]); got != maxSamples {
		t.Fatalf("kept %d samples, want at most %d", got, maxSamples)
	}
}
