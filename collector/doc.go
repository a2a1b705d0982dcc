// Package collector will be Weir's central collector: it consumes the
// agents' load samples from __weir_metrics, keeps a Cruise-Control-style load
// model of the cluster, and drives partition rebalancing (goals, proposals,
// throttled execution through AlterPartitionReassignments, add/remove
// broker), detects broker failures and goal violations, and heals them.
//
// Planned subpackages: model (the load model, pure data), goal (one goal a
// file), planner (model + goals → proposals, pure), executor (throttled
// reassignment), anomaly (detectors and self-healing), api (REST with
// Cruise Control's verbs). Not built yet; see docs/DESIGN.md.
package collector
