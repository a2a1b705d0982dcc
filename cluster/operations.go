package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Cluster states, as MSK names them.
const (
	StateCreating        = "CREATING"
	StateActive          = "ACTIVE"
	StateUpdating        = "UPDATING"
	StateHealing         = "HEALING"
	StateRebootingBroker = "REBOOTING_BROKER"
	StateMaintenance     = "MAINTENANCE"
	StateDeleting        = "DELETING"
	StateFailed          = "FAILED"
)

// Operation types and states, MSK's names.
const (
	OpUpdateBrokerCount = "UPDATE_BROKER_COUNT"
	OpRebootNode        = "REBOOT_NODE"
	OpUpdateConfig      = "UPDATE_CLUSTER_CONFIGURATION"
	OpUpgrade           = "UPDATE_CLUSTER_KAFKA_VERSION"

	OpPending    = "PENDING"
	OpInProgress = "UPDATE_IN_PROGRESS"
	OpComplete   = "UPDATE_COMPLETE"
	OpFailed     = "UPDATE_FAILED"
)

// Operation is one control-plane operation (MSK's ClusterOperationInfo):
// what was asked, its state, its steps, and how it ended.
type Operation struct {
	ARN       string        `json:"operationArn"`
	Type      string        `json:"operationType"`
	State     string        `json:"operationState"`
	Created   time.Time     `json:"creationTime"`
	End       *time.Time    `json:"endTime,omitempty"`
	Source    ClusterShape  `json:"sourceClusterInfo"`
	Target    ClusterShape  `json:"targetClusterInfo"`
	BrokerIDs []int         `json:"brokerIds,omitempty"` // reboot-broker's brokers
	Steps     []Step        `json:"operationSteps"`
	Error     *OperationErr `json:"errorInfo,omitempty"`
}

// ClusterShape is MSK's MutableClusterInfo, the part an operation changes.
type ClusterShape struct {
	NumberOfBrokerNodes   int    `json:"numberOfBrokerNodes"`
	ConfigurationRevision int    `json:"configurationRevision,omitempty"`
	SoftwareVersion       string `json:"softwareVersion,omitempty"`
	// Volumes is MSK's brokerEBSVolumeInfo: the storage per broker that
	// an UPDATE_BROKER_STORAGE sets.
	Volumes []BrokerVolume `json:"brokerEBSVolumeInfo,omitempty"`
}

// Step is one step of an operation, with its status.
type Step struct {
	Name   string     `json:"stepName"`
	Status string     `json:"stepStatus"` // IN_PROGRESS, COMPLETE, FAILED
	Start  time.Time  `json:"startTime"`
	End    *time.Time `json:"endTime,omitempty"`
	Detail string     `json:"detail,omitempty"`
}

// OperationErr is MSK's ErrorInfo.
type OperationErr struct {
	Code   string `json:"errorCode"`
	String string `json:"errorString"`
}

// opStore keeps the operations in <dir>/operations.json, newest last.
// Not safe for concurrent use: the control plane's mu guards it.
type opStore struct {
	path string
	ops  []Operation
}

func loadOps(l Layout) (*opStore, error) {
	st := &opStore{path: filepath.Join(l.Dir, "operations.json")}
	data, err := os.ReadFile(st.path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the operations: %w", err)
	}
	if err := json.Unmarshal(data, &st.ops); err != nil {
		return nil, fmt.Errorf("reading %s: %w", st.path, err)
	}
	return st, nil
}

func (st *opStore) save() error {
	data, err := json.MarshalIndent(st.ops, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the operations: %w", err)
	}
	if err := writeFileAtomic(st.path, append(data, '\n')); err != nil {
		return fmt.Errorf("writing the operations: %w", err)
	}
	return nil
}

// running returns the operation not yet finished, if any.
func (st *opStore) running() *Operation {
	for i := range st.ops {
		if st.ops[i].State == OpPending || st.ops[i].State == OpInProgress {
			return &st.ops[i]
		}
	}
	return nil
}

func (st *opStore) find(arn string) *Operation {
	for i := range st.ops {
		if st.ops[i].ARN == arn {
			return &st.ops[i]
		}
	}
	return nil
}

// interrupted marks operations a restart of weir up cut off as failed:
// their processes were stopped with weir up, and a half-done change is
// not resumed blindly.
func (st *opStore) interrupted(now time.Time) []string {
	var out []string
	for i := range st.ops {
		op := &st.ops[i]
		if op.State != OpPending && op.State != OpInProgress {
			continue
		}
		op.State, op.End = OpFailed, &now
		op.Error = &OperationErr{Code: "INTERRUPTED", String: "weir up stopped while the operation ran; the cluster runs as cluster.json describes it: check describe and repeat the operation if needed"}
		for j := range op.Steps {
			if op.Steps[j].Status == "IN_PROGRESS" {
				op.Steps[j].Status, op.Steps[j].End = "FAILED", &now
			}
		}
		out = append(out, op.ARN)
	}
	return out
}

// list returns copies of the operations, newest first.
func (st *opStore) list() []Operation {
	out := make([]Operation, len(st.ops))
	for i, op := range st.ops {
		out[len(out)-1-i] = op.clone()
	}
	return out
}

// clone copies the operation deep enough that the copy can be read (as
// JSON, say) outside the control plane's lock while a step of the running
// one is updated in place.
func (op Operation) clone() Operation {
	op.Steps = slices.Clone(op.Steps)
	op.BrokerIDs = slices.Clone(op.BrokerIDs)
	op.Source.Volumes = slices.Clone(op.Source.Volumes)
	op.Target.Volumes = slices.Clone(op.Target.Volumes)
	if op.End != nil {
		end := *op.End
		op.End = &end
	}
	if op.Error != nil {
		e := *op.Error
		op.Error = &e
	}
	return op
}
