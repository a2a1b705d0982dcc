package cluster

import "time"

// Backoff is the restart policy for a supervised process that exits on its
// own: wait Initial before the first restart, double the wait after every
// exit that follows a short run, never wait more than Max, and start again
// from Initial once the process has run for ResetAfter (it was healthy; the
// next crash is a new incident, not the same one repeating).
//
// It is pure: the supervisor measures how long the process ran with its own
// clock and asks Next what to do, so the policy is table-tested without
// processes or time.
type Backoff struct {
	Initial    time.Duration
	Max        time.Duration
	ResetAfter time.Duration
}

// DefaultBackoff is `weir up`'s policy: 500 ms, doubling, capped at 30 s,
// reset after a minute of running.
var DefaultBackoff = Backoff{Initial: 500 * time.Millisecond, Max: 30 * time.Second, ResetAfter: time.Minute}

// Restarts is one process's restart history as the policy sees it.
type Restarts struct {
	Count int           // restarts so far, over the supervisor's lifetime
	Delay time.Duration // the wait before the latest restart; 0 before the first
}

// Next returns the wait before restarting a process that exited after
// running for ranFor, and the history to keep for the next exit.
func (b Backoff) Next(r Restarts, ranFor time.Duration) (time.Duration, Restarts) {
	delay := b.Initial
	if r.Delay > 0 && ranFor < b.ResetAfter {
		delay = min(2*r.Delay, b.Max)
	}
	delay = min(delay, b.Max)
	return delay, Restarts{Count: r.Count + 1, Delay: delay}
}
