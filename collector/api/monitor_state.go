package api

import (
	"strconv"

	"github.com/weirhq/weir/collector/monitor"
)

// monitorState is Cruise Control's LoadMonitorState, with Weir's sample
// counters beside it.
type monitorState struct {
	State                 string             `json:"state"`
	Trained               bool               `json:"trained"`
	TrainingPct           float64            `json:"trainingPct"`
	NumMonitoredWindows   int                `json:"numMonitoredWindows"`
	NumValidWindows       int                `json:"numValidWindows"`
	MonitoredWindows      map[string]float64 `json:"monitoredWindows,omitempty"`
	NumValidPartitions    int                `json:"numValidPartitions"`
	NumTotalPartitions    int                `json:"numTotalPartitions"`
	MonitoringCoveragePct float64            `json:"monitoringCoveragePct"`
	NumFlawedPartitions   int                `json:"numFlawedPartitions"`
	Reason                string             `json:"reasonOfLatestPauseOrResume,omitempty"`
	SamplesAccepted       uint64             `json:"samplesAccepted"`
	SamplesRejected       uint64             `json:"samplesRejected"`
	LastSampleMs          int64              `json:"lastSampleMs,omitempty"`
	Error                 string             `json:"error,omitempty"`
}

func renderMonitorState(st monitor.State, verbose bool) monitorState {
	m := monitorState{
		State: st.State, Trained: true, TrainingPct: 100, NumMonitoredWindows: st.NumMonitoredWindows,
		NumValidWindows: st.NumValidWindows, NumValidPartitions: st.NumValidPartitions, NumTotalPartitions: st.TotalNumPartitions,
		MonitoringCoveragePct: round(st.ValidPartitionRatio * 100), Reason: st.ReasonOfLatestPauseOrResume,
		SamplesAccepted: st.SamplesAccepted, SamplesRejected: st.SamplesRejected, Error: st.Error,
	}
	if !st.LastSampleTime.IsZero() {
		m.LastSampleMs = st.LastSampleTime.UnixMilli()
	}
	if verbose {
		m.MonitoredWindows = map[string]float64{}
		for _, w := range st.Windows {
			m.MonitoredWindows[strconv.FormatInt(w.Start.UnixMilli(), 10)] = round(w.ValidRatio * 100)
		}
	}
	return m
}
