package cluster

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"
)

// The supervisor's operations for the control plane: add a process to a
// running cluster, hold one (stop it and keep it stopped), release it
// (start it again). Each runs on Run's goroutine, like every change to a
// child; the caller waits for its answer.

// ErrNotRunning is the answer of an operation on a supervisor whose Run
// has returned (or not started).
var ErrNotRunning = errors.New("the supervisor is not running")

// command is one operation for Run's goroutine.
type command struct {
	run   func(ctx context.Context, s *Supervisor) error
	reply chan error
}

// do hands f to Run's goroutine and waits for its answer.
func (s *Supervisor) do(ctx context.Context, f func(context.Context, *Supervisor) error) error {
	cmd := command{run: f, reply: make(chan error, 1)}
	select {
	case s.cmds <- cmd:
	case <-s.done:
		return ErrNotRunning
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-cmd.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Add starts p as a new child of the running supervisor. A name already
// supervised is an error.
func (s *Supervisor) Add(ctx context.Context, p Process) error {
	return s.do(ctx, func(ctx context.Context, s *Supervisor) error {
		if s.child(p.Name) != nil {
			return fmt.Errorf("%s is already supervised", p.Name)
		}
		c := &child{Process: p, state: Stopped}
		s.children = append(s.children, c)
		if err := s.start(ctx, c); err != nil {
			return fmt.Errorf("starting %s: %w", p.Name, err)
		}
		return nil
	})
}

// Hold stops the named process (SIGTERM, SIGKILL after StopTimeout) and
// keeps it stopped: it is not restarted until Release. It returns once the
// process has exited. Holding a stopped or held process is no error.
func (s *Supervisor) Hold(ctx context.Context, name string) error {
	wait := make(chan error, 1)
	err := s.do(ctx, func(_ context.Context, s *Supervisor) error {
		c := s.child(name)
		if c == nil {
			return fmt.Errorf("no process named %q", name)
		}
		c.held = true
		if c.cmd == nil {
			c.state = Stopped
			s.changed()
			wait <- nil
			return nil
		}
		c.waiters = append(c.waiters, wait)
		c.state = Stopping
		s.changed()
		s.signalStop(c)
		return nil
	})
	if err != nil {
		return err
	}
	select {
	case err := <-wait:
		return err
	case <-s.done:
		return ErrNotRunning
	case <-ctx.Done():
		return ctx.Err()
	}
}

// signalStop sends SIGTERM to c's run and SIGKILL if it is still that run
// after StopTimeout.
func (s *Supervisor) signalStop(c *child) {
	cmd, gen := c.cmd, c.gen
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		_ = cmd.Process.Kill()
	}
	s.goroutine(func() {
		t := time.NewTimer(s.opts.StopTimeout)
		defer t.Stop()
		select {
		case <-t.C:
		case <-s.done:
			return
		}
		_ = s.do(context.Background(), func(context.Context, *Supervisor) error {
			if c.gen == gen && c.cmd == cmd {
				s.opts.Logger.Printf("%s did not stop within %s of SIGTERM; killing it", c.Name, s.opts.StopTimeout)
				_ = cmd.Process.Kill()
			}
			return nil
		})
	})
}

// heldExited records the exit of a held process and answers its waiters.
func (s *Supervisor) heldExited(c *child, how string) {
	c.exited("stopped on request (" + how + ")")
	c.state = Stopped
	s.opts.Logger.Printf("%s stopped on request (%s)", c.Name, how)
	for _, w := range c.waiters {
		w <- nil
	}
	c.waiters = nil
	s.changed()
}

// Release starts a held process again, with a fresh restart count.
func (s *Supervisor) Release(ctx context.Context, name string) error {
	return s.do(ctx, func(ctx context.Context, s *Supervisor) error {
		c := s.child(name)
		if c == nil {
			return fmt.Errorf("no process named %q", name)
		}
		if !c.held {
			return nil
		}
		if c.cmd != nil {
			return fmt.Errorf("%s is still stopping", name)
		}
		c.held, c.restarts = false, Restarts{}
		return s.start(ctx, c)
	})
}

// Statuses returns every process's status.
func (s *Supervisor) Statuses(ctx context.Context) ([]Status, error) {
	var out []Status
	err := s.do(ctx, func(context.Context, *Supervisor) error {
		out = s.statuses()
		return nil
	})
	return out, err
}

func (s *Supervisor) child(name string) *child {
	for _, c := range s.children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Update changes the named process's definition (its binary, say); the
// change takes effect at its next start.
func (s *Supervisor) Update(ctx context.Context, name string, f func(*Process)) error {
	return s.do(ctx, func(context.Context, *Supervisor) error {
		c := s.child(name)
		if c == nil {
			return fmt.Errorf("no process named %q", name)
		}
		f(&c.Process)
		return nil
	})
}
