// Package snapshot holds what the Weir agent collects in one cycle, as plain
// data, and the Exporter interface that every sink implements.
//
// A Snapshot is built by the agent's sources (broker admin /metrics, the
// host's /proc and statfs, the Kafka protocol), handed to every exporter
// (Prometheus, OTLP, CloudWatch, the __weir_metrics load samples), and never
// changed after it is published: exporters read it from their own goroutines
// without locks, so they must not modify it either.
//
// Rates (bytes per second, messages per second, CPU percent) are computed by
// the sources between two consecutive collections; on the first collection
// after a start, and after a counter reset, a rate is absent (Valid false or
// zero with the field documenting it) rather than invented.
//
// The monitoring levels are MSK's: DEFAULT, PER_BROKER, PER_TOPIC_PER_BROKER
// and PER_TOPIC_PER_PARTITION. A snapshot always holds everything that was
// collected; exporters apply the level and the topic and group filters when
// they turn it into series (see docs/AGENT.md for which series each level adds).
package snapshot
