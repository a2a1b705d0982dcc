package replica

import (
	"testing"
	"time"
)

func TestQuotaMeasuresOverTheWindow(t *testing.T) {
	q := NewQuota(1000)
	now := time.Unix(100, 0)
	if q.Exceeded(now) {
		t.Fatal("exceeded with nothing recorded")
	}
	// 5,000 bytes over 5 seconds: exactly at the limit, not over.
	for i := 0; i < 5; i++ {
		q.Record(1000, now.Add(time.Duration(i)*time.Second))
	}
	at := now.Add(5 * time.Second)
	if got := q.Measured(at); got != 1000 {
		t.Fatalf("measured %v, want 1000", got)
	}
	if q.Exceeded(at) {
		t.Fatal("exceeded at exactly the limit")
	}
	q.Record(3000, at)
	if !q.Exceeded(at) {
		t.Fatal("not exceeded after a burst")
	}
	// Once the burst ages out of the window the rate is back under.
	if q.Exceeded(at.Add(12 * time.Second)) {
		t.Fatal("still exceeded after the window passed")
	}
}

func TestQuotaUnlimitedAndDynamic(t *testing.T) {
	q := NewQuota(0)
	now := time.Unix(200, 0)
	q.Record(1<<40, now)
	if q.Exceeded(now) {
		t.Fatal("an unlimited quota was exceeded")
	}
	q.SetRate(10)
	if !q.Exceeded(now) {
		t.Fatal("a lowered rate did not apply")
	}
}

func TestParseThrottledReplicas(t *testing.T) {
	all, err := ParseThrottledReplicas("*")
	if err != nil || !all.Has(7, 9) {
		t.Fatalf("* = %+v, %v", all, err)
	}
	some, err := ParseThrottledReplicas("0:1, 0:2,3:1")
	if err != nil || !some.Has(0, 2) || !some.Has(3, 1) || some.Has(1, 1) {
		t.Fatalf("list = %+v, %v", some, err)
	}
	none, _ := ParseThrottledReplicas("")
	if none.Has(0, 1) {
		t.Fatal("empty list throttles")
	}
	for _, bad := range []string{"0", "a:1", "0:-1", "0:1,"} {
		if _, err := ParseThrottledReplicas(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
