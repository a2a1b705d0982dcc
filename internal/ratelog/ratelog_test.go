package ratelog

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestAllow(t *testing.T) {
	now := time.Unix(1000, 0)
	l := New(time.Minute)
	l.now = func() time.Time { return now }
	step := func(key string, wantOK bool, wantN int) {
		t.Helper()
		if ok, n := l.Allow(key); ok != wantOK || n != wantN {
			t.Fatalf("%s at %v: %v %d, want %v %d", key, now.Unix(), ok, n, wantOK, wantN)
		}
	}
	step("a", true, 0)
	step("a", false, 0)
	step("a", false, 0)
	step("b", true, 0) // keys are independent
	now = now.Add(59 * time.Second)
	step("a", false, 0)
	now = now.Add(time.Second)
	step("a", true, 3) // three held back since the last line
	step("a", false, 0)
}

func TestBoundedKeys(t *testing.T) {
	now := time.Unix(1000, 0)
	l := New(time.Minute)
	l.now = func() time.Time { return now }
	for i := range 3 * maxKeys {
		now = now.Add(time.Millisecond)
		l.Allow(fmt.Sprint("client-", i))
	}
	if len(l.keys) > maxKeys {
		t.Fatalf("%d keys kept", len(l.keys))
	}
	// The newest key is remembered.
	if ok, _ := l.Allow(fmt.Sprint("client-", 3*maxKeys-1)); ok {
		t.Fatal("the newest key was forgotten")
	}
}

func TestConcurrent(t *testing.T) {
	l := New(time.Hour)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if ok, _ := l.Allow("k"); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 1 {
		t.Fatalf("%d lines allowed in one interval", allowed)
	}
}
