package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/collector/ccclient"
)

// ControlPlane is MSK's control plane for a `weir up` cluster: the
// cluster's state, its operations with their steps and history, and the
// operations themselves (update-broker-count, reboot-broker), carried out
// through the supervisor, the cluster's Kafka API and the collector.
//
// One operation runs at a time, on its own goroutine; an update is refused
// unless the cluster is ACTIVE (MSK's rule), naming the operation that
// holds it. Operations are persisted in <dir>/operations.json; one cut off
// by a restart of weir up is marked UPDATE_FAILED with the reason.
type ControlPlane struct {
	l        Layout
	sup      *Supervisor
	agents   bool
	logger   *log.Logger
	adm      *kadm.Client
	cl       *kgo.Client
	coll     *ccclient.Client // nil without the collector
	now      func() time.Time
	settle   time.Duration // how long partitions must be in sync before a rolling step goes on
	onChange func()        // endpoints.json after the shape changed
	shutdown func()        // stops weir up: Delete

	// base is the context of the operations and the healing watch;
	// Close cancels it and waits for them (wg).
	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu struct {
		sync.Mutex
		spec     Spec
		exe      string // the weir binary new and restarted processes run
		state    string
		version  int // MSK's currentVersion: changes with every completed update
		ops      *opStore
		deleting bool // Delete was called: weir up removes the cluster once stopped
	}
}

// ControlPlaneOptions configure a control plane.
type ControlPlaneOptions struct {
	Layout     Layout
	Spec       Spec
	Supervisor *Supervisor
	Executable string
	Agents     bool
	Collector  string // the collector's address; "" when it does not run
	Logger     *log.Logger
	OnChange   func()
	// Shutdown stops weir up (Delete calls it); nil: delete is refused.
	Shutdown func()
}

// NewControlPlane loads the operations and marks those a restart cut off.
func NewControlPlane(o ControlPlaneOptions) (*ControlPlane, error) {
	ops, err := loadOps(o.Layout)
	if err != nil {
		return nil, err
	}
	sec, err := o.Spec.KafkaOpts(o.Layout)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(sec, kgo.SeedBrokers(o.Spec.InterBrokerBootstrap()...), kgo.ClientID("weir-control-plane"),
		kgo.MetadataMinAge(100*time.Millisecond))...)
	if err != nil {
		return nil, fmt.Errorf("creating the control plane's Kafka client: %w", err)
	}
	token, err := apiTransport(o.Layout, o.Spec, o.Collector)
	if err != nil {
		cl.Close()
		return nil, err
	}
	cp := &ControlPlane{l: o.Layout, sup: o.Supervisor, agents: o.Agents, logger: o.Logger,
		cl: cl, adm: kadm.NewClient(cl), now: time.Now, settle: 2 * time.Second, onChange: o.OnChange,
		shutdown: o.Shutdown}
	if o.Collector != "" {
		cp.coll = ccclient.New(o.Collector)
		if token != nil {
			cp.coll.HTTP.Transport = token
		}
	}
	cp.mu.spec, cp.mu.state, cp.mu.ops, cp.mu.version = o.Spec, StateCreating, ops, len(ops.ops)
	cp.mu.exe = o.Executable
	cp.base, cp.cancel = context.WithCancel(context.Background())
	if cut := ops.interrupted(cp.now()); len(cut) > 0 {
		cp.logger.Printf("operations cut off by a restart of weir up, marked %s: %v", OpFailed, cut)
		if err := ops.save(); err != nil {
			cl.Close()
			return nil, err
		}
	}
	return cp, nil
}

// Close stops a running operation (it is marked failed: its processes
// stop with weir up) and the healing watch, waits for them, and closes the
// client.
func (cp *ControlPlane) Close() {
	cp.cancel()
	cp.wg.Wait()
	cp.cl.Close()
}

// Ready marks the cluster ACTIVE once every broker is up.
func (cp *ControlPlane) Ready() { cp.setState(StateActive) }

func (cp *ControlPlane) setState(s string) {
	cp.mu.Lock()
	cp.mu.state = s
	cp.mu.Unlock()
}

func (cp *ControlPlane) executable() string {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.mu.exe
}

// Spec returns the cluster's current shape.
func (cp *ControlPlane) Spec() Spec {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.mu.spec
}

// ClusterARN names the cluster the way MSK's ARNs do.
func (cp *ControlPlane) ClusterARN() string {
	s := cp.Spec()
	return fmt.Sprintf("arn:weir:kafka:local::cluster/%s/%s", clusterName(cp.l), s.ClusterID)
}

// errBusy is an update refused because the cluster is not ACTIVE.
var errBusy = errors.New("the cluster is not ACTIVE")

