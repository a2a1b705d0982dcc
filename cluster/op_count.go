package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxBrokers bounds update-broker-count on one machine.
const maxBrokers = 30

// UpdateBrokerCount grows or shrinks the cluster to target brokers, MSK's
// UpdateBrokerCount. Growing starts the new brokers (and their agents),
// then asks the collector to move replicas onto them (add_broker).
// Shrinking asks the collector to move every replica off the highest
// numbered brokers (remove_broker), checks they are empty, stops them,
// then unregisters them from the metadata quorum. The metadata quorum's
// voters (the first min(3, N) brokers of the cluster as created) stay.
func (cp *ControlPlane) UpdateBrokerCount(ctx context.Context, target int, currentVersion string) (string, error) {
	cur := len(cp.Spec().Brokers)
	if err := cp.checkCount(ctx, cur, target); err != nil {
		return "", err
	}
	op, err := cp.begin(OpUpdateBrokerCount, currentVersion, ClusterShape{NumberOfBrokerNodes: target}, StateUpdating)
	if err != nil {
		return "", err
	}
	arn := op.ARN
	cp.run(ctx, arn, func(ctx context.Context, step func(string, func() error) error) error {
		if target > cur {
			return cp.grow(ctx, cur, target, step)
		}
		return cp.shrink(ctx, cur, target, step)
	})
	return arn, nil
}

// checkCount refuses counts the cluster cannot take, naming the rule.
func (cp *ControlPlane) checkCount(ctx context.Context, cur, target int) error {
	switch {
	case target == cur:
		return fmt.Errorf("%w: the cluster already has %d brokers", errBadRequest, cur)
	case target > maxBrokers:
		return fmt.Errorf("%w: at most %d brokers on one machine", errBadRequest, maxBrokers)
	case target < cur && target < slices.Max(cp.Spec().VoterIDs):
		return fmt.Errorf("%w: brokers %v are the metadata quorum's voters; the cluster cannot shrink below %d", errBadRequest, cp.Spec().VoterIDs, slices.Max(cp.Spec().VoterIDs))
	case target < cur && cp.coll == nil:
		return fmt.Errorf("%w: shrinking needs the collector to move replicas off the brokers (weir up --agents runs it)", errBadRequest)
	}
	if target < cur {
		rf, topic, err := cp.maxRF(ctx)
		if err != nil {
			return err
		}
		if rf > target {
			return fmt.Errorf("%w: topic %s has replication factor %d: the cluster cannot shrink below %d brokers", errBadRequest, topic, rf, rf)
		}
	}
	return nil
}

func (cp *ControlPlane) maxRF(ctx context.Context) (int, string, error) {
	md, err := cp.adm.Metadata(ctx)
	if err != nil {
		return 0, "", fmt.Errorf("reading metadata: %w", err)
	}
	rf, name := 0, ""
	for _, td := range md.Topics.Sorted() {
		for _, p := range td.Partitions {
			if len(p.Replicas) > rf {
				rf, name = len(p.Replicas), td.Topic
			}
		}
	}
	return rf, name, nil
}

func (cp *ControlPlane) grow(ctx context.Context, cur, target int, step func(string, func() error) error) error {
	ids := idRange(cur+1, target)
	if err := step("start brokers "+idList(ids), func() error { return cp.startBrokers(ctx, target, ids) }); err != nil {
		return err
	}
	if cp.coll == nil {
		return nil // nothing moves the load: the new brokers take new partitions only
	}
	return step("move replicas onto brokers "+idList(ids)+" (collector add_broker)", func() error {
		return cp.collectorDo(ctx, "add_broker", url.Values{"brokerid": {idList(ids)}})
	})
}

