// Package ratelog keeps log lines about bad input from flooding the log:
// a Limiter lets one line a key through per interval and counts the ones
// it held back, so the next line can say how many were dropped. The
// broker uses it for failed authentications and refused connections (the
// metrics count every one; the log shows a sample).
package ratelog

import (
	"slices"
	"sync"
	"time"
)

// maxKeys bounds the keys remembered; past it the oldest half is
// forgotten (keys may hold client addresses, which an attacker chooses).
const maxKeys = 4096

// Limiter is safe for concurrent use.
type Limiter struct {
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex
	keys map[string]*state
}

type state struct {
	last       time.Time
	suppressed int
}

// New lets one line a key through every interval.
func New(every time.Duration) *Limiter {
	return &Limiter{every: every, now: time.Now, keys: map[string]*state{}}
}

// Allow reports whether a line for key may be logged now and, when it
// may, how many lines for key were held back since the last one.
func (l *Limiter) Allow(key string) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	s := l.keys[key]
	if s == nil {
		if len(l.keys) >= maxKeys {
			l.forgetOldest()
		}
		l.keys[key] = &state{last: now}
		return true, 0
	}
	if now.Sub(s.last) < l.every {
		s.suppressed++
		return false, 0
	}
	n := s.suppressed
	s.last, s.suppressed = now, 0
	return true, n
}

// forgetOldest drops the half of the keys last allowed longest ago.
func (l *Limiter) forgetOldest() {
	var cut time.Time
	times := make([]time.Time, 0, len(l.keys))
	for _, s := range l.keys {
		times = append(times, s.last)
	}
	slices.SortFunc(times, time.Time.Compare)
	cut = times[len(times)/2]
	for k, s := range l.keys {
		if !s.last.After(cut) {
			delete(l.keys, k)
		}
	}
}
