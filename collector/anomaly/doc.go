// Package anomaly is the collector's anomaly detector and self-healing,
// Cruise Control's AnomalyDetector rethought: detectors are pure functions
// of one round's observation (the metadata, the log dirs, the API's
// latest proposal and the executor's state) and the detector's memory;
// the Detector decides, with safety limits, which fix to start; the
// Manager does the I/O at the edge (reads, planning on a fresh model,
// handing the moves to the executor). Time arrives in the observations,
// so the core is tested on a fake clock (testdata/*.txt, datadriven).
//
// # Anomaly types (Cruise Control's names and priority)
//
//   - BROKER_FAILURE (broker_failure.go): a broker in the metadata's
//     replica sets that the metadata does not list alive (fenced after
//     broker.session.timeout.ms). Alerted broker.failure.alert.threshold.ms
//     (2 s) and healed broker.failure.self.healing.threshold.ms (5 s)
//     after it was first seen dead, by a plan that re-creates its
//     replicas on the live brokers (the planner's Dead-broker rule) under
//     self.healing.goals. A broker back before the healing threshold
//     (weir up's supervisor restarts one in about a second) costs nothing.
//     Not healed beyond fixable.failed.broker.count.threshold (10) or
//     fixable.failed.broker.percentage.threshold (0.4) failed brokers.
//   - DISK_FAILURE (disk_failure.go): a live broker whose log dirs are all
//     offline (KAFKA_STORAGE_ERROR in DescribeLogDirs) is emptied, as
//     remove_broker does; one with some dirs offline is reported only.
//     A broker whose replicas fill more than disk.capacity.threshold of
//     its capacity is healed with DiskCapacityGoal.
//   - METRIC_ANOMALY (metric_anomaly.go): the samples carry no latency,
//     so a broker whose CPU per byte of traffic is
//     metric.anomaly.cpu.ratio.threshold (3) times its peers' median;
//     healed by demotion, off by default.
//   - GOAL_VIOLATION (goal_violation.go): goals of anomaly.detection.goals
//     the API's latest default-goal proposal found violated; healed when
//     that proposal fixes them.
//   - TOPIC_ANOMALY (topic_anomaly.go): partitions below their topic's
//     replication factor or at min.insync.replicas; reported only.
//   - MAINTENANCE_EVENT: Cruise Control's type, kept in the state; Weir
//     has no maintenance-event reader.
//
// Model-based detectors (disk full, metric, goal) judge only a proposal
// computed after the last self-healing execution ended, on a model without
// Dead brokers; while a broker failure is open no other fix starts.
//
// # Decisions
//
// Detector's comment has the rules, in order; in short: one open anomaly
// per type, fixed in priority order, one fix at a time, none while any
// execution runs (an operator's included) or the executor is still
// recovering the previous run's, none within
// self.healing.cooldown.ms of the end of the last one, none while the
// model is not ready (LOAD_MONITOR_NOT_READY, retried every round). Fixes
// run through the executor, so default.replication.throttle and the
// movement concurrency limits apply; the task id is
// self-healing-<anomaly id>.
//
// # History
//
// num.cached.recent.anomaly.states anomalies per type, each with what was
// seen (description, failed brokers by time, goals, partitions), its
// status (Cruise Control's: DETECTED, CHECK_WITH_DELAY, IGNORED,
// FIX_STARTED, FIX_FAILED_TO_START, LOAD_MONITOR_NOT_READY) with a note
// saying why, and what was done when (fix task, start, end, attempts,
// resolution). Manager.State is the snapshot the API renders as
// state?substates=anomaly_detector; Manager.Recent the list, newest
// first, for the control plane.
//
// # The history file
//
// With Options.HistoryFile (the collector's data.dir/anomalies.json) the
// detector's memory outlives the process: the kept anomalies (bounded by
// num.cached.recent.anomaly.states per type), the anomaly numbering, each
// failed broker's first-seen time (Cruise Control keeps these in
// failed.brokers.file.path, so thresholds run on across a restart), the
// cooldown's start, and the admin endpoint's self-healing switches that
// differ from the configuration (an operator who turned healing off is
// not overridden by a restart; one who turned it back on to the
// configured value leaves nothing behind, so the configuration rules
// again). The format is historyRecord (history.go). It is written with
// internal/atomicfile whenever its encoding changes (after a round, a
// fix's start, an admin switch, a load), read at New; a file that cannot
// be read or decoded is logged and renamed <file>.corrupt-<time>, and the
// history starts anew. The counters (numSelfHealingStarted, the mean
// times, the Prometheus series) count since the start.
//
// On load the newest open anomaly of each type stays open: the first
// round that judges its type continues it (same condition), supersedes or
// resolves it. A fix whose execution was running is marked interrupted
// (Anomaly.Interrupted, a note; the status stays FIX_STARTED: Cruise
// Control's statuses have no "failed after starting", and
// FIX_FAILED_TO_START would say nothing moved). Once the executor has
// recovered (no fix starts while it recovers), either it adopted the
// task's reassignments in flight and the fix is the ongoing one again, or
// nothing of it was in flight and the fix ended at the restart; a
// condition that lasts is healed again after the cooldown.
//
// # Metrics
//
// weir_collector_anomalies_total{type}, weir_collector_self_healing_started_total{type},
// weir_collector_anomaly_ongoing{type} (1 while one is open).
//
// # Files
//
//	anomaly.go         Type, Status, Anomaly
//	config.go          Config, DefaultConfig, Set by Cruise Control's keys
//	observation.go     Observation: what one round sees
//	finding.go         a detector's finding; Fix
//	broker_failure.go, disk_failure.go, metric_anomaly.go,
//	goal_violation.go, topic_anomaly.go   one detector each (pure)
//	detector.go        Detector: Step, Started, NotStarted (pure)
//	plan.go            Fix.Plan: the fix's proposal (pure, the planner)
//	state.go           State, History
//	history.go         the history file's format; Detector.record, restore, resume (pure)
//	historyfile.go     reading, saving, moving aside the history file
//	manager.go         Manager: Run, a round, heal; State, Recent, SetSelfHealing
//	observe.go         the reads (kadm) behind an Observation
//	metrics.go         Prometheus series
//
// # Concurrency
//
// Manager.Run's goroutine (owned by collector.Run) does every read and
// every fix; the loop's caches (log dirs, min ISR) and the metrics'
// counts are its own. Manager.mu guards the Detector: Run steps it, State
// and Recent read it (from the API's handlers). mu is never held across a
// request to the cluster, a file write, or while taking another lock.
// historyFile.mu serializes saves (from Run's goroutine and the admin
// endpoint's SetSelfHealing): lock order historyFile.mu, then
// Manager.mu, so a snapshot taken later is written later.
package anomaly
