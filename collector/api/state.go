package api

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/weirhq/weir/collector/executor"
	"github.com/weirhq/weir/collector/planner"
)

// substates are the parts state can report, Cruise Control's names.
var substates = []string{"MONITOR", "EXECUTOR", "ANALYZER", "ANOMALY_DETECTOR"}

// ccState is Cruise Control's CruiseControlState.
type ccState struct {
	Monitor  *monitorState  `json:"MonitorState,omitempty"`
	Executor *executorState `json:"ExecutorState,omitempty"`
	Analyzer *analyzerState `json:"AnalyzerState,omitempty"`
	Anomaly  *anomalyState  `json:"AnomalyDetectorState,omitempty"`
	Version  int            `json:"version"`
}

// state (GET): the monitor's, executor's, analyzer's and anomaly
// detector's states (substates picks some).
func (s *Server) stateEndpoint() endpoint {
	return endpoint{name: "state", method: "GET", params: []string{"substates", "verbose", "super_verbose"},
		handle: func(ctx context.Context, p *params, _ *userTask) (any, error) {
			want, err := readSubstates(p)
			if err != nil {
				return nil, err
			}
			verbose, err := p.boolean("verbose", false)
			if err != nil {
				return nil, err
			}
			s.settleExecutions()
			return s.state(want, verbose), nil
		}}
}

func readSubstates(p *params) ([]string, error) {
	want := p.list("substates")
	for i, w := range want {
		want[i] = strings.ToUpper(w)
		if !slices.Contains(substates, want[i]) {
			return nil, userErr("Unsupported substates in %s. Supported: %v", w, substates)
		}
	}
	if len(want) == 0 {
		return substates, nil
	}
	return want, nil
}

func (s *Server) state(want []string, verbose bool) *ccState {
	out := &ccState{Version: 1}
	if slices.Contains(want, "MONITOR") {
		m := renderMonitorState(s.o.Monitor.State(s.o.Now()), verbose)
		out.Monitor = &m
	}
	if slices.Contains(want, "EXECUTOR") {
		e := renderExecutorState(s.o.Executor.State(), verbose)
		out.Executor = &e
	}
	if slices.Contains(want, "ANALYZER") {
		out.Analyzer = s.analyzerState()
	}
	if slices.Contains(want, "ANOMALY_DETECTOR") {
		out.Anomaly = s.anomalyState()
	}
	return out
}

// executorState is Cruise Control's ExecutorState, with Weir's progress
// figures (bytes moved and left, ETA) beside its counts.
type executorState struct {
	State                          string         `json:"state"`
	TriggeredUserTaskID            string         `json:"triggeredUserTaskId,omitempty"`
	NumTotalPartitionMovements     int            `json:"numTotalPartitionMovements"`
	NumPendingPartitionMovements   int            `json:"numPendingPartitionMovements"`
	NumInProgressPartitionMoves    int            `json:"numInProgressPartitionMovements"`
	NumFinishedPartitionMovements  int            `json:"numFinishedPartitionMovements"`
	NumCancelledPartitionMovements int            `json:"numCancelledPartitionMovements"`
	NumDeadPartitionMovements      int            `json:"numDeadPartitionMovements"`
	NumTotalLeadershipMovements    int            `json:"numTotalLeadershipMovements"`
	NumPendingLeadershipMovements  int            `json:"numPendingLeadershipMovements"`
	NumFinishedLeadershipMovements int            `json:"numFinishedLeadershipMovements"`
	NumCancelledLeadershipMoves    int            `json:"numCancelledLeadershipMovements"`
	FinishedDataMovementMB         float64        `json:"finishedDataMovement"`
	TotalDataToMoveMB              float64        `json:"totalDataToMove"`
	RemainingDataMB                float64        `json:"remainingDataToMove"`
	ETASeconds                     float64        `json:"etaSeconds"`
	ReplicationThrottle            int64          `json:"replicationThrottle"`
	MaxConcurrentPerBroker         int            `json:"maximumConcurrentPartitionMovementsPerBroker"`
	InProgress                     []inFlightMove `json:"inProgressPartitionMovement,omitempty"`
	Dead                           []moveFailure  `json:"deadPartitionMovement,omitempty"`
	External                       []string       `json:"externalPartitionMovements,omitempty"`
	LastTask                       string         `json:"lastUserTaskId,omitempty"`
	LastResult                     string         `json:"lastResult,omitempty"`
	Error                          string         `json:"error,omitempty"`
}

