package cluster

import (
	"bytes"
	"context"
	"errors"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/weirhq/weir/internal/await"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fastBackoff keeps restart tests short.
var fastBackoff = Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, ResetAfter: time.Minute}

// shell is a Process running script under /bin/sh, logging to a temp dir.
func shell(t *testing.T, name, script string) Process {
	dir := t.TempDir()
	return Process{
		Name:    name,
		Path:    "/bin/sh",
		Args:    []string{"-c", script},
		LogPath: filepath.Join(dir, "out.log"),
		PIDPath: filepath.Join(dir, "pid"),
		Where:   "in " + dir,
	}
}

// recorder collects what a supervisor reports, from its goroutine, for the
// test's goroutine.
type recorder struct {
	mu       sync.Mutex
	statuses []Status
	logs     bytes.Buffer
	ready    chan struct{}
}

func newRecorder() *recorder { return &recorder{ready: make(chan struct{})} }

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs.Write(p)
}

func (r *recorder) options() Options {
	return Options{
		Logger:       log.New(r, "", 0),
		Backoff:      fastBackoff,
		ReadyTimeout: 5 * time.Second,
		PollInterval: 5 * time.Millisecond,
		StopTimeout:  5 * time.Second,
		OnReady: func(st []Status) error {
			r.set(st)
			close(r.ready)
			return nil
		},
		OnChange: r.set,
	}
}

func (r *recorder) set(st []Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.statuses = st
}

func (r *recorder) status(i int) Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.statuses[i]
}

func (r *recorder) log() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logs.String()
}

// runSupervisor runs s until the test ends or the returned stop is called;
// stop returns Run's error.
func runSupervisor(t *testing.T, s *Supervisor) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("Run did not return within 20s of its context ending")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestSupervisorRestartsAKilledProcess(t *testing.T) {
	r := newRecorder()
	p := shell(t, "sleeper", "exec sleep 60")
	stop := runSupervisor(t, NewSupervisor([]Process{p}, r.options()))
	<-r.ready
	first := r.status(0)
	if first.State != Ready || first.PID == 0 || first.Restarts != 0 {
		t.Fatalf("after start: %+v", first)
	}
	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	await.True(t, 10*time.Second, "the restart", func() bool {
		st := r.status(0)
		return st.State == Ready && st.Restarts == 1 && st.PID != first.PID
	})
	second := r.status(0)
	if got, _ := os.ReadFile(p.PIDPath); strings.TrimSpace(string(got)) != itoa(second.PID) {
		t.Errorf("pid file holds %q, want %d", got, second.PID)
	}
	if !strings.Contains(r.log(), "sleeper exited (signal: killed) after ") ||
		!strings.Contains(r.log(), "restarting it in 10ms in ") {
		t.Errorf("log does not tell of the restart:\n%s", r.log())
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if alive(second.PID) {
		t.Errorf("pid %d still running after Run returned", second.PID)
	}
	if _, err := os.Stat(p.PIDPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file left after stop: %v", err)
	}
	out, _ := os.ReadFile(p.LogPath)
	for _, want := range []string{"(start 1)", "exited (signal: killed)", "(start 2)", "stopped (signal: terminated)"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("process log lacks %q:\n%s", want, out)
		}
	}
}

// TestSupervisorBacksOff runs an optional process that always fails beside
// a healthy one: the waits double up to the cap, and the healthy process is
// left alone.
func TestSupervisorBacksOff(t *testing.T) {
	r := newRecorder()
	procs := []Process{shell(t, "healthy", "exec sleep 60"), shell(t, "crasher", "exit 3")}
	procs[1].Optional = true
	stop := runSupervisor(t, NewSupervisor(procs, r.options()))
	<-r.ready
	await.True(t, 10*time.Second, "five restarts", func() bool { return r.status(1).Restarts >= 5 })
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	logs := r.log()
	for _, want := range []string{"in 10ms", "in 20ms", "in 40ms", "in 50ms"} {
		if !strings.Contains(logs, "crasher exited (exit status 3) after") || !strings.Contains(logs, "restarting it "+want) {
			t.Errorf("log lacks a restart %s:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "restarting it in 80ms") {
		t.Errorf("backoff passed its 50ms cap:\n%s", logs)
	}
	if st := r.status(0); st.Restarts != 0 {
		t.Errorf("healthy process restarted: %+v", st)
	}
}

func TestSupervisorStartupFailureStopsEverything(t *testing.T) {
	r := newRecorder()
	procs := []Process{shell(t, "good", "exec sleep 60"), shell(t, "bad", "echo cannot bind port 1 >&2; exit 2")}
	procs[1].Ready = func(context.Context) error { return errors.New("not listening") }
	err := NewSupervisor(procs, r.options()).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "bad exited (exit status 2) before it was ready") ||
		!strings.Contains(err.Error(), "cannot bind port 1") {
		t.Fatalf("Run = %v; want bad's exit with the end of its log", err)
	}
	if !strings.Contains(r.log(), "good stopped (signal: terminated)") {
		t.Errorf("the good process was not stopped:\n%s", r.log())
	}
}

func TestSupervisorReadyTimeout(t *testing.T) {
	r := newRecorder()
	p := shell(t, "slow", "exec sleep 60")
	p.Ready = func(context.Context) error { return errors.New("connection refused") }
	opts := r.options()
	opts.ReadyTimeout = 100 * time.Millisecond
	err := NewSupervisor([]Process{p}, opts).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "slow is not ready after 100ms") ||
		!strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Run = %v; want a readiness timeout naming the last check", err)
	}
}

// TestSupervisorKillsWhatIgnoresSIGTERM: a process that ignores SIGTERM is
// killed after StopTimeout, and Run still returns.
func TestSupervisorKillsWhatIgnoresSIGTERM(t *testing.T) {
	r := newRecorder()
	armed := filepath.Join(t.TempDir(), "armed")
	// Ignored signals stay ignored across exec; the file says the trap is set.
	p := shell(t, "stubborn", `trap "" TERM; touch `+armed+`; exec sleep 60`)
	p.Ready = func(context.Context) error { _, err := os.Stat(armed); return err }
	opts := r.options()
	opts.StopTimeout = 100 * time.Millisecond
	stop := runSupervisor(t, NewSupervisor([]Process{p}, opts))
	<-r.ready
	pid := r.status(0).PID
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if alive(pid) {
		t.Errorf("pid %d survived", pid)
	}
	if !strings.Contains(r.log(), "stubborn did not stop within 100ms of SIGTERM; killing it") ||
		!strings.Contains(r.log(), "stubborn stopped (signal: killed)") {
		t.Errorf("log:\n%s", r.log())
	}
}

// An AfterUp process starts only once the required ones are ready and
// OnReady has run (a secure cluster's agents wait for the admin user).
func TestSupervisorStartsAfterUpLast(t *testing.T) {
	r := newRecorder()
	later := shell(t, "agent", "exec sleep 60")
	later.Optional, later.AfterUp = true, true
	opts := r.options()
	var atReady Status
	onReady := opts.OnReady
	opts.OnReady = func(st []Status) error {
		atReady = st[1]
		return onReady(st)
	}
	runSupervisor(t, NewSupervisor([]Process{shell(t, "broker", "exec sleep 60"), later}, opts))
	<-r.ready
	if atReady.State != Stopped || atReady.PID != 0 {
		t.Fatalf("the AfterUp process at OnReady: %+v, want stopped", atReady)
	}
	await.True(t, 10*time.Second, "the AfterUp process ready", func() bool {
		st := r.status(1)
		return st.State == Ready && st.PID != 0 && st.Restarts == 0
	})
}
