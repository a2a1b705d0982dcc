package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Process is one child the Supervisor runs and keeps running: what to
// execute, where its output goes, and how to tell that it is ready.
type Process struct {
	Name    string   // in log lines: "broker 2", "agent 2"
	Path    string   // the executable
	Args    []string // after the executable's name
	Env     []string // KEY=value, added to the supervisor's environment
	LogPath string   // stdout and stderr, appended across restarts
	PIDPath string   // if set, holds the running process's pid
	// Where ends the restart log line: "on 127.0.0.1:9093 with its data in /d/broker-2/data".
	Where string
	// Ready is one readiness probe; the supervisor polls it until it returns
	// nil. Nil means ready as soon as the process has started.
	Ready func(ctx context.Context) error
	// Optional processes are not waited for before the cluster counts as up,
	// and one that fails at the first start is restarted with backoff
	// instead of stopping everything.
	Optional bool
	// AfterUp processes (optional ones) start once the cluster is up:
	// every required process ready and OnReady done. On a secure cluster
	// the agents and the collector wait for the admin user OnReady makes.
	AfterUp bool
}

// launch starts the process with its output appended to LogPath, after a
// marker line. The returned command is started; the caller waits for it.
func (p Process) launch(start int) (*exec.Cmd, error) {
	f, err := os.OpenFile(p.LogPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening %s's log: %w", p.Name, err)
	}
	defer f.Close() // the child has its own descriptor once started
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = sysProcAttr()
	fmt.Fprintf(f, "----- weir up %s: starting %s (start %d) -----\n", stamp(), strings.Join(cmd.Args, " "), start)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", p.Name, err)
	}
	if p.PIDPath != "" {
		if err := os.WriteFile(p.PIDPath, []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, fmt.Errorf("writing %s's pid file: %w", p.Name, err)
		}
	}
	return cmd, nil
}

// exited records the end of a run in the log and removes the pid file.
func (p Process) exited(how string) {
	if p.PIDPath != "" {
		_ = os.Remove(p.PIDPath)
	}
	appendLine(p.LogPath, fmt.Sprintf("----- weir up %s: %s -----", stamp(), how))
}

// appendLine appends one line to the file at path, best effort: it is a
// marker for a human reading the log, and its failure changes nothing.
func appendLine(path, line string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}

func stamp() string { return time.Now().Format(time.RFC3339Nano) }

// exitReason describes how a process ended: "exit status 1",
// "signal: killed", "exit status 0".
func exitReason(err error) string {
	if err == nil {
		return "exit status 0"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.String()
	}
	return err.Error()
}

// logTail returns the last n lines of the file at path, for errors that
// should show why a process failed.
func logTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}
