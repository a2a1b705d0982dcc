package anomaly

import (
	"slices"
	"time"
)

// State is a snapshot of the detector: Cruise Control's
// AnomalyDetectorState as data (the API renders it).
type State struct {
	// SelfHealing says, per type, whether it heals.
	SelfHealing [NumTypes]bool
	// Recent are the kept anomalies per type, newest first.
	Recent [NumTypes][]Anomaly
	// Ongoing is the anomaly whose fix runs, if any.
	Ongoing *Anomaly
	// Metrics, Cruise Control's AnomalyMetrics.
	MeanTimeBetweenAnomalies    [NumTypes]time.Duration // 0 with fewer than two of the type
	MeanTimeToStartFix          time.Duration
	NumSelfHealingStarted       int
	NumSelfHealingFailedToStart int
	// OngoingAnomalyDuration is how long the oldest open anomaly has been
	// open, as of the last round.
	OngoingAnomalyDuration time.Duration
	// Open counts the open anomalies per type; Detected and Started count
	// every anomaly and every fix started since the start.
	Open, Detected, Started [NumTypes]int
}

// State returns the snapshot as of now.
func (d *Detector) State(now time.Time) State {
	var st State
	s := &d.stats
	for _, t := range Types {
		st.SelfHealing[t] = d.cfg.Healing(t)
		for _, a := range slices.Backward(d.recent[t]) {
			st.Recent[t] = append(st.Recent[t], a.clone())
		}
		if n := s.detected[t]; n > 1 {
			st.MeanTimeBetweenAnomalies[t] = s.lastDetected[t].Sub(s.firstDetected[t]) / time.Duration(n-1)
		}
		if a := d.open[t]; a != nil {
			st.Open[t] = 1
			st.OngoingAnomalyDuration = max(st.OngoingAnomalyDuration, now.Sub(a.Detected))
		}
		st.Detected[t], st.Started[t] = s.detected[t], s.started[t]
		st.NumSelfHealingStarted += s.started[t]
	}
	if st.NumSelfHealingStarted > 0 {
		st.MeanTimeToStartFix = s.timeToStartTotal / time.Duration(st.NumSelfHealingStarted)
	}
	st.NumSelfHealingFailedToStart = s.failedToStart
	if d.ongoing != nil {
		a := d.ongoing.clone()
		st.Ongoing = &a
	}
	return st
}

// History returns every kept anomaly, newest first: what was seen, what
// was done and when.
func (st *State) History() []Anomaly {
	var out []Anomaly
	for _, rs := range st.Recent {
		out = append(out, rs...)
	}
	slices.SortStableFunc(out, func(a, b Anomaly) int { return b.Detected.Compare(a.Detected) })
	return out
}