// begin records a new operation and marks the cluster busy, or refuses.
// currentVersion, if given, must be the cluster's (MSK's optimistic check).
func (cp *ControlPlane) begin(typ, currentVersion string, target ClusterShape, busy string) (*Operation, error) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.mu.state != StateActive {
		held := ""
		if r := cp.mu.ops.running(); r != nil {
			held = fmt.Sprintf(": operation %s (%s) holds it", r.ARN, r.Type)
		}
		return nil, fmt.Errorf("%w: it is %s%s", errBusy, cp.mu.state, held)
	}
	if currentVersion != "" && currentVersion != cp.versionLocked() {
		return nil, fmt.Errorf("%w: currentVersion %s is not the cluster's %s; describe the cluster and retry", errBadRequest, currentVersion, cp.versionLocked())
	}
	op := Operation{ARN: cp.opARN(), Type: typ, State: OpInProgress, Created: cp.now(),
		Source: ClusterShape{NumberOfBrokerNodes: len(cp.mu.spec.Brokers)}, Target: target}
	cp.mu.ops.ops = append(cp.mu.ops.ops, op)
	if err := cp.mu.ops.save(); err != nil {
		cp.mu.ops.ops = cp.mu.ops.ops[:len(cp.mu.ops.ops)-1]
		return nil, err
	}
	cp.mu.state = busy
	return &cp.mu.ops.ops[len(cp.mu.ops.ops)-1], nil
}

// errBadRequest marks a request the caller must change: 400.
var errBadRequest = errors.New("bad request")

func (cp *ControlPlane) versionLocked() string { return "K" + strconv.Itoa(cp.mu.version) }

func (cp *ControlPlane) opARN() string {
	var b [8]byte
	rand.Read(b[:])
	return fmt.Sprintf("arn:weir:kafka:local::cluster-operation/%s/%s/%s", clusterName(cp.l), cp.mu.spec.ClusterID, hex.EncodeToString(b[:]))
}

// run carries out an operation's steps on a goroutine of its own, under
// the control plane's context (not the request's: the operation outlives
// it), and records how it ended; the cluster is ACTIVE again either way.
func (cp *ControlPlane) run(_ context.Context, arn string, steps func(ctx context.Context, step func(name string, f func() error) error) error) {
	cp.wg.Add(1)
	go func() {
		defer cp.wg.Done()
		err := steps(cp.base, func(name string, f func() error) error { return cp.step(arn, name, f) })
		cp.finish(arn, err)
	}()
}

// step records one step around f.
func (cp *ControlPlane) step(arn, name string, f func() error) error {
	cp.update(arn, func(op *Operation) {
		op.Steps = append(op.Steps, Step{Name: name, Status: "IN_PROGRESS", Start: cp.now()})
	})
	cp.logger.Printf("operation %s: %s", shortARN(arn), name)
	err := f()
	cp.update(arn, func(op *Operation) {
		s := &op.Steps[len(op.Steps)-1]
		end := cp.now()
		s.End, s.Status = &end, "COMPLETE"
		if err != nil {
			s.Status, s.Detail = "FAILED", err.Error()
		}
	})
	return err
}

func (cp *ControlPlane) update(arn string, f func(*Operation)) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if op := cp.mu.ops.find(arn); op != nil {
		f(op)
		if err := cp.mu.ops.save(); err != nil {
			cp.logger.Printf("%v", err)
		}
	}
}

func (cp *ControlPlane) finish(arn string, err error) {
	cp.update(arn, func(op *Operation) {
		end := cp.now()
		op.End, op.State = &end, OpComplete
		if err != nil {
			op.State, op.Error = OpFailed, &OperationErr{Code: "OPERATION_FAILED", String: err.Error()}
		}
	})
	cp.mu.Lock()
	if err == nil {
		cp.mu.version++
	}
	cp.mu.state = StateActive
	cp.mu.Unlock()
	if err != nil {
		cp.logger.Printf("operation %s failed: %v", shortARN(arn), err)
	} else {
		cp.logger.Printf("operation %s complete", shortARN(arn))
	}
}

// Operations lists the operations, newest first.
func (cp *ControlPlane) Operations() []Operation {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.mu.ops.list()
}

// Operation returns one operation by ARN.
func (cp *ControlPlane) Operation(arn string) (Operation, bool) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	op := cp.mu.ops.find(arn)
	if op == nil {
		return Operation{}, false
	}
	return op.clone(), true
}

func shortARN(arn string) string {
	if i := len(arn) - 16; i > 0 {
		return arn[i:]
	}
	return arn
}

func clusterName(l Layout) string { return filepath.Base(l.Dir) }
