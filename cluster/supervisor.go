package cluster

import (
	"context"
	"fmt"
	"io"
	"log"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// State is where a supervised process is in its life.
type State string

const (
	Starting   State = "starting"   // started, not yet ready
	Ready      State = "ready"      // its readiness probe passed
	Restarting State = "restarting" // exited; waiting out the backoff
	Stopping   State = "stopping"   // sent SIGTERM, waiting for the exit
	Stopped    State = "stopped"
)

// Status is a snapshot of one process, for endpoints.json and status lines.
type Status struct {
	Name     string
	State    State
	PID      int // 0 when not running
	Restarts int
	Since    time.Time // when the current run started (zero when not running)
}

// Options configure a Supervisor. Zero values take the defaults noted.
type Options struct {
	Logger       *log.Logger   // supervision events; nil: discarded
	Backoff      Backoff       // zero: DefaultBackoff
	ReadyTimeout time.Duration // at startup, every required process is ready within it; 0: 60 s
	PollInterval time.Duration // readiness polling; 0: 50 ms
	StopTimeout  time.Duration // SIGTERM to SIGKILL; 0: 30 s
	Now          func() time.Time
	// OnReady runs once, when every required process is ready; an error
	// stops everything and Run returns it.
	OnReady func([]Status) error
	// OnChange runs after every state change once the cluster is up.
	OnChange func([]Status)
}

func (o *Options) fill() {
	if o.Logger == nil {
		o.Logger = log.New(io.Discard, "", 0)
	}
	if o.Backoff == (Backoff{}) {
		o.Backoff = DefaultBackoff
	}
	o.ReadyTimeout = orDur(o.ReadyTimeout, time.Minute)
	o.PollInterval = orDur(o.PollInterval, 50*time.Millisecond)
	o.StopTimeout = orDur(o.StopTimeout, 30*time.Second)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OnReady == nil {
		o.OnReady = func([]Status) error { return nil }
	}
	if o.OnChange == nil {
		o.OnChange = func([]Status) {}
	}
}

func orDur(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Supervisor runs a set of processes, MSK-style: start them all, wait until
// the required ones are ready, restart any that exits on its own on the same
// command line (so the same address and storage) after a backoff, and stop
// them all, SIGTERM then SIGKILL, when its context ends.
//
// One goroutine, Run's, owns every child's state; the goroutines that wait
// for a process to exit and that poll readiness only report events to it
// over channels, and Run waits for all of them before it returns.
type Supervisor struct {
	opts     Options
	children []*child
	up       bool // every required process has been ready once

	exits   chan exitEvent
	readies chan readyEvent
	cmds    chan command  // Add, Hold, Release, from other goroutines
	done    chan struct{} // closed when Run stops receiving events
	wg      sync.WaitGroup
}

// child is one Process and its current run. Owned by Run's goroutine.
type child struct {
	Process
	state     State
	gen       int // runs started so far; events carry the run they are about
	cmd       *exec.Cmd
	started   time.Time
	stopReady context.CancelFunc
	restarts  Restarts
	restartAt time.Time
	// held: stopped on purpose (Hold) and not restarted until Release;
	// waiters hear when a held run has exited.
	held    bool
	waiters []chan error
}

type exitEvent struct {
	c   *child
	gen int
	err error
	at  time.Time
}

type readyEvent struct {
	c   *child
	gen int
	err error
}

// NewSupervisor returns a supervisor for procs; Run starts them.
func NewSupervisor(procs []Process, opts Options) *Supervisor {
	opts.fill()
	s := &Supervisor{
		opts:    opts,
		exits:   make(chan exitEvent),
		readies: make(chan readyEvent),
		cmds:    make(chan command),
		done:    make(chan struct{}),
	}
	for _, p := range procs {
		s.children = append(s.children, &child{Process: p, state: Stopped})
	}
	return s
}

// Run starts every process and supervises them until ctx ends, then stops
// them and returns nil. It returns an error, after stopping whatever it
// started, when a required process fails to start, exits or is not ready
// within ReadyTimeout at startup, or OnReady fails.
func (s *Supervisor) Run(ctx context.Context) error {
	defer s.wg.Wait()
	defer close(s.done)
	for _, c := range s.children {
		if c.AfterUp {
			continue
		}
		if err := s.start(ctx, c); err != nil && !c.Optional {
			return s.stopAll(err)
		}
	}
	restart := time.NewTimer(time.Hour)
	defer restart.Stop()
	for {
		s.armRestart(restart)
		var err error
		select {
		case <-ctx.Done():
			return s.stopAll(nil)
		case ev := <-s.exits:
			err = s.onExit(ev)
		case ev := <-s.readies:
			err = s.onReady(ctx, ev)
		case <-restart.C:
			s.restartDue(ctx)
		case cmd := <-s.cmds:
			cmd.reply <- cmd.run(ctx, s)
		}
		if err != nil {
			return s.stopAll(err)
		}
	}
}

// goroutine runs f on a goroutine that Run waits for.
func (s *Supervisor) goroutine(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// start launches c and the goroutines that report its exit and readiness.
func (s *Supervisor) start(ctx context.Context, c *child) error {
	cmd, err := c.launch(c.gen + 1)
	if err != nil {
		s.opts.Logger.Printf("%v", err)
		s.scheduleRestart(c, 0)
		return err
	}
	c.gen++
	c.cmd, c.started, c.state = cmd, s.opts.Now(), Starting
	gen := c.gen
	s.goroutine(func() {
		err := cmd.Wait()
		select {
		case s.exits <- exitEvent{c: c, gen: gen, err: err, at: s.opts.Now()}:
		case <-s.done:
		}
	})
	s.watchReady(ctx, c)
	s.changed()
	return nil
}

// watchReady polls c's readiness probe on its own goroutine until it passes,
// the run ends (stopReady), or, for a required process at startup, the
// ready timeout passes.
func (s *Supervisor) watchReady(ctx context.Context, c *child) {
	var cancel context.CancelFunc
	if !s.up && !c.Optional {
		ctx, cancel = context.WithTimeout(ctx, s.opts.ReadyTimeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	c.stopReady = cancel
	probe, gen, every := c.Ready, c.gen, s.opts.PollInterval
	s.goroutine(func() {
		err := pollReady(ctx, probe, every)
		select {
		case s.readies <- readyEvent{c: c, gen: gen, err: err}:
		case <-s.done:
		}
	})
}

// pollReady calls probe every interval until it returns nil or ctx ends;
// the error then carries the last probe's.
func pollReady(ctx context.Context, probe func(context.Context) error, every time.Duration) error {
	if probe == nil {
		return nil
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		last := probe(ctx)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last check: %v)", ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// onExit handles a process that exited on its own (stopAll handles the
// exits it causes).
func (s *Supervisor) onExit(ev exitEvent) error {
	c := ev.c
	if ev.gen != c.gen {
		return nil
	}
	c.stopReady()
	c.cmd = nil
	how := exitReason(ev.err)
	if c.held {
		s.heldExited(c, how)
		return nil
	}
	c.exited("exited (" + how + ")")
	if !s.up && !c.Optional {
		return fmt.Errorf("%s exited (%s) before it was ready; the end of %s:\n%s", c.Name, how, c.LogPath, logTail(c.LogPath, 15))
	}
	ranFor := ev.at.Sub(c.started)
	delay := s.scheduleRestart(c, ranFor)
	s.opts.Logger.Printf("%s exited (%s) after %s; restarting it in %s %s (restart %d)",
		c.Name, how, ranFor.Round(time.Millisecond), delay, c.Where, c.restarts.Count)
	return nil
}

// scheduleRestart asks the backoff policy when c should start again.
func (s *Supervisor) scheduleRestart(c *child, ranFor time.Duration) time.Duration {
	delay, next := s.opts.Backoff.Next(c.restarts, ranFor)
	c.restarts = next
	c.state, c.restartAt = Restarting, s.opts.Now().Add(delay)
	s.changed()
	return delay
}

// armRestart sets the timer to the earliest pending restart.
func (s *Supervisor) armRestart(t *time.Timer) {
	var next time.Time
	for _, c := range s.children {
		if c.state == Restarting && (next.IsZero() || c.restartAt.Before(next)) {
			next = c.restartAt
		}
	}
	if next.IsZero() {
		t.Reset(time.Hour)
		return
	}
	t.Reset(max(0, next.Sub(s.opts.Now())))
}

// restartDue starts every process whose backoff has passed.
func (s *Supervisor) restartDue(ctx context.Context) {
	now := s.opts.Now()
	for _, c := range s.children {
		if c.state == Restarting && !c.restartAt.After(now) {
			_ = s.start(ctx, c) // a failed start is logged and rescheduled
		}
	}
}

// onReady handles a readiness result for c's current run.
func (s *Supervisor) onReady(ctx context.Context, ev readyEvent) error {
	c := ev.c
	if ev.gen != c.gen || c.state != Starting {
		return nil
	}
	if ev.err != nil {
		if !s.up && !c.Optional {
			return fmt.Errorf("%s is not ready after %s: %w; the end of %s:\n%s",
				c.Name, s.opts.ReadyTimeout, ev.err, c.LogPath, logTail(c.LogPath, 15))
		}
		return nil // the run ended or Run is stopping
	}
	c.state = Ready
	if c.restarts.Count > 0 || c.Optional {
		s.opts.Logger.Printf("%s is ready (pid %d, %s after its start, restarts %d)",
			c.Name, c.cmd.Process.Pid, s.opts.Now().Sub(c.started).Round(time.Millisecond), c.restarts.Count)
	}
	if !s.up && s.requiredReady() {
		s.up = true
		if err := s.opts.OnReady(s.statuses()); err != nil {
			return err
		}
		s.startAfterUp(ctx)
	}
	s.changed()
	return nil
}

// startAfterUp starts the AfterUp processes once the cluster is up; one
// that fails to start is restarted with backoff.
func (s *Supervisor) startAfterUp(ctx context.Context) {
	for _, c := range s.children {
		if c.AfterUp && c.state == Stopped && c.gen == 0 {
			_ = s.start(ctx, c)
		}
	}
}

func (s *Supervisor) requiredReady() bool {
	for _, c := range s.children {
		if !c.Optional && c.state != Ready {
			return false
		}
	}
	return true
}

// changed reports the new state once the cluster is up.
func (s *Supervisor) changed() {
	if s.up {
		s.opts.OnChange(s.statuses())
	}
}

// statuses returns a snapshot of every process for OnReady and OnChange,
// which run on Run's goroutine and may keep it.
func (s *Supervisor) statuses() []Status {
	out := make([]Status, len(s.children))
	for i, c := range s.children {
		out[i] = Status{Name: c.Name, State: c.state, Restarts: c.restarts.Count}
		if c.cmd != nil {
			out[i].PID, out[i].Since = c.cmd.Process.Pid, c.started
		}
	}
	return out
}

// stopAll sends SIGTERM to every running process, waits for them all in
// parallel, sends SIGKILL to those still running after StopTimeout, and
// returns cause.
func (s *Supervisor) stopAll(cause error) error {
	running := 0
	for _, c := range s.children {
		if c.stopReady != nil {
			c.stopReady()
		}
		if c.cmd == nil {
			c.state = Stopped
			continue
		}
		c.state = Stopping
		running++
		if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			_ = c.cmd.Process.Kill()
		}
	}
	if running > 0 {
		s.opts.Logger.Printf("stopping %d processes (SIGTERM; SIGKILL after %s)", running, s.opts.StopTimeout)
	}
	kill := time.NewTimer(s.opts.StopTimeout)
	defer kill.Stop()
	for running > 0 {
		select {
		case ev := <-s.exits:
			if ev.gen != ev.c.gen {
				continue
			}
			running--
			s.stopped(ev)
		case <-s.readies:
		case <-kill.C:
			s.killStragglers()
		}
	}
	return cause
}

// stopped records a process that exited during stopAll. A non-zero exit
// is logged, not returned: the cluster is going down either way.
func (s *Supervisor) stopped(ev exitEvent) {
	c := ev.c
	how := exitReason(ev.err)
	c.exited("stopped (" + how + ")")
	c.cmd, c.state = nil, Stopped
	for _, w := range c.waiters {
		w <- nil
	}
	c.waiters = nil
	s.opts.Logger.Printf("%s stopped (%s)", c.Name, how)
}

// killStragglers sends SIGKILL to every process still running.
func (s *Supervisor) killStragglers() {
	for _, c := range s.children {
		if c.cmd != nil {
			s.opts.Logger.Printf("%s did not stop within %s of SIGTERM; killing it", c.Name, s.opts.StopTimeout)
			_ = c.cmd.Process.Kill()
		}
	}
}
