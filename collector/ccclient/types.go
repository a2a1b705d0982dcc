package ccclient

// The parts of Cruise Control's answers that the CLI shows. Unknown fields
// are ignored, so these read Cruise Control's own answers too.

// Optimization is an OptimizationResult.
type Optimization struct {
	Summary struct {
		NumReplicaMovements           int      `json:"numReplicaMovements"`
		DataToMoveMB                  int64    `json:"dataToMoveMB"`
		NumLeaderMovements            int      `json:"numLeaderMovements"`
		RecentWindows                 int      `json:"recentWindows"`
		MonitoredPartitionsPercentage float64  `json:"monitoredPartitionsPercentage"`
		ExcludedTopics                []string `json:"excludedTopics"`
		BalancednessBefore            float64  `json:"onDemandBalancednessScoreBefore"`
		BalancednessAfter             float64  `json:"onDemandBalancednessScoreAfter"`
		DataToMoveBytes               float64  `json:"dataToMoveBytes"`
		LowerBoundBytes               float64  `json:"dataToMoveLowerBoundBytes"`
		OptimizationTimeMs            int64    `json:"optimizationTimeMs"`
	} `json:"summary"`
	GoalSummary []struct {
		Goal               string  `json:"goal"`
		Status             string  `json:"status"`
		Hard               bool    `json:"hard"`
		BalancednessBefore float64 `json:"balancednessBefore"`
		BalancednessAfter  float64 `json:"balancednessAfter"`
	} `json:"goalSummary"`
	Proposals  []Proposal   `json:"proposals"`
	LoadBefore *BrokerStats `json:"loadBeforeOptimization"`
	LoadAfter  BrokerStats  `json:"loadAfterOptimization"`
	Dryrun     bool         `json:"dryrun"`
}

// Proposal is one ExecutionProposal.
type Proposal struct {
	TopicPartition string  `json:"topicPartition"`
	OldLeader      int32   `json:"oldLeader"`
	OldReplicas    []int32 `json:"oldReplicas"`
	NewReplicas    []int32 `json:"newReplicas"`
	DataToMoveMB   float64 `json:"dataToMoveMB"`
}

// BrokerStats is a BrokerStats answer (load, loadAfterOptimization).
type BrokerStats struct {
	Brokers []BrokerLoad `json:"brokers"`
}

// BrokerLoad is one broker's SingleBrokerStats.
type BrokerLoad struct {
	Broker           int32   `json:"Broker"`
	Host             string  `json:"Host"`
	Rack             string  `json:"Rack"`
	BrokerState      string  `json:"BrokerState"`
	DiskMB           float64 `json:"DiskMB"`
	DiskPct          float64 `json:"DiskPct"`
	CPUPct           float64 `json:"CpuPct"`
	LeaderNwInRate   float64 `json:"LeaderNwInRate"`
	FollowerNwInRate float64 `json:"FollowerNwInRate"`
	NwOutRate        float64 `json:"NwOutRate"`
	Replicas         int     `json:"Replicas"`
	Leaders          int     `json:"Leaders"`
	NetworkInCap     float64 `json:"NetworkInCapacity"`
	NetworkOutCap    float64 `json:"NetworkOutCapacity"`
	DiskCapacityMB   float64 `json:"DiskCapacityMB"`
	NumCore          float64 `json:"NumCore"`
}

// State is a CruiseControlState with the executor's and the anomaly
// detector's parts.
type State struct {
	Executor *ExecutorState `json:"ExecutorState"`
	Monitor  map[string]any `json:"MonitorState"`
	Anomaly  *AnomalyState  `json:"AnomalyDetectorState"`
}

// AnomalyState is the anomaly detector's state: self-healing per type,
// the anomaly being healed ("None" when none), the recent ones per type.
type AnomalyState struct {
	SelfHealingEnabled    []string  `json:"selfHealingEnabled"`
	SelfHealingDisabled   []string  `json:"selfHealingDisabled"`
	Ongoing               string    `json:"ongoingSelfHealingAnomaly"`
	RecentBrokerFailures  []Anomaly `json:"recentBrokerFailures"`
	RecentDiskFailures    []Anomaly `json:"recentDiskFailures"`
	RecentGoalViolations  []Anomaly `json:"recentGoalViolations"`
	RecentTopicAnomalies  []Anomaly `json:"recentTopicAnomalies"`
	RecentMetricAnomalies []Anomaly `json:"recentMetricAnomalies"`
}

// Healing reports whether a self-healing fix runs.
func (a *AnomalyState) Healing() bool { return a != nil && a.Ongoing != "" && a.Ongoing != "None" }

// All returns every recent anomaly with its type, newest first per type.
func (a *AnomalyState) All() []TypedAnomaly {
	var out []TypedAnomaly
	for _, g := range []struct {
		t    string
		list []Anomaly
	}{{"BROKER_FAILURE", a.RecentBrokerFailures}, {"DISK_FAILURE", a.RecentDiskFailures}, {"GOAL_VIOLATION", a.RecentGoalViolations},
		{"TOPIC_ANOMALY", a.RecentTopicAnomalies}, {"METRIC_ANOMALY", a.RecentMetricAnomalies}} {
		for _, x := range g.list {
			out = append(out, TypedAnomaly{Type: g.t, Anomaly: x})
		}
	}
	return out
}

// TypedAnomaly is an anomaly and its type.
type TypedAnomaly struct {
	Type string
	Anomaly
}

// Anomaly is one anomaly in the detector's history.
type Anomaly struct {
	ID             string  `json:"anomalyId"`
	DetectionMs    int64   `json:"detectionMs"`
	StatusUpdateMs int64   `json:"statusUpdateMs"`
	Status         string  `json:"status"`
	Description    string  `json:"description"`
	Note           string  `json:"note"`
	Brokers        []int32 `json:"brokers"`
	FixTaskID      string  `json:"fixTaskId"`
	FixStartedMs   int64   `json:"fixStartedMs"`
	FixEndedMs     int64   `json:"fixEndedMs"`
	ResolvedMs     int64   `json:"resolvedMs"`
	// InterruptedMs is when a collector restart found the fix running
	// (0 if none did); Note says what became of it.
	InterruptedMs int64 `json:"interruptedMs"`
}

// ExecutorState is the executor's progress.
type ExecutorState struct {
	State                string  `json:"state"`
	TaskID               string  `json:"triggeredUserTaskId"`
	TotalPartitions      int     `json:"numTotalPartitionMovements"`
	FinishedPartitions   int     `json:"numFinishedPartitionMovements"`
	InProgressPartitions int     `json:"numInProgressPartitionMovements"`
	DeadPartitions       int     `json:"numDeadPartitionMovements"`
	CancelledPartitions  int     `json:"numCancelledPartitionMovements"`
	TotalLeaderships     int     `json:"numTotalLeadershipMovements"`
	FinishedLeaderships  int     `json:"numFinishedLeadershipMovements"`
	FinishedDataMB       float64 `json:"finishedDataMovement"`
	TotalDataMB          float64 `json:"totalDataToMove"`
	RemainingDataMB      float64 `json:"remainingDataToMove"`
	ETASeconds           float64 `json:"etaSeconds"`
	LastResult           string  `json:"lastResult"`
	Error                string  `json:"error"`
}

// Idle reports whether no execution runs.
func (e *ExecutorState) Idle() bool {
	return e == nil || e.State == "" || e.State == "NO_TASK_IN_PROGRESS"
}
