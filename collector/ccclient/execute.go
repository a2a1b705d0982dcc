package ccclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Execute runs an endpoint for real (dryrun=false: rebalance, add_broker,
// remove_broker, ...) and waits until the executor has moved everything,
// reporting how the execution ended. While the collector answers 503 (its
// load model is not ready yet, or it is busy) it asks again, for up to
// start; the execution itself may take up to finish.
func (c *Client) Execute(ctx context.Context, endpoint string, q url.Values, start, finish time.Duration) error {
	q = cloneValues(q)
	q.Set("dryrun", "false")
	err := poll(ctx, start, "the collector's "+endpoint, func(ctx context.Context) error {
		err := c.Do(ctx, http.MethodPost, endpoint, q, nil)
		var ae *Error
		if errors.As(err, &ae) && ae.Status != http.StatusServiceUnavailable {
			return &permanent{err}
		}
		return err
	})
	if err != nil {
		return err
	}
	return c.AwaitExecution(ctx, finish)
}

// AwaitExecution waits until the executor is idle and reports how the
// last execution ended.
func (c *Client) AwaitExecution(ctx context.Context, timeout time.Duration) error {
	var st State
	err := poll(ctx, timeout, "the collector's execution", func(ctx context.Context) error {
		if err := c.Do(ctx, http.MethodGet, "state", url.Values{"substates": {"executor"}}, &st); err != nil {
			return err
		}
		if !st.Executor.Idle() {
			return fmt.Errorf("%s: %d of %d partitions moved", st.Executor.State, st.Executor.FinishedPartitions, st.Executor.TotalPartitions)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if st.Executor.Error != "" {
		return fmt.Errorf("the collector's execution: %s", st.Executor.Error)
	}
	return nil
}

// permanent ends poll at once: the answer will not change.
type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }

// poll calls cond every 200 ms until it returns nil, returns a *permanent
// error, ctx ends or timeout passes, and says what it last saw.
func poll(ctx context.Context, timeout time.Duration, what string, cond func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		last := cond(ctx)
		var p *permanent
		if errors.As(last, &p) {
			return p.err
		}
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

func cloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}
