package cluster

import (
	"testing"
	"time"
)

func TestBackoffNext(t *testing.T) {
	const ms = time.Millisecond
	b := DefaultBackoff
	tests := []struct {
		name      string
		prev      Restarts
		ranFor    time.Duration
		wantDelay time.Duration
		wantCount int
	}{
		{"first exit waits the initial delay", Restarts{}, time.Second, 500 * ms, 1},
		{"first exit after a long run is the same", Restarts{}, time.Hour, 500 * ms, 1},
		{"a quick second crash doubles", Restarts{Count: 1, Delay: 500 * ms}, 2 * time.Second, time.Second, 2},
		{"an immediate crash doubles", Restarts{Count: 2, Delay: time.Second}, 0, 2 * time.Second, 3},
		{"doubling stops at the cap", Restarts{Count: 7, Delay: 16 * time.Second}, time.Second, 30 * time.Second, 8},
		{"at the cap it stays there", Restarts{Count: 8, Delay: 30 * time.Second}, time.Second, 30 * time.Second, 9},
		{"a run just short of the reset window still doubles", Restarts{Count: 3, Delay: 4 * time.Second}, time.Minute - ms, 8 * time.Second, 4},
		{"a minute of running resets", Restarts{Count: 8, Delay: 30 * time.Second}, time.Minute, 500 * ms, 9},
		{"a long run resets", Restarts{Count: 3, Delay: 4 * time.Second}, time.Hour, 500 * ms, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			delay, next := b.Next(tt.prev, tt.ranFor)
			if delay != tt.wantDelay || next.Count != tt.wantCount || next.Delay != tt.wantDelay {
				t.Errorf("Next(%+v, %v) = %v, %+v; want %v, {Count:%d Delay:%v}",
					tt.prev, tt.ranFor, delay, next, tt.wantDelay, tt.wantCount, tt.wantDelay)
			}
		})
	}
}

// TestBackoffCrashLoop follows a process that crashes at once forever: the
// waits double from 500 ms to the 30 s cap and stay there, so a broker that
// cannot start costs two restarts a minute, not a spinning CPU.
func TestBackoffCrashLoop(t *testing.T) {
	var r Restarts
	var got []time.Duration
	for range 10 {
		var d time.Duration
		d, r = DefaultBackoff.Next(r, 10*time.Millisecond)
		got = append(got, d)
	}
	want := []time.Duration{500e6, 1e9, 2e9, 4e9, 8e9, 16e9, 30e9, 30e9, 30e9, 30e9}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("waits %v, want %v", got, want)
		}
	}
	if r.Count != 10 {
		t.Errorf("Count = %d after 10 exits", r.Count)
	}
}
