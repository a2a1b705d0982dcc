package anomaly

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/weirhq/weir/collector/planner"
)

// Config is the anomaly detector's configuration, each field under
// Cruise Control's property name (Weir's own where Cruise Control has
// none, said so).
type Config struct {
	// SelfHealing is self.healing.enabled (Weir: true; Cruise Control:
	// false). TypeEnabled is self.healing.<type>.enabled per type
	// (broker.failure, disk.failure, goal.violation, metric.anomaly,
	// topic.anomaly, maintenance.event), TypeExplicit whether it was set
	// (by a key or the admin endpoint). As in Cruise Control a type set
	// explicitly follows its own key; the others heal when SelfHealing and
	// Weir's default for the type (true for broker failure, disk failure
	// and goal violation) are both true.
	SelfHealing  bool
	TypeEnabled  [NumTypes]bool
	TypeExplicit [NumTypes]bool
	// Interval is anomaly.detection.interval.ms (Weir: 1 s; Cruise
	// Control: 5 min).
	Interval time.Duration
	// BrokerFailureAlert is broker.failure.alert.threshold.ms (Weir: 2 s;
	// Cruise Control: 15 min), BrokerFailureHeal
	// broker.failure.self.healing.threshold.ms (Weir: 5 s; Cruise Control:
	// 30 min), both from when the broker was first seen dead.
	BrokerFailureAlert time.Duration
	BrokerFailureHeal  time.Duration
	// FixableBrokerCount is fixable.failed.broker.count.threshold (10) and
	// FixableBrokerRatio fixable.failed.broker.percentage.threshold (0.4):
	// with more failed brokers than either allows, nothing is healed.
	FixableBrokerCount int
	FixableBrokerRatio float64
	// Cooldown is self.healing.cooldown.ms (Weir's; 10 s): the least time
	// between the end of one self-healing execution and the start of the
	// next.
	Cooldown time.Duration
	// DetectionGoals is anomaly.detection.goals: the goals whose violation
	// is a GOAL_VIOLATION. HealingGoals is self.healing.goals: the goals
	// a fix plans with (the hard-goal check is skipped: the list is
	// chosen). Both default to safetyGoals.
	DetectionGoals []string
	HealingGoals   []string
	// DiskThreshold is disk.capacity.threshold (the planner's key, 0.8): a
	// broker whose replicas fill more of its disk is a DISK_FAILURE.
	DiskThreshold float64
	// CPURatioThreshold is metric.anomaly.cpu.ratio.threshold (Weir's;
	// 3.0): a broker whose CPU per byte of traffic is this many times its
	// peers' median is a METRIC_ANOMALY.
	CPURatioThreshold float64
	// RecentAnomalies is num.cached.recent.anomaly.states (10): anomalies
	// kept per type.
	RecentAnomalies int
}

// safetyGoals are Cruise Control's default anomaly.detection.goals
// (less MinTopicLeadersPerBrokerGoal, which Weir's planner does not have):
// the goals that keep data safe. Load goals (CPU, network, distribution)
// are left out of both lists by default: on a busy host they flap, and a
// fix should restore replication with the fewest moves, not rebalance.
var safetyGoals = []string{"RackAwareGoal", "ReplicaCapacityGoal", "DiskCapacityGoal"}

// DefaultConfig is Weir's defaults: self-healing on, thresholds sized
// for a cluster that restarts a broker in seconds.
func DefaultConfig() Config {
	c := Config{
		SelfHealing: true, Interval: time.Second,
		BrokerFailureAlert: 2 * time.Second, BrokerFailureHeal: 5 * time.Second,
		FixableBrokerCount: 10, FixableBrokerRatio: 0.4, Cooldown: 10 * time.Second,
		DetectionGoals: slices.Clone(safetyGoals), HealingGoals: slices.Clone(safetyGoals), DiskThreshold: 0.8, CPURatioThreshold: 3.0, RecentAnomalies: 10,
	}
	for _, t := range []Type{BrokerFailure, DiskFailure, GoalViolation} {
		c.TypeEnabled[t] = true
	}
	return c
}

// Healing reports whether anomalies of type t are healed.
func (c *Config) Healing(t Type) bool {
	return c.TypeEnabled[t] && (c.SelfHealing || c.TypeExplicit[t])
}

