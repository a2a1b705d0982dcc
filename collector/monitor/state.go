package monitor

import (
	"errors"
	"fmt"
	"time"
)

// Monitor states, Cruise Control's MonitorState names. Weir's sampler
// consumes continuously, so SAMPLING means "consuming, but fewer valid
// windows than a model needs" and RUNNING "consuming, a model can be
// built".
const (
	StateLoading  = "LOADING"  // reading the samples topic back to where it was at start
	StateSampling = "SAMPLING" // consuming; not enough valid windows yet
	StateRunning  = "RUNNING"  // consuming; enough valid windows
	StatePaused   = "PAUSED"   // pause_sampling: samples read but not added
)

// State is the monitor's state, Cruise Control's LoadMonitor state.
type State struct {
	State                       string
	ReasonOfLatestPauseOrResume string
	NumValidWindows             int
	ValidPartitionRatio         float64 // monitoredPartitionsPercentage ÷ 100
	NumMonitoredWindows         int     // completed windows kept
	TotalNumPartitions          int     // partitions that count (all but the samples topic's)
	NumValidPartitions          int
	Windows                     []WindowState // completed windows, newest first
	SamplesAccepted             uint64
	SamplesRejected             uint64
	LastSampleTime              time.Time // the newest accepted sample's time; zero before any
	Error                       string    // the latest failure of Run (metadata, consuming), "" once it recovers
}

// WindowState is one completed window.
type WindowState struct {
	Start      time.Time
	ValidRatio float64 // share of counted partitions with enough samples in it
	Valid      bool
	Samples    int
}

// State returns the monitor's state as of now.
func (m *Monitor) State(now time.Time) State {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.mu.win.evaluate(now, m.mu.meta.counted(m.cfg.Topic))
	st := State{
		ReasonOfLatestPauseOrResume: m.mu.reason,
		NumValidWindows:             len(c.valid), ValidPartitionRatio: c.ratio,
		NumMonitoredWindows: len(c.windows), TotalNumPartitions: c.total, NumValidPartitions: c.validPartitions,
		SamplesAccepted: m.mu.accepted, SamplesRejected: m.mu.rejected, LastSampleTime: m.mu.lastSample, Error: m.errString(),
	}
	for i := len(c.windows) - 1; i >= 0; i-- {
		w := c.windows[i]
		st.Windows = append(st.Windows, WindowState{Start: windowStart(w.index, m.cfg.PartitionWindow),
			ValidRatio: w.ratio, Valid: w.valid, Samples: w.samples})
	}
	st.State = m.stateName(len(c.valid))
	return st
}

// stateName picks the state's name; mu held.
func (m *Monitor) stateName(valid int) string {
	switch {
	case m.mu.paused:
		return StatePaused
	case m.mu.loading:
		return StateLoading
	case valid < m.cfg.MinValidWindows:
		return StateSampling
	}
	return StateRunning
}

// Pause stops sampling (pause_sampling): samples are still read, so the
// consumer keeps its place, but not added to windows.
func (m *Monitor) Pause(reason string) error {
	return m.setPaused(true, reason)
}

// Resume restarts sampling (resume_sampling).
func (m *Monitor) Resume(reason string) error {
	return m.setPaused(false, reason)
}

func (m *Monitor) setPaused(paused bool, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.paused == paused {
		if paused {
			return errors.New("sampling is already paused")
		}
		return errors.New("sampling is not paused")
	}
	m.mu.paused, m.mu.reason = paused, reason
	verb := "resumed"
	if paused {
		verb = "paused"
	}
	m.logger.Info(fmt.Sprintf("sampling %s", verb), "reason", reason)
	return nil
}
