// Package provision is where the autoscaler's decisions become changes to a
// cluster: one interface, Provisioner, with two implementations, the local
// control plane behind `weir up` (Local) and Amazon MSK through the AWS SDK
// (MSK). The autoscaler only decides (autoscaler/policy); a provisioner
// acts, and every action is an operation on the cluster's control plane
// with an id the autoscaler waits on.
package provision

import (
	"context"
	"errors"

	"github.com/weirhq/weir/autoscaler/policy"
)

// Provisioner changes a cluster's shape through its control plane.
type Provisioner interface {
	// Name is "local" or "msk", for logs and metrics.
	Name() string
	// Describe returns the cluster's state (MSK's names: ACTIVE,
	// UPDATING, ...), broker count, provisioned storage per broker and
	// the operation in progress ("" if none).
	Describe(ctx context.Context) (policy.Cluster, error)
	// UpdateBrokerStorage sets the provisioned storage of each listed
	// broker to bytes (grow only) and returns the operation's id.
	UpdateBrokerStorage(ctx context.Context, brokers []int32, bytes int64) (string, error)
	// UpdateBrokerCount sets the number of brokers and returns the
	// operation's id. The local control plane runs the rebalance that
	// goes with it (add-broker after growing, remove-broker before
	// shrinking); MSK does not, so with MSK the caller runs it through the
	// collector.
	UpdateBrokerCount(ctx context.Context, count int) (string, error)
	// Operation reports where an operation stands.
	Operation(ctx context.Context, id string) (Operation, error)
}

// Operation is an operation's state, in MSK's words.
type Operation struct {
	ID string
	// Type is the control plane's name: locally UPDATE_BROKER_STORAGE,
	// UPDATE_BROKER_COUNT, ...; on MSK UPDATE_BROKER_EBS_VOLUME,
	// INCREASE_BROKER_COUNT, DECREASE_BROKER_COUNT, ...
	Type  string
	State string // PENDING, UPDATE_IN_PROGRESS, UPDATE_COMPLETE, UPDATE_FAILED
	Error string // why it failed, when it did
}

// Operation states.
const (
	Pending    = "PENDING"
	InProgress = "UPDATE_IN_PROGRESS"
	Complete   = "UPDATE_COMPLETE"
	Failed     = "UPDATE_FAILED"
)

// Done reports whether the operation has ended, either way.
func (o Operation) Done() bool { return o.State == Complete || o.State == Failed }

// ErrBusy is wrapped by a provisioner's error when the control plane
// refuses a change because the cluster is not ACTIVE or already runs an
// operation (MSK answers 400 BadRequestException; the local control plane
// 409). The autoscaler treats it as a hold, not a failure, and retries on
// its next evaluation.
var ErrBusy = errors.New("cluster is busy")