// SetHealing turns self-healing for t on or off explicitly.
func (c *Config) SetHealing(t Type, on bool) { c.TypeEnabled[t], c.TypeExplicit[t] = on, true }

// ParseType reads a type by Cruise Control's name, in any case.
func ParseType(s string) (Type, error) {
	for _, t := range Types {
		if strings.EqualFold(s, t.String()) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown anomaly type %q (%s)", s, strings.Join(typeNames[:], ", "))
}

var typeKeys = map[string]Type{
	"self.healing.broker.failure.enabled": BrokerFailure, "self.healing.disk.failure.enabled": DiskFailure,
	"self.healing.goal.violation.enabled": GoalViolation, "self.healing.metric.anomaly.enabled": MetricAnomaly,
	"self.healing.topic.anomaly.enabled": TopicAnomaly, "self.healing.maintenance.event.enabled": MaintenanceEvent,
}

// Set sets the field the key names. It reports false for keys that are
// not the anomaly detector's (disk.capacity.threshold is the planner's:
// the collector sets it here too).
func (c *Config) Set(key, value string) (bool, error) {
	v := strings.TrimSpace(value)
	if t, ok := typeKeys[key]; ok {
		b, err := boolean(key, v)
		c.SetHealing(t, b)
		return true, err
	}
	var err error
	switch key {
	case "self.healing.enabled":
		c.SelfHealing, err = boolean(key, v)
	case "anomaly.detection.interval.ms":
		c.Interval, err = millis(key, v)
	case "broker.failure.alert.threshold.ms":
		c.BrokerFailureAlert, err = millis(key, v)
	case "broker.failure.self.healing.threshold.ms":
		c.BrokerFailureHeal, err = millis(key, v)
	case "self.healing.cooldown.ms":
		c.Cooldown, err = millis(key, v)
	case "fixable.failed.broker.count.threshold":
		c.FixableBrokerCount, err = positive(key, v)
	case "fixable.failed.broker.percentage.threshold":
		c.FixableBrokerRatio, err = ratio(key, v, 0, 1)
	case "metric.anomaly.cpu.ratio.threshold":
		c.CPURatioThreshold, err = ratio(key, v, 1, 1000)
	case "num.cached.recent.anomaly.states":
		c.RecentAnomalies, err = positive(key, v)
	case "anomaly.detection.goals":
		c.DetectionGoals, err = goals(key, v)
	case "self.healing.goals":
		c.HealingGoals, err = goals(key, v)
	default:
		return false, nil
	}
	return true, err
}

// Validate checks the rules between keys.
func (c *Config) Validate() error {
	if c.BrokerFailureHeal < c.BrokerFailureAlert {
		return fmt.Errorf("broker.failure.self.healing.threshold.ms (%v) must be at least broker.failure.alert.threshold.ms (%v)",
			c.BrokerFailureHeal, c.BrokerFailureAlert)
	}
	return nil
}

func boolean(key, v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: %q is not true or false", key, v)
	}
	return b, nil
}

func millis(key, v string) (time.Duration, error) {
	n, err := positive(key, v)
	return time.Duration(n) * time.Millisecond, err
}

func positive(key, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive integer", key, v)
	}
	return n, nil
}

func ratio(key, v string, lo, hi float64) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < lo || f > hi {
		return 0, fmt.Errorf("%s: %q is not a number in [%g, %g]", key, v, lo, hi)
	}
	return f, nil
}

// goals reads a comma-separated goal list; names are checked against the
// planner's (short or fully qualified).
func goals(key, v string) ([]string, error) {
	var out []string
	for g := range strings.SplitSeq(v, ",") {
		if g = strings.TrimSpace(g); g != "" {
			out = append(out, g)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: at least one goal", key)
	}
	var known []string
	for _, g := range planner.Goals() {
		known = append(known, g.Name)
	}
	for i, g := range out {
		out[i] = strings.TrimPrefix(g, goalClassPrefix)
		if !slices.Contains(known, out[i]) {
			return nil, fmt.Errorf("%s: unknown goal %q (known: %s)", key, g, strings.Join(known, ", "))
		}
	}
	return out, nil
}

// goalClassPrefix is the package of Cruise Control's goal classes, whose
// fully qualified names are accepted too.
const goalClassPrefix = "com.linkedin.kafka.cruisecontrol.analyzer.goals."
