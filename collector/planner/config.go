package planner

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/weirhq/weir/collector/model"
)

// Config holds Cruise Control's analyzer thresholds, each under the key
// Cruise Control's cruisecontrol.properties gives it.
type Config struct {
	// BalanceThreshold is how far above the mean utilization a broker may
	// go, per resource: cpu.balance.threshold,
	// network.inbound.balance.threshold, network.outbound.balance.threshold,
	// disk.balance.threshold (default 1.10). A broker is balanced within
	// [mean·max(0, 2−t), mean·t].
	BalanceThreshold [model.NumResources]float64
	// CapacityThreshold is the share of capacity a broker may use, per
	// resource: cpu.capacity.threshold (0.7),
	// network.inbound.capacity.threshold (0.8),
	// network.outbound.capacity.threshold (0.8), disk.capacity.threshold (0.8).
	CapacityThreshold [model.NumResources]float64
	// LowUtilizationThreshold: below this mean utilization a resource's
	// distribution goal does nothing: cpu.low.utilization.threshold,
	// network.inbound.low.utilization.threshold,
	// network.outbound.low.utilization.threshold,
	// disk.low.utilization.threshold (default 0.0).
	LowUtilizationThreshold [model.NumResources]float64
	// ReplicaCountBalanceThreshold: replica.count.balance.threshold (1.10).
	ReplicaCountBalanceThreshold float64
	// LeaderReplicaCountBalanceThreshold:
	// leader.replica.count.balance.threshold (1.10).
	LeaderReplicaCountBalanceThreshold float64
	// TopicReplicaCountBalanceThreshold:
	// topic.replica.count.balance.threshold (3.00).
	TopicReplicaCountBalanceThreshold float64
	// TopicReplicaCountBalanceMinGap and MaxGap bound the topic goal's band
	// around the mean: topic.replica.count.balance.min.gap (2) and
	// topic.replica.count.balance.max.gap (40).
	TopicReplicaCountBalanceMinGap int
	TopicReplicaCountBalanceMaxGap int
	// MaxReplicasPerBroker: max.replicas.per.broker (10000).
	MaxReplicasPerBroker int
	// DefaultGoals: default.goals, comma separated in the properties file;
	// the goals a plan uses when Options.Goals is empty.
	DefaultGoals []string
}

// DefaultConfig is Cruise Control's defaults, with every goal as the
// default goal list.
func DefaultConfig() Config {
	return Config{
		BalanceThreshold:                   [model.NumResources]float64{1.10, 1.10, 1.10, 1.10},
		CapacityThreshold:                  [model.NumResources]float64{0.7, 0.8, 0.8, 0.8},
		ReplicaCountBalanceThreshold:       1.10,
		LeaderReplicaCountBalanceThreshold: 1.10,
		TopicReplicaCountBalanceThreshold:  3.00,
		TopicReplicaCountBalanceMinGap:     2,
		TopicReplicaCountBalanceMaxGap:     40,
		MaxReplicasPerBroker:               10000,
		DefaultGoals:                       goalNames(),
	}
}

// resourceKeys are the key prefixes Cruise Control uses per resource.
var resourceKeys = [model.NumResources]string{"cpu", "network.inbound", "network.outbound", "disk"}

// Set sets the field that Cruise Control's property key names.
func (c *Config) Set(key, value string) error {
	if err := c.set(key, strings.TrimSpace(value)); err != nil {
		return fmt.Errorf("setting planner config %s=%q: %w", key, value, err)
	}
	return nil
}

func (c *Config) set(key, value string) error {
	if f := c.resourceField(key); f != nil {
		return setRange(f, value, thresholdRange(key))
	}
	switch key {
	case "replica.count.balance.threshold":
		return setRange(&c.ReplicaCountBalanceThreshold, value, balanceRange)
	case "leader.replica.count.balance.threshold":
		return setRange(&c.LeaderReplicaCountBalanceThreshold, value, balanceRange)
	case "topic.replica.count.balance.threshold":
		return setRange(&c.TopicReplicaCountBalanceThreshold, value, balanceRange)
	case "topic.replica.count.balance.min.gap":
		return setInt(&c.TopicReplicaCountBalanceMinGap, value)
	case "topic.replica.count.balance.max.gap":
		return setInt(&c.TopicReplicaCountBalanceMaxGap, value)
	case "max.replicas.per.broker":
		return setInt(&c.MaxReplicasPerBroker, value)
	case "default.goals":
		return c.setGoals(value)
	}
	return fmt.Errorf("unknown key")
}

// resourceField maps "<resource>.<kind>.threshold" to its field, or nil.
func (c *Config) resourceField(key string) *float64 {
	for r, prefix := range resourceKeys {
		switch key {
		case prefix + ".balance.threshold":
			return &c.BalanceThreshold[r]
		case prefix + ".capacity.threshold":
			return &c.CapacityThreshold[r]
		case prefix + ".low.utilization.threshold":
			return &c.LowUtilizationThreshold[r]
		}
	}
	return nil
}

func (c *Config) setGoals(value string) error {
	var goals []string
	for _, g := range strings.Split(value, ",") {
		if g = strings.TrimSpace(g); g != "" {
			goals = append(goals, g)
		}
	}
	if _, err := lookupGoals(goals); err != nil {
		return err
	}
	c.DefaultGoals = goals
	return nil
}

// valueRange is what a threshold may be, and the rule in words.
type valueRange struct {
	lo, hi float64
	loOpen bool
	rule   string
}

var (
	balanceRange     = valueRange{lo: 1, hi: math.Inf(1), rule: "a balance threshold is at least 1 (1.10: within 10% of the mean)"}
	capacityRange    = valueRange{lo: 0, hi: 1, loOpen: true, rule: "a capacity threshold is a share of capacity, above 0 and at most 1"}
	utilizationRange = valueRange{lo: 0, hi: 1, rule: "a low-utilization threshold is a share of capacity, 0 to 1"}
)

func thresholdRange(key string) valueRange {
	switch {
	case strings.HasSuffix(key, ".capacity.threshold"):
		return capacityRange
	case strings.HasSuffix(key, ".low.utilization.threshold"):
		return utilizationRange
	}
	return balanceRange
}

func setRange(f *float64, value string, r valueRange) error {
	v, err := strconv.ParseFloat(value, 64)
	if err != nil || v != v || v < r.lo || v > r.hi || r.loOpen && v == r.lo {
		return errors.New(r.rule)
	}
	*f = v
	return nil
}

func setInt(f *int, value string) error {
	v, err := strconv.Atoi(value)
	if err != nil || v < 0 {
		return fmt.Errorf("want a non-negative integer")
	}
	*f = v
	return nil
}
