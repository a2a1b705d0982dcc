package policy

import (
	"fmt"
	"time"
)

// Decide is the autoscaler's whole judgement: from the metrics window, the
// policy, the cluster and the actions already taken, at in.Now, it returns
// the actions to take and, for each change it would make but does not, the
// reason it holds. It reads no clock and does no I/O.
//
// Storage is decided first and wins: while storage grows, the broker count
// waits (a cluster runs one operation at a time, as MSK does).
func Decide(in Input) Decision {
	var d Decision
	if in.Policy == nil {
		return d
	}
	if in.Policy.Storage != nil {
		decideStorage(in, in.Policy.Storage, &d)
	}
	if in.Policy.Brokers != nil {
		decideBrokers(in, in.Policy.Brokers, &d)
	}
	return d
}

// gate holds any change while the cluster is not ACTIVE, runs an operation,
// or is about to run one of another kind from this decision (several storage
// actions are one operation, as in MSK's UpdateBrokerStorage).
func gate(in Input, kind Kind, d *Decision, want string) bool {
	switch {
	case in.Cluster.State != Active:
		d.Holds = append(d.Holds, Hold{Kind: kind, Blocked: NotActive,
			Reason: fmt.Sprintf("cluster is %s, not ACTIVE (would %s)", orNone(in.Cluster.State), want)})
	case in.Cluster.Operation != "":
		d.Holds = append(d.Holds, Hold{Kind: kind, Blocked: OperationInProgress,
			Reason: fmt.Sprintf("operation %s in progress (would %s)", in.Cluster.Operation, want)})
	case len(d.Actions) > 0 && d.Actions[0].Kind != kind:
		d.Holds = append(d.Holds, Hold{Kind: kind, Blocked: OperationInProgress,
			Reason: fmt.Sprintf("%s first, one operation at a time (would %s)", d.Actions[0].Kind.verb(), want)})
	default:
		return true
	}
	return false
}

func (k Kind) verb() string {
	if k == GrowStorage {
		return "growing storage"
	}
	return "changing the broker count"
}

// cooldown holds when the last record matching since ended less than period
// ago.
func cooldown(in Input, kind Kind, period time.Duration, match func(Record) bool, d *Decision, want string) bool {
	var last time.Time
	for _, r := range in.History {
		if r.Kind == kind && match(r) && r.At.After(last) {
			last = r.At
		}
	}
	if last.IsZero() || !in.Now.Before(last.Add(period)) {
		return true
	}
	d.Holds = append(d.Holds, Hold{Kind: kind, Blocked: Cooldown, Until: last.Add(period),
		Reason: fmt.Sprintf("last change at %s, cooldown %s (would %s)", last.UTC().Format(time.RFC3339), period, want)})
	return false
}

func orNone(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// provisioned is a broker's provisioned storage: the control plane's figure,
// else the agent's.
func (in Input) provisioned(b int32, s Sample) int64 {
	if p, ok := in.Cluster.Provisioned[b]; ok && p > 0 {
		return p
	}
	return s.StorageProvisioned
}
