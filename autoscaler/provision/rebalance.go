package provision

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/weirhq/weir/autoscaler/policy"
	"github.com/weirhq/weir/collector/ccclient"
)

// Rebalancing wraps a provisioner whose broker-count changes move no data
// (Amazon MSK: new brokers start empty, and MSK removes only brokers that
// hold no partitions) with the collector's rebalances, as the local
// control plane does them: a scale-out is followed by add_broker onto the
// new brokers, a scale-in is preceded by remove_broker off the
// highest-numbered ones. The whole is one operation to the autoscaler,
// with an id of its own, so it holds other changes until the data has
// moved.
type Rebalancing struct {
	Provisioner
	coll *ccclient.Client
	// Timeouts of the collector's work: asking (its model may not be
	// ready right after new brokers start) and moving the data.
	Start, Finish time.Duration
	// Poll is how often the underlying operation is looked at.
	Poll time.Duration

	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	ops     map[string]*Operation
	running string
}

// WithRebalance wraps p with the collector at coll. Close stops the
// operations it runs.
func WithRebalance(p Provisioner, coll *ccclient.Client) *Rebalancing {
	ctx, cancel := context.WithCancel(context.Background())
	return &Rebalancing{Provisioner: p, coll: coll, Start: 5 * time.Minute, Finish: 2 * time.Hour, Poll: 5 * time.Second,
		base: ctx, cancel: cancel, ops: map[string]*Operation{}}
}

// Close cancels the running operation and waits for it.
func (r *Rebalancing) Close() {
	r.cancel()
	r.wg.Wait()
}

// Name is the wrapped provisioner's, with the collector.
func (r *Rebalancing) Name() string { return r.Provisioner.Name() + "+collector" }

// Describe is the wrapped provisioner's, with this wrapper's running
// operation when the cluster itself runs none (the data still moves).
func (r *Rebalancing) Describe(ctx context.Context) (policy.Cluster, error) {
	c, err := r.Provisioner.Describe(ctx)
	if err != nil {
		return c, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.Operation == "" && r.running != "" {
		c.Operation = r.running
	}
	return c, nil
}

// UpdateBrokerCount changes the count with the rebalance around it. A
// scale-out asks the wrapped provisioner at once (so a busy cluster is
// refused here, as ErrBusy); a scale-in first moves the data off.
func (r *Rebalancing) UpdateBrokerCount(ctx context.Context, n int) (string, error) {
	before, err := r.Provisioner.Describe(ctx)
	if err != nil {
		return "", err
	}
	ids := slices.Sorted(maps.Keys(before.Provisioned))
	if len(ids) != before.Brokers {
		return "", fmt.Errorf("update-broker-count: the cluster describes %d brokers but names %d", before.Brokers, len(ids))
	}
	r.mu.Lock()
	if r.running != "" {
		r.mu.Unlock()
		return "", fmt.Errorf("update-broker-count: %w: operation %s moves data", ErrBusy, r.running)
	}
	id := newOpID()
	op := &Operation{ID: id, Type: "UPDATE_BROKER_COUNT", State: InProgress}
	r.ops[id], r.running = op, id
	r.mu.Unlock()

	var inner string
	if n > before.Brokers {
		if inner, err = r.Provisioner.UpdateBrokerCount(ctx, n); err != nil {
			r.end(id, err)
			return "", err
		}
	}
	r.wg.Add(1)
	go func() { // owned by r: Close cancels and waits
		defer r.wg.Done()
		r.end(id, r.carryOut(r.base, n, ids, inner))
	}()
	return id, nil
}

func (r *Rebalancing) carryOut(ctx context.Context, n int, ids []int32, inner string) error {
	if n < len(ids) {
		off := ids[n:] // the highest-numbered brokers
		if err := r.coll.Execute(ctx, "remove_broker", url.Values{"brokerid": {join(off)}}, r.Start, r.Finish); err != nil {
			return fmt.Errorf("moving replicas off brokers %s (collector remove_broker): %w", join(off), err)
		}
		var err error
		if inner, err = r.Provisioner.UpdateBrokerCount(ctx, n); err != nil {
			return err
		}
		return r.wait(ctx, inner)
	}
	if err := r.wait(ctx, inner); err != nil {
		return err
	}
	after, err := r.Provisioner.Describe(ctx)
	if err != nil {
		return err
	}
	var added []int32
	for id := range after.Provisioned {
		if !slices.Contains(ids, id) {
			added = append(added, id)
		}
	}
	slices.Sort(added)
	if len(added) == 0 {
		return fmt.Errorf("operation %s completed but no new broker is described", inner)
	}
	if err := r.coll.Execute(ctx, "add_broker", url.Values{"brokerid": {join(added)}}, r.Start, r.Finish); err != nil {
		return fmt.Errorf("moving replicas onto brokers %s (collector add_broker): %w", join(added), err)
	}
	return nil
}

// wait polls the wrapped provisioner's operation until it ends.
func (r *Rebalancing) wait(ctx context.Context, id string) error {
	t := time.NewTicker(r.Poll)
	defer t.Stop()
	for {
		op, err := r.Provisioner.Operation(ctx, id)
		if err == nil && op.Done() {
			if op.State == Failed {
				return fmt.Errorf("operation %s failed: %s", id, op.Error)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for operation %s: %w", id, ctx.Err())
		case <-t.C:
		}
	}
}

func (r *Rebalancing) end(id string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	op := r.ops[id]
	op.State = Complete
	if err != nil {
		op.State, op.Error = Failed, err.Error()
	}
	r.running = ""
}

// Operation is this wrapper's operation, or the wrapped provisioner's.
func (r *Rebalancing) Operation(ctx context.Context, id string) (Operation, error) {
	r.mu.Lock()
	op, ok := r.ops[id]
	var out Operation
	if ok {
		out = *op
	}
	r.mu.Unlock()
	if ok {
		return out, nil
	}
	return r.Provisioner.Operation(ctx, id)
}

func join(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ",")
}

func newOpID() string {
	var b [8]byte
	rand.Read(b[:])
	return "weir-autoscaler-op/" + hex.EncodeToString(b[:])
}
