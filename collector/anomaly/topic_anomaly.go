package anomaly

import (
	"fmt"
	"strings"
)

// topicAnomalies is the TOPIC_ANOMALY detector, on the metadata:
//
//   - a partition with fewer replicas than its topic's replication factor
//     (the most replicas any of the topic's partitions has);
//   - a partition whose in-sync replicas are down to its topic's
//     min.insync.replicas while it has more replicas: one more loss and
//     acks=all produce fails.
//
// It reports and never heals: adding a replica is a change of replication
// factor, which Weir's broker refuses in a reassignment, and a partition
// at min ISR heals by its replicas catching up (or by the broker failure
// fix when a broker is gone).
func topicAnomalies(o *Observation) (*finding, bool) {
	if o.Partitions == nil {
		return nil, false
	}
	rf := map[string]int{}
	for _, p := range o.Partitions {
		rf[p.Topic] = max(rf[p.Topic], len(p.Replicas))
	}
	var below, atMin []string
	for _, p := range o.Partitions {
		name := fmt.Sprintf("%s-%d", p.Topic, p.Partition)
		switch minISR, ok := o.MinISR[p.Topic]; {
		case len(p.Replicas) < rf[p.Topic]:
			below = append(below, name)
		case ok && len(p.ISR) <= minISR && len(p.ISR) < len(p.Replicas):
			atMin = append(atMin, name)
		}
	}
	if len(below)+len(atMin) == 0 {
		return nil, true
	}
	var what []string
	if len(below) > 0 {
		what = append(what, fmt.Sprintf("%d partition(s) below their topic's replication factor (%s)", len(below), sample(below)))
	}
	if len(atMin) > 0 {
		what = append(what, fmt.Sprintf("%d partition(s) at min.insync.replicas (%s)", len(atMin), sample(atMin)))
	}
	parts := append(below, atMin...)
	return &finding{typ: TopicAnomaly, key: strings.Join(parts, ","), partitions: parts, description: strings.Join(what, "; "),
		noFix: "topic anomalies are reported, not healed: a replication factor change is not a reassignment"}, true
}

// sample names the first few items of a list.
func sample(items []string) string {
	if len(items) <= 5 {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:5], ", ") + fmt.Sprintf(" and %d more", len(items)-5)
}
