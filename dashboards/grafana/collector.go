package grafana

// Collector is the rebalancer: its load model, goals, proposals,
// executions, and the anomaly detector's findings and self-healing.
func Collector() *Dashboard {
	return New("weir-collector", "Weir / Collector",
		"The collector (Cruise Control's job): load model, balancedness per goal, proposals, rebalance executions, anomalies and self-healing.").
		Row("Load model").
		Add(
			Stat("Model ready", "1 once the collector has enough valid windows to plan (alert WeirCollectorModelNotReady).").
				Query(`max(weir_collector_model_ready{`+inCluster+`})`, "").Unit(UnitNone).Thresholds(Red, At(1, Green)),
			Stat("Valid windows", "Load windows with enough samples.").
				Query(`max(weir_collector_model_valid_windows{`+inCluster+`})`, "").Unit(UnitNone),
			Stat("Valid partitions", "Share of partitions with enough samples in the model's windows.").
				Query(`max(weir_collector_model_valid_partition_ratio{`+inCluster+`})`, "").Unit(UnitPercentUnit).
				Min(0).Max(1).Thresholds(Red, At(0.95, Green)),
			Stat("Sampling paused", "1 while sampling is paused (an execution in progress pauses it).").
				Query(`max(weir_collector_sampling_paused{`+inCluster+`})`, "").Unit(UnitNone),
		).
		Add(
			TimeSeries("Samples", "Load samples the collector reads from __weir_metrics per second, accepted or rejected with the reason.").
				Query(`sum by (result, reason) (rate(weir_collector_samples_total{`+inCluster+`}`+window+`))`, "{{result}} {{reason}}").Unit(UnitPerSec),
		).
		Row("Balance").
		Add(
			TimeSeries("Balancedness score", "Cruise Control's balancedness score (0-100) of the current model under the default goals.").
				Query(`weir_collector_balancedness_score{`+inCluster+`}`, "score").Unit(UnitNone).Min(0).Max(100),
			TimeSeries("Balancedness per goal", "Each goal's balancedness (100: satisfied) from the last default proposal; hard goals must reach 100.").
				Query(`weir_collector_goal_balancedness{`+inCluster+`}`, "{{goal}} (hard={{hard}})").Unit(UnitNone).Min(0).Max(100),
			TimeSeries("Proposal computation time", "99th percentile of the time the planner took for a proposal, over 5 minutes.").
				Query(`histogram_quantile(0.99, sum by (le) (rate(weir_collector_proposal_computation_seconds_bucket{`+inCluster+`}[5m])))`, "p99").Unit(UnitSeconds),
			TimeSeries("Proposed moves", "Replica moves and bytes the last default proposal would move.").
				Query(`weir_collector_proposal_replica_moves{`+inCluster+`}`, "replica moves").
				Query(`weir_collector_proposal_data_to_move_bytes{`+inCluster+`}`, "bytes to move").Unit(UnitShort),
		).
		Row("Execution").
		Add(
			TimeSeries("Execution", "1 while a rebalance executes; moves in flight (alert WeirRebalanceStuck).").
				Query(`weir_collector_execution_running{`+inCluster+`}`, "running").
				Query(`weir_collector_execution_moves_in_flight{`+inCluster+`}`, "moves in flight").Unit(UnitNone).Min(0),
			TimeSeries("Partitions by state", "Partitions of the current or last execution in each state.").
				Query(`weir_collector_execution_partitions{`+inCluster+`}`, "{{state}}").Unit(UnitNone).Min(0),
			TimeSeries("Data moved", "Bytes per second the execution moves, and bytes left.").
				Query(`rate(weir_collector_execution_bytes_moved_total{`+inCluster+`}`+window+`)`, "moved/s").
				Query(`weir_collector_execution_bytes_remaining{`+inCluster+`}`, "remaining").Unit(UnitBytes),
		).
		Row("Anomalies and self-healing").
		Add(
			TimeSeries("Open anomalies by type", "1 while an anomaly of the type is open (Cruise Control's types: broker failure, goal violation, disk failure, topic anomaly, metric anomaly).").
				Query(`max by (type) (weir_collector_anomaly_ongoing{`+inCluster+`})`, "{{type}}").Unit(UnitNone).Min(0).Max(1),
			TimeSeries("Anomalies detected and healed", "Anomalies detected, and self-healing executions started, per type, over the last 15 minutes.").
				Query(`sum by (type) (increase(weir_collector_anomalies_total{`+inCluster+`}[15m]))`, "detected {{type}}").
				Query(`sum by (type) (increase(weir_collector_self_healing_started_total{`+inCluster+`}[15m]))`, "healing {{type}}").Unit(UnitShort).Min(0),
		).
		Dashboard()
}
