package provision

import (
	"context"
	"errors"
	"fmt"

	"github.com/weirhq/weir/autoscaler/policy"
	"github.com/weirhq/weir/cluster"
)

// Local is the control plane of a `weir up` cluster (cluster.Client). Its
// update-broker-count runs the collector's rebalance itself: add_broker
// after starting new brokers, remove_broker before stopping the emptied
// ones.
type Local struct {
	c *cluster.Client
}

// NewLocal returns the provisioner for the control plane at address
// (host:port or a URL).
func NewLocal(address string) *Local { return &Local{c: cluster.NewClient(address)} }

// Name is "local".
func (l *Local) Name() string { return "local" }

// Describe is the control plane's DescribeCluster.
func (l *Local) Describe(ctx context.Context) (policy.Cluster, error) {
	info, err := l.c.Describe(ctx)
	if err != nil {
		return policy.Cluster{}, fmt.Errorf("describing the cluster: %w", err)
	}
	out := policy.Cluster{State: info.State, Brokers: info.NumberOfBrokerNodes, Operation: info.ActiveOperationARN,
		Provisioned: map[int32]int64{}}
	for _, b := range info.Brokers {
		if b.ProvisionedBytes > 0 {
			out.Provisioned[int32(b.ID)] = b.ProvisionedBytes
		}
	}
	return out, nil
}

// Agents lists each broker's agent endpoints, as the control plane
// describes them (empty when the cluster runs without agents).
func (l *Local) Agents(ctx context.Context) ([]Agent, error) {
	info, err := l.c.Describe(ctx)
	if err != nil {
		return nil, fmt.Errorf("describing the cluster: %w", err)
	}
	var out []Agent
	for _, b := range info.Brokers {
		if b.AgentMetrics != "" {
			out = append(out, Agent{Broker: int32(b.ID), Metrics: b.AgentMetrics, Node: b.AgentNodeMetrics})
		}
	}
	return out, nil
}

// Agent is a broker's agent's Prometheus endpoints.
type Agent struct {
	Broker        int32
	Metrics, Node string
}

// UpdateBrokerStorage is the control plane's UPDATE_BROKER_STORAGE.
func (l *Local) UpdateBrokerStorage(ctx context.Context, brokers []int32, bytes int64) (string, error) {
	ids := make([]int, len(brokers))
	for i, b := range brokers {
		ids[i] = int(b)
	}
	arn, err := l.c.UpdateBrokerStorage(ctx, ids, bytes, "")
	return arn, busy("update-broker-storage", err)
}

// UpdateBrokerCount is the control plane's UPDATE_BROKER_COUNT.
func (l *Local) UpdateBrokerCount(ctx context.Context, count int) (string, error) {
	arn, err := l.c.UpdateBrokerCount(ctx, count, "")
	return arn, busy("update-broker-count", err)
}

// Operation is the control plane's DescribeClusterOperation.
func (l *Local) Operation(ctx context.Context, id string) (Operation, error) {
	op, err := l.c.Operation(ctx, id)
	if err != nil {
		return Operation{}, fmt.Errorf("describing operation %s: %w", id, err)
	}
	out := Operation{ID: op.ARN, Type: op.Type, State: op.State}
	if op.Error != nil {
		out.Error = op.Error.String
	}
	return out, nil
}

// busy marks the control plane's 409 (the cluster is not ACTIVE) as
// ErrBusy.
func busy(what string, err error) error {
	if err == nil {
		return nil
	}
	var api *cluster.APIError
	if errors.As(err, &api) && api.Busy() {
		return fmt.Errorf("%s: %w: %w", what, ErrBusy, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

var _ Provisioner = (*Local)(nil)
