package api

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/weirhq/weir/collector/anomaly"
)

// anomalyState is Cruise Control's AnomalyDetectorState (state,
// substates=anomaly_detector), from the anomaly detector's snapshot: per
// type the recent anomalies, newest first, each with Cruise Control's
// fields (anomalyId, detectionMs, statusUpdateMs, status, and per type
// failedBrokersByTimeMs or fixable/unfixableViolatedGoals) and Weir's
// (description, note, the fix's task and times, resolvedMs, and
// interruptedMs: when a collector restart found the fix running).
type anomalyState struct {
	SelfHealingEnabled      []string           `json:"selfHealingEnabled"`
	SelfHealingDisabled     []string           `json:"selfHealingDisabled"`
	SelfHealingEnabledRatio map[string]float64 `json:"selfHealingEnabledRatio"`
	RecentGoalViolations    []anomalyEntry     `json:"recentGoalViolations"`
	RecentBrokerFailures    []anomalyEntry     `json:"recentBrokerFailures"`
	RecentMetricAnomalies   []anomalyEntry     `json:"recentMetricAnomalies"`
	RecentDiskFailures      []anomalyEntry     `json:"recentDiskFailures"`
	RecentTopicAnomalies    []anomalyEntry     `json:"recentTopicAnomalies"`
	RecentMaintenanceEvents []anomalyEntry     `json:"recentMaintenanceEvents"`
	Metrics                 anomalyMetrics     `json:"metrics"`
	OngoingSelfHealing      string             `json:"ongoingSelfHealingAnomaly"`
	BalancednessScore       float64            `json:"balancednessScore"`
}

type anomalyMetrics struct {
	MeanTimeBetweenAnomaliesMs  map[string]float64 `json:"meanTimeBetweenAnomaliesMs"`
	MeanTimeToStartFixMs        float64            `json:"meanTimeToStartFixMs"`
	NumSelfHealingStarted       int                `json:"numSelfHealingStarted"`
	NumSelfHealingFailedToStart int                `json:"numSelfHealingFailedToStart"`
	OngoingAnomalyDurationMs    int64              `json:"ongoingAnomalyDurationMs"`
}

type anomalyEntry struct {
	AnomalyID              string           `json:"anomalyId"`
	DetectionMs            int64            `json:"detectionMs"`
	StatusUpdateMs         int64            `json:"statusUpdateMs"`
	Status                 string           `json:"status"`
	Description            string           `json:"description"`
	FailedBrokersByTimeMs  map[string]int64 `json:"failedBrokersByTimeMs,omitempty"`
	FixableViolatedGoals   []string         `json:"fixableViolatedGoals,omitempty"`
	UnfixableViolatedGoals []string         `json:"unfixableViolatedGoals,omitempty"`
	Brokers                []int32          `json:"brokers,omitempty"`
	Partitions             []string         `json:"partitions,omitempty"`
	Note                   string           `json:"note,omitempty"`
	LastError              string           `json:"lastError,omitempty"`
	FixTaskID              string           `json:"fixTaskId,omitempty"`
	FixStartedMs           int64            `json:"fixStartedMs,omitempty"`
	FixEndedMs             int64            `json:"fixEndedMs,omitempty"`
	Attempts               int              `json:"attempts"`
	ResolvedMs             int64            `json:"resolvedMs,omitempty"`
	InterruptedMs          int64            `json:"interruptedMs,omitempty"`
}

