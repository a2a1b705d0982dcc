package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// The waits rolling work is made of. Each polls a condition until it
// holds or its deadline passes, and says what it last saw.

// pollEvery is how often a wait looks again.
const pollEvery = 200 * time.Millisecond

// pollUntil polls cond until it returns nil, ctx ends or timeout passes.
func pollUntil(ctx context.Context, timeout time.Duration, what string, cond func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		last := cond(ctx)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not after %v: %w", what, timeout, last)
		case <-t.C:
		}
	}
}

// awaitBrokerReady waits until broker id answers as ready.
func (cp *ControlPlane) awaitBrokerReady(ctx context.Context, id int) error {
	s := cp.Spec()
	b := s.Brokers[id-1]
	return pollUntil(ctx, 2*time.Minute, fmt.Sprintf("broker %d ready", id), s.brokerReady(cp.l, b))
}

// awaitInSync waits until every partition has a leader and every replica
// in its ISR, and stays so for cp.settle (a replica that just caught up
// may drop out again).
func (cp *ControlPlane) awaitInSync(ctx context.Context) error {
	var since time.Time
	return pollUntil(ctx, 5*time.Minute, "every partition fully in sync", func(ctx context.Context) error {
		err := cp.inSync(ctx)
		if err != nil {
			since = time.Time{}
			return err
		}
		if since.IsZero() {
			since = cp.now()
		}
		if cp.now().Sub(since) < cp.settle {
			return errors.New("in sync, settling")
		}
		return nil
	})
}

func (cp *ControlPlane) inSync(ctx context.Context) error {
	md, err := cp.adm.Metadata(ctx)
	if err != nil {
		return fmt.Errorf("reading metadata: %w", err)
	}
	urp := 0
	var first string
	for _, td := range md.Topics {
		for _, p := range td.Partitions {
			if p.Leader < 0 || len(p.ISR) < len(p.Replicas) {
				if urp++; first == "" {
					first = fmt.Sprintf("%s-%d (replicas %v, in sync %v)", td.Topic, p.Partition, p.Replicas, p.ISR)
				}
			}
		}
	}
	if urp > 0 {
		return fmt.Errorf("%d partitions under-replicated or offline, e.g. %s", urp, first)
	}
	return nil
}

// collectorDo asks the collector for an execution and waits until it is
// done: a 503 (no valid model yet, e.g. right after new brokers started)
// is retried, anything else is the step's error.
func (cp *ControlPlane) collectorDo(ctx context.Context, endpoint string, q url.Values) error {
	if cp.coll == nil {
		return errors.New("the collector does not run (weir up --agents runs it)")
	}
	return cp.coll.Execute(ctx, endpoint, q, 3*time.Minute, 30*time.Minute)
}
