package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/weirhq/weir/internal/await"
)

// The control plane's operations on a running supervisor: a process added
// while it runs starts; a held one stops and stays stopped (no restart);
// released, it runs again.
func TestAddHoldRelease(t *testing.T) {
	rec := newRecorder()
	s := NewSupervisor([]Process{shell(t, "first", "exec sleep 60")}, rec.options())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	<-rec.ready
	op, opCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer opCancel()

	if err := s.Add(op, shell(t, "second", "exec sleep 60")); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(op, shell(t, "second", "exec sleep 60")); err == nil {
		t.Fatal("adding a second process with the same name succeeded")
	}
	state := func(name string) State {
		st, err := s.Statuses(op)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range st {
			if x.Name == name {
				return x.State
			}
		}
		t.Fatalf("no status for %s in %+v", name, st)
		return ""
	}
	await.True(t, 5*time.Second, "second ready", func() bool { return state("second") == Ready })

	if err := s.Hold(op, "first"); err != nil {
		t.Fatal(err)
	}
	// Stopped, not Restarting: only Restarting children have a restart
	// scheduled (armRestart), so a held process stays down.
	if got := state("first"); got != Stopped {
		t.Fatalf("held process is %s, want stopped", got)
	}
	if err := s.Release(op, "first"); err != nil {
		t.Fatal(err)
	}
	await.True(t, 5*time.Second, "first ready again", func() bool { return state("first") == Ready })
	if err := s.Hold(op, "nope"); err == nil {
		t.Fatal("holding an unknown process succeeded")
	}
}
