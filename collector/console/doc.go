// Package console is Weir's web console, served by the collector under
// /console/: the cluster's state, the load model as a broker × resource
// heatmap, topics and their messages (with a bounded server-side search),
// consumer groups with lag and offset resets, the rebalance proposal and
// its execution, anomalies and self-healing, the control plane's
// operations and the autoscaler's decisions (docs/CONSOLE.md).
//
// Pages are html/template files rendered on the server (templates/, one
// file a page, each defining "content" inside layout.html) with one small
// script for live refresh (static/console.js), all embedded. Like the rest
// of the collector it talks to brokers only over the Kafka protocol
// (internal/topicadmin, internal/groupadmin, kgo for reading messages),
// and to the collector's state through Cruise Control's API, called in
// process through ccclient.
//
// Rules: every action that changes the cluster is a POST carrying the
// page's token, from the same origin, with an explicit confirmation, and
// is recorded (log line and the operations page); a bad parameter is a
// 400 page naming it; the search is a substring or an RE2 expression
// (never a script) bounded by bytes, time and results.
//
// Files: console.go (Options, routes, errors, the token, the action log),
// actions.go (the action log's file),
// render.go (templates and their helpers), overview.go (overview, load
// heatmap), topics.go, visible.go (the create form's wait until every
// broker serves the new topic), messages.go (viewer and search), filter.go (the
// search predicate and how a field is shown), avro.go (values decoded
// with a pasted schema), groups.go, rebalance.go,
// services.go (anomalies, operations, autoscaler), remote.go (JSON from
// the control plane and the autoscaler).
package console
