package cluster

import (
	"context"
	"fmt"
	"slices"
)

// RebootBroker restarts brokers one at a time, the safe way: the broker
// is stopped with SIGTERM (Weir's broker then moves its leaderships away:
// a controlled shutdown), started again on the same address and storage,
// and the next one only once it is ready and every partition is back in
// sync. It returns the operation's ARN; the work goes on in the
// background.
func (cp *ControlPlane) RebootBroker(ctx context.Context, ids []int) (string, error) {
	s := cp.Spec()
	if len(ids) == 0 {
		return "", fmt.Errorf("%w: name at least one broker id", errBadRequest)
	}
	for _, id := range ids {
		if id < 1 || id > len(s.Brokers) {
			return "", fmt.Errorf("%w: broker %d is not in the cluster (brokers 1 to %d)", errBadRequest, id, len(s.Brokers))
		}
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	op, err := cp.begin(OpRebootNode, "", ClusterShape{NumberOfBrokerNodes: len(s.Brokers)}, StateRebootingBroker)
	if err != nil {
		return "", err
	}
	arn := op.ARN
	cp.update(arn, func(o *Operation) { o.BrokerIDs = ids })
	cp.run(ctx, arn, func(ctx context.Context, step func(string, func() error) error) error {
		defer cp.brokerHealingOff(ctx)()
		for _, id := range ids {
			if err := cp.rollOne(ctx, id, step); err != nil {
				return err
			}
		}
		return nil
	})
	return arn, nil
}

// rollOne restarts one broker and waits for the cluster to be whole.
func (cp *ControlPlane) rollOne(ctx context.Context, id int, step func(string, func() error) error) error {
	if err := step(fmt.Sprintf("stop broker %d (controlled shutdown)", id), func() error {
		return cp.sup.Hold(ctx, brokerName(id))
	}); err != nil {
		return err
	}
	if err := step(fmt.Sprintf("start broker %d", id), func() error {
		if err := cp.sup.Release(ctx, brokerName(id)); err != nil {
			return err
		}
		return cp.awaitBrokerReady(ctx, id)
	}); err != nil {
		return err
	}
	return step("wait until every partition is in sync", func() error { return cp.awaitInSync(ctx) })
}