func (s *Server) anomalyState() *anomalyState {
	var st anomaly.State
	if s.o.Anomalies != nil {
		st = s.o.Anomalies.State()
	}
	a := &anomalyState{SelfHealingEnabled: []string{}, SelfHealingDisabled: []string{}, SelfHealingEnabledRatio: map[string]float64{},
		OngoingSelfHealing: "None", BalancednessScore: 100,
		Metrics: anomalyMetrics{MeanTimeBetweenAnomaliesMs: map[string]float64{}, MeanTimeToStartFixMs: ms(st.MeanTimeToStartFix),
			NumSelfHealingStarted: st.NumSelfHealingStarted, NumSelfHealingFailedToStart: st.NumSelfHealingFailedToStart,
			OngoingAnomalyDurationMs: st.OngoingAnomalyDuration.Milliseconds()}}
	for _, t := range anomaly.Types {
		name, ratio := t.String(), 0.0
		if st.SelfHealing[t] {
			a.SelfHealingEnabled, ratio = append(a.SelfHealingEnabled, name), 1
		} else {
			a.SelfHealingDisabled = append(a.SelfHealingDisabled, name)
		}
		a.SelfHealingEnabledRatio[name] = ratio
		a.Metrics.MeanTimeBetweenAnomaliesMs[name] = ms(st.MeanTimeBetweenAnomalies[t])
	}
	lists := map[anomaly.Type]*[]anomalyEntry{anomaly.GoalViolation: &a.RecentGoalViolations, anomaly.BrokerFailure: &a.RecentBrokerFailures,
		anomaly.MetricAnomaly: &a.RecentMetricAnomalies, anomaly.DiskFailure: &a.RecentDiskFailures,
		anomaly.TopicAnomaly: &a.RecentTopicAnomalies, anomaly.MaintenanceEvent: &a.RecentMaintenanceEvents}
	for t, l := range lists {
		*l = []anomalyEntry{}
		for _, an := range st.Recent[t] {
			*l = append(*l, renderAnomaly(&an))
		}
	}
	if st.Ongoing != nil {
		a.OngoingSelfHealing = st.Ongoing.ID
	}
	if c := s.cached(); c != nil {
		a.BalancednessScore, _ = balancedness(c.proposal.Goals)
	}
	return a
}

func renderAnomaly(a *anomaly.Anomaly) anomalyEntry {
	e := anomalyEntry{AnomalyID: a.ID, DetectionMs: a.Detected.UnixMilli(), StatusUpdateMs: a.StatusUpdated.UnixMilli(),
		Status: string(a.Status), Description: a.Description, Brokers: a.Brokers, Partitions: a.Partitions, Note: a.Note, LastError: a.LastError,
		FixTaskID: a.FixTaskID, FixStartedMs: unixMs(a.FixStarted), FixEndedMs: unixMs(a.FixEnded), Attempts: a.Attempts,
		ResolvedMs: unixMs(a.Resolved), InterruptedMs: unixMs(a.Interrupted)}
	if a.Type == anomaly.BrokerFailure {
		e.FailedBrokersByTimeMs = map[string]int64{}
		for id, t := range a.FailedBrokers {
			e.FailedBrokersByTimeMs[fmt.Sprint(id)] = t.UnixMilli()
		}
		e.Brokers = nil
	}
	if a.Type == anomaly.GoalViolation {
		if a.Fixable {
			e.FixableViolatedGoals = a.Goals
		} else {
			e.UnfixableViolatedGoals = a.Goals
		}
	}
	if len(e.Partitions) > 20 {
		e.Partitions = e.Partitions[:20]
	}
	return e
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func unixMs(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// text is the plain-text form: the lists' sizes and the latest anomaly
// of each type.
func (a *anomalyState) text() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "AnomalyDetectorState: {selfHealingEnabled: %v, ongoingSelfHealingAnomaly: %s, numSelfHealingStarted: %d}\n",
		a.SelfHealingEnabled, a.OngoingSelfHealing, a.Metrics.NumSelfHealingStarted)
	lists := map[string][]anomalyEntry{"recentBrokerFailures": a.RecentBrokerFailures, "recentDiskFailures": a.RecentDiskFailures,
		"recentGoalViolations": a.RecentGoalViolations, "recentMetricAnomalies": a.RecentMetricAnomalies,
		"recentTopicAnomalies": a.RecentTopicAnomalies}
	for _, name := range slices.Sorted(maps.Keys(lists)) {
		for _, e := range lists[name] {
			fmt.Fprintf(&sb, "  %s %s %s at %s: %s", name, e.AnomalyID, e.Status,
				time.UnixMilli(e.DetectionMs).UTC().Format(time.RFC3339), e.Description)
			if e.Note != "" {
				fmt.Fprintf(&sb, " (%s)", e.Note)
			}
			sb.WriteString("\n")
		}
	}
	return sb.String()
}