type inFlightMove struct {
	Partition string  `json:"topicPartition"`
	From      []int32 `json:"oldReplicas"`
	To        []int32 `json:"newReplicas"`
	SinceMs   int64   `json:"startMs"`
}

type moveFailure struct {
	Partition string `json:"topicPartition"`
	Error     string `json:"error"`
}

func renderExecutorState(st executor.State, verbose bool) executorState {
	e := executorState{
		State: st.Phase, TriggeredUserTaskID: st.TaskID,
		NumTotalPartitionMovements: st.Partitions.Total, NumPendingPartitionMovements: st.Partitions.Pending,
		NumInProgressPartitionMoves: st.Partitions.InProgress, NumFinishedPartitionMovements: st.Partitions.Completed,
		NumCancelledPartitionMovements: st.Partitions.Aborted, NumDeadPartitionMovements: st.Partitions.Dead,
		NumTotalLeadershipMovements: st.Leaders.Total, NumPendingLeadershipMovements: st.Leaders.Pending,
		NumFinishedLeadershipMovements: st.Leaders.Completed, NumCancelledLeadershipMoves: st.Leaders.Aborted,
		FinishedDataMovementMB: round(float64(st.DataMoved) / mb), TotalDataToMoveMB: round(float64(st.DataToMove) / mb),
		RemainingDataMB: round(float64(st.DataRemaining) / mb), ETASeconds: round(st.ETA.Seconds()),
		ReplicationThrottle: st.Throttle, MaxConcurrentPerBroker: st.PeakBrokerMoves, External: st.External,
		LastTask: st.LastTaskID, LastResult: st.LastResult, Error: st.LastError,
	}
	for _, f := range st.InFlight {
		e.InProgress = append(e.InProgress, inFlightMove{Partition: f.Partition, From: f.From, To: f.To, SinceMs: f.Since.UnixMilli()})
	}
	for _, f := range st.Failures {
		e.Dead = append(e.Dead, moveFailure{Partition: f.Partition, Error: f.Error})
	}
	if !verbose && len(e.InProgress) > 20 {
		e.InProgress = e.InProgress[:20]
	}
	return e
}

// analyzerState is Cruise Control's AnalyzerState.
type analyzerState struct {
	IsProposalReady bool            `json:"isProposalReady"`
	ReadyGoals      []string        `json:"readyGoals"`
	GoalReadiness   []goalReadiness `json:"goalReadiness"`
}

type goalReadiness struct {
	Name                     string         `json:"name"`
	ModelCompleteRequirement map[string]any `json:"modelCompleteRequirement"`
	Status                   string         `json:"status"`
}

func (s *Server) analyzerState() *analyzerState {
	ready := s.cached() != nil
	a := &analyzerState{IsProposalReady: ready, ReadyGoals: []string{}}
	status := "notReady"
	if ready {
		status = "ready"
	}
	for _, g := range planner.Goals() {
		if ready {
			a.ReadyGoals = append(a.ReadyGoals, g.Name)
		}
		a.GoalReadiness = append(a.GoalReadiness, goalReadiness{Name: g.Name, Status: status,
			ModelCompleteRequirement: map[string]any{"requiredNumSnapshots": 1, "minMonitoredPartitionsPercentage": 0.0, "includeAllTopics": true}})
	}
	return a
}

// Text is Cruise Control's plain-text state.
func (c *ccState) Text() string {
	var sb strings.Builder
	if m := c.Monitor; m != nil {
		fmt.Fprintf(&sb, "MonitorState: {state: %s, NumValidWindows: %d, NumValidPartitions: %d/%d (%.3f%%), reasonOfLatestPauseOrResume: %s}\n",
			m.State, m.NumValidWindows, m.NumValidPartitions, m.NumTotalPartitions, m.MonitoringCoveragePct, m.Reason)
	}
	if e := c.Executor; e != nil {
		fmt.Fprintf(&sb, "ExecutorState: {state: %s, finished %d/%d partition movements, %d/%d leadership movements, %.1f/%.1f MB}\n",
			e.State, e.NumFinishedPartitionMovements, e.NumTotalPartitionMovements, e.NumFinishedLeadershipMovements,
			e.NumTotalLeadershipMovements, e.FinishedDataMovementMB, e.TotalDataToMoveMB)
	}
	if a := c.Analyzer; a != nil {
		fmt.Fprintf(&sb, "AnalyzerState: {isProposalReady: %t, readyGoals: %v}\n", a.IsProposalReady, a.ReadyGoals)
	}
	if c.Anomaly != nil {
		sb.WriteString(c.Anomaly.text())
	}
	return sb.String()
}
