package cluster

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/weirhq/weir/collector/ccclient"
)

// The control plane and the collector's self-healing work together:
//
//   - while the collector heals (its anomaly detector runs a fix), the
//     cluster is HEALING and an operation records it, so an update waits
//     as MSK's rule says;
//   - while the control plane keeps a broker down on purpose (a rolling
//     restart), the collector's BROKER_FAILURE healing is off, so a
//     restart never costs data movement; it is switched back on after.

// OpSelfHealing is the operation that records a self-healing fix (Weir's:
// MSK's control plane heals without one).
const OpSelfHealing = "SELF_HEALING"

// healPoll is how often the control plane looks at the collector's
// anomaly detector.
const healPoll = time.Second

// Watch follows the collector's self-healing until Close.
func (cp *ControlPlane) Watch() {
	if cp.coll == nil {
		return
	}
	ctx := cp.base
	cp.wg.Add(1)
	go func() {
		defer cp.wg.Done()
		healing := ""
		t := time.NewTicker(healPoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			healing = cp.followHealing(ctx, healing)
		}
	}()
}

// followHealing starts or ends the SELF_HEALING operation as the
// collector's ongoing fix appears and ends; arn is the one in progress.
func (cp *ControlPlane) followHealing(ctx context.Context, arn string) string {
	st, err := cp.coll.Anomalies(ctx)
	if err != nil {
		return arn
	}
	switch {
	case arn == "" && st.Healing():
		return cp.startHealing(st.Ongoing, describeOngoing(st))
	case arn != "" && !st.Healing():
		cp.finish(arn, nil)
		return ""
	}
	return arn
}

func (cp *ControlPlane) startHealing(id, what string) string {
	n := len(cp.Spec().Brokers)
	op, err := cp.begin(OpSelfHealing, "", ClusterShape{NumberOfBrokerNodes: n}, StateHealing)
	if err != nil {
		cp.logger.Printf("the collector is healing anomaly %s while the cluster is busy: %v", id, err)
		return ""
	}
	now := cp.now()
	cp.update(op.ARN, func(o *Operation) {
		o.Steps = append(o.Steps, Step{Name: "the collector heals " + what, Status: "IN_PROGRESS", Start: now})
	})
	cp.logger.Printf("the collector is healing anomaly %s: %s", id, what)
	return op.ARN
}

// describeOngoing names the anomaly being healed.
func describeOngoing(st *ccclient.AnomalyState) string {
	for _, a := range st.All() {
		if a.ID == st.Ongoing {
			return fmt.Sprintf("%s %s: %s", a.Type, a.ID, a.Description)
		}
	}
	return "anomaly " + st.Ongoing
}

// brokerHealingOff switches the collector's BROKER_FAILURE healing off
// for a rolling restart and returns the function that switches it back on
// (only if it was on: an operator's choice stays).
func (cp *ControlPlane) brokerHealingOff(ctx context.Context) func() {
	if cp.coll == nil {
		return func() {}
	}
	st, err := cp.coll.Anomalies(ctx)
	if err != nil || !slices.Contains(st.SelfHealingEnabled, brokerFailure) {
		return func() {}
	}
	if err := cp.coll.SetSelfHealing(ctx, nil, []string{brokerFailure}); err != nil {
		cp.logger.Printf("could not switch the collector's broker-failure healing off for the rolling restart: %v", err)
		return func() {}
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := cp.coll.SetSelfHealing(ctx, []string{brokerFailure}, nil); err != nil {
			cp.logger.Printf("could not switch the collector's broker-failure healing back on: %v (POST admin?enable_self_healing_for=%s)", err, brokerFailure)
		}
	}
}

const brokerFailure = "BROKER_FAILURE"
