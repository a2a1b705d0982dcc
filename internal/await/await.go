// Package await is the one poll-until helper for tests: wait on a
// condition, never on a sleep (nats-server's checkFor).
package await

import (
	"testing"
	"time"
)

// Every is how often a condition is polled.
const Every = 10 * time.Millisecond

// For polls cond until it returns nil, failing the test with the last
// error when timeout passes first.
func For(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v: %v", what, timeout, err)
		}
		time.Sleep(Every)
	}
}

// True polls cond until it is true, failing the test when timeout passes.
func True(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	For(t, timeout, what, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	})
}

type notYet struct{}

func (notYet) Error() string { return "condition still false" }

var errNotYet error = notYet{}
