// Package monitor is the collector's load monitor, Cruise Control's
// LoadMonitor rethought: it reads the agents' load samples (agent/samples)
// from the samples topic, keeps them in windows, reads the cluster's
// metadata over the Kafka protocol (kadm), and builds the load model
// (collector/model) the planner works on. It talks to brokers only through
// the Kafka protocol, so it works against Apache Kafka and MSK too.
//
// # Windows
//
// Cruise Control's MetricSampleAggregator rules (window.go, validity.go):
//
//   - Time is cut into windows of PartitionWindow, numbered from the Unix
//     epoch. The window holding now is open and never counts; the last
//     NumPartitionWindows completed windows are kept, older ones dropped.
//     Broker samples have windows of their own (BrokerWindow,
//     NumBrokerWindows, MinSamplesPerBrokerWindow).
//   - A partition is valid in a window with at least
//     MinSamplesPerPartitionWindow samples in it, or with that many in both
//     windows beside it (Cruise Control's AVG_ADJACENT extrapolation: one
//     window's gap, an agent restarting or the samples topic's leader
//     moving, costs no window).
//   - A window is valid when it holds a sample and the share of counted
//     partitions valid in it is at least MinValidPartitionRatio. Counted
//     are all the metadata's partitions, internal topics' included, except
//     the samples topic's own: agents may filter it out, and the model
//     must not wait for the load of its own input (its partitions are in
//     the model all the same, with whatever load was sampled).
//   - A model needs MinValidWindows valid windows; before that Model
//     returns *NotEnoughDataError with an estimate of the wait.
//   - A partition's load averages, over the valid windows in which it has
//     enough samples of its own, each window's mean of bytes_in_per_sec, bytes_out_per_sec and
//     messages_in_per_sec; its size is the latest sampled size_bytes, or,
//     for partitions whose agents had no admin endpoint, the leader's
//     replica size from DescribeLogDirs (read at most once a window).
//     ValidPartitionRatio is the share of counted partitions valid in
//     every valid window.
//   - Samples are rejected and counted
//     (weir_collector_samples_total{result="rejected",reason}) when their
//     schema id is unknown (unknown_schema), they do not decode (decode),
//     another cluster sent them (cluster_name, when Config.ClusterName is
//     set), they are older than the kept windows (too_old) or more than
//     MaxFutureSkew ahead of now (future), or sampling is paused (paused,
//     Cruise Control's pause_sampling: read, not added).
//
// Run starts reading at the first offset at or after the oldest kept
// window's start (ListOffsets by timestamp), so a restarted collector
// rebuilds the same windows from the topic; while it reads back to the end
// offsets it found, State says LOADING.
//
// # Capacity
//
// Per broker (build.go, capacity.go), in base units, with
// model.Broker.CapacitySource saying which:
//
//   - "file": Config.CapacityFile, Cruise Control's capacity.json or
//     capacityJBOD.json, exactly: DISK in MB (capacityJBOD: a map of log
//     dir to MB, summed), CPU in percent of the broker's cores (or
//     {"num.cores": "N"}), NW_IN and NW_OUT in KB/s, MB and KB 1024-based
//     as Cruise Control counts them; brokerId -1 is every other broker's
//     default. The file overrides the agents. A CPU percent is a share of
//     the cores the broker's agent reports (DefaultCPUCores without one).
//     A file naming a broker the cluster does not have fails Model.
//   - "agent": the broker's latest broker_load_v2 sample: cpu_cores;
//     disk_capacity_bytes, or provisioned_storage_bytes when set and
//     smaller; network_capacity_bytes_per_sec for both directions, or
//     DefaultNetworkCapacity when the agent did not know it (loopback).
//   - "default": no v2 sample (a v1 agent, a dead broker, no agent):
//     DefaultCPUCores, DefaultNetworkCapacity each way, and the v1
//     sample's disk_capacity_bytes if there is one, else 0.
//
// # CPU
//
// Agents measure a broker's CPU, not a partition's (cpu.go). A broker's
// cores in use, C_b = cpu_percent ÷ 100 × cpu_cores averaged over its
// valid broker windows, are split over its replicas in proportion to
// Cruise Control's default linear CPU model:
//
//	w(leader)   = 0.6·bytesIn + 0.1·(bytesOut + (RF−1)·bytesIn)
//	w(follower) = 0.3·bytesIn
//	cpu(r on b) = C_b · w(r) ÷ Σ w(replicas on b)   (equal shares when Σ w = 0)
//
// LeaderCPU is the leader replica's; FollowerCPU the mean of the
// followers'. cpu_percent is the broker process's own share of the
// host's cores (docs/AGENT.md), so brokers sharing a host (weir up) each
// count their own load.
//
// # Concurrency
//
// Monitor.mu is the only lock; it guards the windows, the metadata, the
// sizes and the counters. Run owns two goroutines (the consumer loop on
// its own and the metadata refresher) and returns after both.
//
// # Files
//
//	doc.go       this
//	config.go    Config, DefaultConfig (the arithmetic), Set by Cruise Control's keys
//	capacity.go  Cruise Control's capacity files
//	window.go    windows: rings of per-window accumulators per partition and broker
//	validity.go  which windows are valid; NotEnoughDataError
//	build.go     the model from metadata, windows, sizes and capacity (pure)
//	cpu.go       apportioning broker CPU over replicas
//	metadata.go  kadm metadata and DescribeLogDirs
//	monitor.go   Monitor, New, Model, sample intake
//	run.go       Run: the consumer and the metadata refresher
//	state.go     State, Pause, Resume
//	metrics.go   weir_collector_samples_total, _model_valid_windows,
//	             _model_valid_partition_ratio, _sampling_paused
package monitor