// startBrokers saves the grown spec, writes the new brokers' configs and
// starts them (and their agents), then waits until they are ready.
func (cp *ControlPlane) startBrokers(ctx context.Context, target int, ids []int) error {
	s := cp.Spec().Resized(target)
	var ports []namedPort
	for _, id := range ids {
		b := s.Brokers[id-1]
		ports = append(ports, b.brokerPorts()...)
		if cp.agents {
			ports = append(ports, b.agentPorts()...)
		}
	}
	if err := checkPorts(s.Host, ports, "choose other base ports for a new cluster"); err != nil {
		return err
	}
	if err := SaveSpec(cp.l, s); err != nil {
		return err
	}
	cp.setSpec(s)
	for _, id := range ids {
		if err := cp.startBroker(ctx, s, s.Brokers[id-1]); err != nil {
			return err
		}
	}
	for _, id := range ids {
		if err := cp.awaitBrokerReady(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

func (cp *ControlPlane) startBroker(ctx context.Context, s Spec, b BrokerSpec) error {
	p, err := brokerProcess(s, cp.l, cp.executable(), b)
	if err != nil {
		return err
	}
	procs := []Process{p}
	if cp.agents {
		a, err := agentProcess(s, cp.l, cp.executable(), b)
		if err != nil {
			return err
		}
		procs = append(procs, a)
	}
	for _, p := range procs {
		if err := cp.sup.Add(ctx, p); err != nil {
			return err
		}
	}
	cp.changed()
	return nil
}

func (cp *ControlPlane) shrink(ctx context.Context, cur, target int, step func(string, func() error) error) error {
	ids := idRange(target+1, cur)
	if err := step("move every replica off brokers "+idList(ids)+" (collector remove_broker)", func() error {
		return cp.collectorDo(ctx, "remove_broker", url.Values{"brokerid": {idList(ids)}})
	}); err != nil {
		return err
	}
	if err := step("check brokers "+idList(ids)+" hold no replica", func() error { return cp.checkEmpty(ctx, ids) }); err != nil {
		return err
	}
	if err := step("stop brokers "+idList(ids), func() error {
		for _, id := range ids {
			for _, name := range []string{agentName(id), brokerName(id)} {
				if err := cp.sup.Hold(ctx, name); err != nil && !strings.Contains(err.Error(), "no process named") {
					return err
				}
			}
		}
		s := cp.Spec().Resized(target)
		if err := SaveSpec(cp.l, s); err != nil {
			return err
		}
		cp.setSpec(s)
		cp.changed()
		return nil
	}); err != nil {
		return err
	}
	return step("unregister brokers "+idList(ids), func() error { return cp.unregisterBrokers(ctx, ids) })
}

// unregisterBrokers removes the stopped brokers' registrations from the
// metadata quorum (UnregisterBroker, KIP-631): otherwise they stay
// registered, fenced, for good, and in the raft configuration. A broker
// no longer registered counts as done; an error is asked again (no
// controller for a moment) until a minute has passed.
func (cp *ControlPlane) unregisterBrokers(ctx context.Context, ids []int) error {
	for _, id := range ids {
		err := pollUntil(ctx, time.Minute, fmt.Sprintf("unregister broker %d", id), func(ctx context.Context) error {
			req := kmsg.NewPtrUnregisterBrokerRequest()
			req.BrokerID = int32(id)
			resp, err := req.RequestWith(ctx, cp.cl)
			if err != nil {
				return err
			}
			if err := kerr.ErrorForCode(resp.ErrorCode); err != nil && !errors.Is(err, kerr.BrokerIDNotRegistered) {
				return err
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// checkEmpty fails when any of the brokers still holds a replica.
func (cp *ControlPlane) checkEmpty(ctx context.Context, ids []int) error {
	md, err := cp.adm.Metadata(ctx)
	if err != nil {
		return fmt.Errorf("reading metadata: %w", err)
	}
	for _, td := range md.Topics.Sorted() {
		for _, p := range td.Partitions {
			for _, r := range p.Replicas {
				for _, id := range ids {
					if int(r) == id {
						return fmt.Errorf("broker %d still holds a replica of %s-%d; nothing was stopped", id, td.Topic, p.Partition)
					}
				}
			}
		}
	}
	return nil
}

func (cp *ControlPlane) setSpec(s Spec) {
	cp.mu.Lock()
	cp.mu.spec = s
	cp.mu.Unlock()
}

func (cp *ControlPlane) changed() {
	if cp.onChange != nil {
		cp.onChange()
	}
}

func idRange(from, to int) []int {
	var out []int
	for id := from; id <= to; id++ {
		out = append(out, id)
	}
	return out
}

func idList(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, ",")
}
