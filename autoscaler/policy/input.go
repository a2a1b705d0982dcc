package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Input is everything a decision depends on. It is plain data: the process
// that gathers it can log it, and a test can write it down.
type Input struct {
	Now     time.Time
	Policy  *Policy
	Cluster Cluster
	// Metrics holds each broker's samples, oldest first, as the agents
	// reported them (aligned timestamps, as a Prometheus range query gives).
	Metrics map[int32][]Sample
	// History is the actions taken so far (the last per kind is enough).
	History []Record
}

// Cluster is the control plane's view of the cluster.
type Cluster struct {
	State       string          // ACTIVE, UPDATING, HEALING, ...
	Brokers     int             // current broker count
	Provisioned map[int32]int64 // provisioned storage per broker, bytes
	Operation   string          // the operation in progress, "" if none
}

// Active is the cluster state in which the autoscaler may act.
const Active = "ACTIVE"

// Sample is one broker's metrics at one time.
type Sample struct {
	At                 time.Time
	StorageUsed        int64
	StorageProvisioned int64 // used when Cluster.Provisioned has no entry
	CPUPercent         float64
	NetworkIn          float64 // bytes/s
	NetworkOut         float64 // bytes/s
	Partitions         int
	Leaders            int
}

// Kind names what an action changes.
type Kind string

const (
	GrowStorage    Kind = "storage"
	SetBrokerCount Kind = "brokers"
)

// Record is an action the autoscaler took, for cooldowns.
type Record struct {
	Kind    Kind
	At      time.Time
	Brokers []int32 // GrowStorage: the brokers grown
	From    int     // SetBrokerCount: the count before
	To      int     // SetBrokerCount: the count after
}

// Decision is the actions to take now and the reasons not to take others.
type Decision struct {
	Actions []Action
	Holds   []Hold
}

// Action is one change to make through a provisioner.
type Action struct {
	Kind         Kind
	Brokers      []int32 // GrowStorage: the brokers to grow
	StorageBytes int64   // GrowStorage: the new size of each
	BrokerCount  int     // SetBrokerCount: the new count
	Reason       string
}

func (a Action) String() string {
	if a.Kind == GrowStorage {
		return fmt.Sprintf("grow storage on broker(s) %s to %s: %s", ids(a.Brokers), FormatBytes(a.StorageBytes), a.Reason)
	}
	return fmt.Sprintf("set broker count to %d: %s", a.BrokerCount, a.Reason)
}

// Blocked says why the autoscaler did not act.
type Blocked string

const (
	NotActive           Blocked = "NOT_ACTIVE"
	OperationInProgress Blocked = "OPERATION_IN_PROGRESS"
	Cooldown            Blocked = "COOLDOWN"
	MaximumReached      Blocked = "MAXIMUM_REACHED"
	MinimumReached      Blocked = "MINIMUM_REACHED"
	WithinTolerance     Blocked = "WITHIN_TOLERANCE"
	NotSustained        Blocked = "NOT_SUSTAINED"
	Stabilizing         Blocked = "STABILIZING"
	InsufficientData    Blocked = "INSUFFICIENT_DATA"
)

// Hold is a decision not to act.
type Hold struct {
	Kind    Kind
	Blocked Blocked
	Until   time.Time // for Cooldown: when it ends
	Reason  string
}

func (h Hold) String() string {
	s := fmt.Sprintf("hold %s %s", h.Kind, h.Blocked)
	if !h.Until.IsZero() {
		s += " until " + h.Until.UTC().Format(time.RFC3339)
	}
	return s + ": " + h.Reason
}

func ids(bs []int32) string {
	var parts []string
	for _, b := range bs {
		parts = append(parts, fmt.Sprint(b))
	}
	return strings.Join(parts, ",")
}

func sortedBrokers(m map[int32][]Sample) []int32 {
	var out []int32
	for b := range m {
		out = append(out, b)
	}
	slices.Sort(out)
	return out
}

// latest returns the broker's last sample at or before t.
func latest(samples []Sample, t time.Time) (Sample, bool) {
	i, _ := slices.BinarySearchFunc(samples, t, func(s Sample, t time.Time) int {
		if s.At.After(t) {
			return 1
		}
		return -1
	})
	if i == 0 {
		return Sample{}, false
	}
	return samples[i-1], true
}
