// Package collector is Weir's central collector, Cruise Control rethought:
// one process per cluster that reads the agents' load samples from
// __weir_metrics, keeps a windowed load model of the cluster, computes
// proposals with Cruise Control's goals and executes them as throttled
// reassignments, behind Cruise Control's own REST API.
//
// It talks to the cluster only through the Kafka protocol (franz-go) and
// the agents' samples, so it runs against Apache Kafka and MSK as well as
// Weir's brokers.
//
// Packages:
//
//	model/     the load model and proposals: pure data
//	monitor/   samples → windows → model (Cruise Control's LoadMonitor)
//	planner/   model + goals → proposal, a pure function, one goal a file
//	executor/  proposal → batched, throttled reassignments and elections
//	anomaly/   anomaly detection and self-healing (Cruise Control's AnomalyDetector)
//	api/       Cruise Control's REST API under /kafkacruisecontrol/
//
// This package wires them: Config (a YAML file of Cruise Control's
// property names), New, and Run, which serves the API, /metrics and
// /healthz, refreshes the default proposal (and the balancedness
// metrics) every proposal.expiration.ms and runs the anomaly detector
// every anomaly.detection.interval.ms.
package collector
