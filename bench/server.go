package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/weirhq/weir/internal/readiness"
)

// Server is a Kafka server running as a child process: a Weir broker or a
// kfake cluster behind `weir bench kfake-server`. The goroutine that waits
// for the process is owned by the Server and ended by Stop.
type Server struct {
	Name      string // "weir" or "kfake", or a broker's label in a cluster
	Addr      string // Kafka listener, host:port
	AdminAddr string // admin HTTP listener probed for /readyz ("": none)
	LogPath   string // the child's stdout and stderr

	argv    []string
	cmd     *exec.Cmd
	logFile *os.File
	wg      sync.WaitGroup
	exited  chan struct{} // closed once the process has exited
	waitErr error         // the process's exit, set before exited is closed
}

// StartServer starts argv as a child process that should serve Kafka on
// addr, its output going to logPath, and waits until a Kafka client can
// reach it (an ApiVersions round trip) or until timeout.
func StartServer(ctx context.Context, name, addr, logPath string, argv []string, timeout time.Duration) (*Server, error) {
	s, err := spawnServer(name, addr, "", logPath, argv)
	if err != nil {
		return nil, err
	}
	if err := s.WaitReady(ctx, timeout); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// spawnServer starts argv without waiting for it to be ready. Its output
// is appended to logPath, so that a restarted broker keeps one log.
func spawnServer(name, addr, adminAddr, logPath string, argv []string) (*Server, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("creating %s log: %w", name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s (%s): %w", name, strings.Join(argv, " "), err)
	}
	s := &Server{Name: name, Addr: addr, AdminAddr: adminAddr, LogPath: logPath, argv: argv,
		cmd: cmd, logFile: logFile, exited: make(chan struct{})}
	s.wg.Go(func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	})
	return s, nil
}

// WaitReady waits until the server answers a Kafka ping and, with an admin
// listener, GET /readyz with 200; it fails if the process exits first or
// timeout passes, and then the error carries the end of the server's log.
func (s *Server) WaitReady(ctx context.Context, timeout time.Duration) error {
	if err := s.waitReady(ctx, timeout); err != nil {
		return fmt.Errorf("waiting for %s on %s: %w%s", s.Name, s.Addr, err, s.logTail())
	}
	return nil
}

// Pid is the child's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// waitReady polls the server (readiness.Broker: /readyz when it has an
// admin listener, then a Kafka ping) until it answers, the process exits,
// or timeout passes.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	adminURL := ""
	if s.AdminAddr != "" {
		adminURL = "http://" + s.AdminAddr
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	var err error
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		err = readiness.Broker(attempt, s.Addr, adminURL)
		cancelAttempt()
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("the process exited: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %w", timeout, err)
		case <-poll.C:
		}
	}
}

// Stop asks the server to shut down (SIGTERM), kills it if it has not
// exited after ten seconds, and waits for it.
func (s *Server) Stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
	}
	s.wg.Wait()
	s.logFile.Close()
	var exit *exec.ExitError
	if errors.As(s.waitErr, &exit) && !exit.Exited() {
		return nil // ended by our signal
	}
	return s.waitErr
}

// Kill ends the server with SIGKILL, as a crash would, and waits for it.
// It returns the moment just before the signal was sent.
func (s *Server) Kill() (time.Time, error) {
	at := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return at, fmt.Errorf("killing %s (pid %d): %w", s.Name, s.Pid(), err)
	}
	<-s.exited
	s.wg.Wait()
	s.logFile.Close()
	return at, nil
}

// logTail returns the last lines of the server's log, for errors.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.LogPath)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	lines = lines[max(0, len(lines)-15):]
	return fmt.Sprintf("\n--- last lines of %s ---\n%s", s.LogPath, bytes.Join(lines, []byte("\n")))
}

// Memory is a process's resident memory, from /proc/<pid>/status.
type Memory struct {
	RSSBytes int64 `json:"vm_rss_bytes"` // VmRSS: resident now
	HWMBytes int64 `json:"vm_hwm_bytes"` // VmHWM: peak resident
}

// ReadMemory reads VmRSS and VmHWM of pid (Linux only).
func ReadMemory(pid int) (Memory, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return Memory{}, fmt.Errorf("reading memory of process %d: %w", pid, err)
	}
	defer f.Close()
	var m Memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch key {
		case "VmRSS":
			m.RSSBytes = parseKB(val)
		case "VmHWM":
			m.HWMBytes = parseKB(val)
		}
	}
	return m, sc.Err()
}

// parseKB parses "   1234 kB" into bytes.
func parseKB(s string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "kB")), 10, 64)
	return n * 1024
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
