// Package brokertest runs real `weir broker` processes for tests.
//
// A test gets a broker with Start: the package builds ./cmd/weir once per
// test binary (or uses $WEIR_BINARY), writes a server.properties with free
// loopback ports and a data directory under t.TempDir(), starts the process
// and polls until it answers an ApiVersions request. The process is stopped by
// t.Cleanup; its stdout and stderr are kept and logged if the test fails.
//
// Tests use the process the way a user does (Kafka protocol, admin HTTP,
// SIGTERM, SIGKILL, files on disk), so they exercise the binary that ships,
// not an in-process server wired differently. Readiness and every other wait
// is a poll for a condition with a deadline, never a fixed sleep.
package brokertest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/weirhq/weir/internal/readiness"
)

// Timeouts for the broker's lifecycle. Readiness covers log recovery on a
// restart; a clean stop that takes longer than StopTimeout is a test failure.
const (
	ReadyTimeout = 20 * time.Second
	StopTimeout  = 15 * time.Second
	pollInterval = 20 * time.Millisecond
)

// Options change how Start configures the broker.
type Options struct {
	// Props are server.properties entries added to, or replacing, the
	// defaults (node.id, listeners, log.dirs, weir.admin.listener).
	Props map[string]string
	// Env is added to the broker's environment ("KEY=value").
	Env []string
	// Listeners names more listeners (SASL_SSL, SSL, ...) for Start to
	// bind on free ports after the PLAINTEXT one; Broker.Listeners has
	// their addresses. Their security protocols and ssl.* keys go in
	// Props.
	Listeners []string
	// DefaultQuorumTimers leaves the raft timers at the broker's own
	// defaults (Kafka's: election 1 s, fetch 2 s) instead of FastQuorum's,
	// for a benchmark that proves those defaults.
	DefaultQuorumTimers bool
}

// FastQuorum are the raft timers every test broker gets unless Props or
// DefaultQuorumTimers say otherwise: failover in about a second, where
// the broker's defaults (Kafka's) take several; a single broker elects
// itself after the fetch timeout, so they also make each start faster.
var FastQuorum = map[string]string{
	"controller.quorum.election.timeout.ms": "500",
	"controller.quorum.fetch.timeout.ms":    "500",
}

// Broker is one running (or stopped) `weir broker` process.
type Broker struct {
	NodeID     int32             // node.id
	Addr       string            // Kafka listener, host:port
	AdminAddr  string            // admin HTTP listener (/metrics, /healthz, /readyz), host:port; "" if turned off
	DataDir    string            // log.dirs
	ConfigPath string            // the server.properties the broker was started with
	Listeners  map[string]string // Options.Listeners' addresses, by name

	// opts are the security options (TLS, SASL) every client of Addr
	// needs: the readiness probe's and Client's. None on a PLAINTEXT Addr.
	opts []kgo.Opt

	t      testing.TB
	binary string
	env    []string
	logs   *logBuffer

	mu   sync.Mutex
	proc *process // nil while stopped
}

// process is one run of the binary. exited is closed once Wait returns; the
// goroutine that waits is owned by the process and ends with it.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // set before exited is closed
}

// Start writes a server.properties, starts the broker and waits until it
// answers ApiVersions. The broker is stopped by t.Cleanup.
func Start(t testing.TB, opts Options) *Broker {
	t.Helper()
	bin := Binary(t)
	root := t.TempDir()
	b := &Broker{
		DataDir:    filepath.Join(root, "data"),
		ConfigPath: filepath.Join(root, "server.properties"),
		t:          t,
		binary:     bin,
		env:        opts.Env,
		logs:       &logBuffer{},
	}
	t.Cleanup(func() {
		b.shutdown()
		if t.Failed() {
			t.Logf("weir broker output (%s):\n%s", b.Addr, b.logs.String())
		}
	})
	const attempts = 3
	for attempt := 1; ; attempt++ {
		b.Addr, b.AdminAddr = freeAddr(t), freeAddr(t)
		props := opts.Props
		if len(opts.Listeners) > 0 {
			props = map[string]string{}
			for k, v := range opts.Props {
				props[k] = v
			}
			b.Listeners = map[string]string{}
			ls := []string{"PLAINTEXT://" + b.Addr}
			for _, name := range opts.Listeners {
				b.Listeners[name] = freeAddr(t)
				ls = append(ls, name+"://"+b.Listeners[name])
			}
			props["listeners"] = strings.Join(ls, ",")
		}
		b.writeConfig(t, props, !opts.DefaultQuorumTimers)
		err := b.launch()
		if err == nil {
			return b
		}
		if attempt < attempts && strings.Contains(b.logs.String(), "address already in use") {
			t.Logf("brokertest: port conflict, retrying with new ports: %v", err)
			continue
		}
		t.Fatalf("brokertest: start weir broker: %v", err)
	}
}

// Restart starts the broker again with the same config: the same ports and
// the same data directory. It waits for readiness like Start.
func (b *Broker) Restart(t testing.TB) {
	t.Helper()
	b.mu.Lock()
	running := b.proc != nil
	b.mu.Unlock()
	if running {
		t.Fatalf("brokertest: Restart of a running broker (call Stop or Kill first)")
	}
	if err := b.launch(); err != nil {
		t.Fatalf("brokertest: restart weir broker: %v", err)
	}
}

// Kill sends SIGKILL and waits for the process to exit.
func (b *Broker) Kill() {
	b.t.Helper()
	p := b.take()
	if p == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
	b.logs.mark("killed (SIGKILL)")
}

// Stop sends SIGTERM and waits for a clean exit. It fails the test if the
// broker takes longer than StopTimeout or exits with an error; the process is
// then killed so the test can go on.
func (b *Broker) Stop() {
	b.t.Helper()
	p := b.take()
	if p == nil {
		return
	}
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(StopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
		b.t.Errorf("brokertest: broker did not exit within %v of SIGTERM; killed it", StopTimeout)
		return
	}
	b.logs.mark(fmt.Sprintf("stopped (SIGTERM) in %v", time.Since(start).Round(time.Millisecond)))
	if p.err != nil {
		b.t.Errorf("brokertest: broker exited uncleanly after SIGTERM: %v", p.err)
	}
}

// PID is the running process's id, 0 while stopped.
func (b *Broker) PID() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc == nil {
		return 0
	}
	return b.proc.cmd.Process.Pid
}

// Running reports whether the process is running (it has not been stopped,
// killed, or exited on its own).
func (b *Broker) Running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc == nil {
		return false
	}
	select {
	case <-b.proc.exited:
		return false
	default:
		return true
	}
}

// Logs returns everything the broker printed so far, across restarts.
func (b *Broker) Logs() string { return b.logs.String() }

// Client returns a franz-go client seeded with the broker, closed by
// t.Cleanup. On a secure cluster's broker it speaks SSL with the admin
// certificate (Addr is the inter-broker listener there).
func (b *Broker) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	all := append(append([]kgo.Opt{kgo.SeedBrokers(b.Addr)}, b.opts...), opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		t.Fatalf("brokertest: new kgo client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// take detaches the running process from b, or returns nil.
func (b *Broker) take() *process {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.proc
	b.proc = nil
	return p
}

// shutdown is the cleanup: a clean stop if the broker is still running.
func (b *Broker) shutdown() {
	if b.Running() {
		b.Stop()
		return
	}
	if p := b.take(); p != nil { // exited on its own
		<-p.exited
	}
}

func (b *Broker) writeConfig(t testing.TB, overrides map[string]string, fastQuorum bool) {
	t.Helper()
	props := map[string]string{
		"node.id":             "1",
		"listeners":           "PLAINTEXT://" + b.Addr,
		"log.dirs":            b.DataDir,
		"weir.admin.listener": b.AdminAddr,
	}
	if fastQuorum {
		for k, v := range FastQuorum {
			props[k] = v
		}
	}
	for k, v := range overrides {
		props[k] = v
	}
	id, err := strconv.ParseInt(props["node.id"], 10, 32)
	if err != nil {
		t.Fatalf("brokertest: node.id %q: %v", props["node.id"], err)
	}
	b.NodeID = int32(id)
	if a := props["weir.admin.listener"]; a == "" || a == "off" {
		b.AdminAddr = ""
	} else {
		b.AdminAddr = a
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	sb.WriteString("# written by broker/brokertest for " + t.Name() + "\n")
	for _, k := range keys {
		fmt.Fprintf(&sb, "%s=%s\n", k, props[k])
	}
	if err := os.WriteFile(b.ConfigPath, []byte(sb.String()), 0o644); err != nil {
		t.Fatalf("brokertest: write %s: %v", b.ConfigPath, err)
	}
}

// launch starts the process and waits for readiness. On failure the process
// is killed and reaped, and the error says why.
func (b *Broker) launch() error {
	p, err := b.spawn()
	if err != nil {
		return err
	}
	return b.awaitReady(p, ReadyTimeout)
}

// spawn starts the process without waiting for readiness.
func (b *Broker) spawn() (*process, error) {
	cmd := exec.Command(b.binary, "broker", "--config", b.ConfigPath)
	cmd.Env = append(os.Environ(), b.env...)
	cmd.Stdout = b.logs
	cmd.Stderr = b.logs
	b.logs.mark("starting " + strings.Join(cmd.Args, " "))
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("exec %s: %w", b.binary, err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() { // owned by p: ends when the process exits, and every path waits on p.exited
		p.err = cmd.Wait()
		close(p.exited)
	}()
	b.mu.Lock()
	b.proc = p
	b.mu.Unlock()
	return p, nil
}

// awaitReady waits for a spawned process; on failure it is killed and
// reaped.
func (b *Broker) awaitReady(p *process, timeout time.Duration) error {
	if err := waitReady(b.Addr, b.AdminAddr, p.exited, timeout, b.opts...); err != nil {
		if p := b.take(); p != nil {
			_ = p.cmd.Process.Kill()
			<-p.exited
			if p.err != nil {
				err = fmt.Errorf("%w (process: %v)", err, p.err)
			}
		}
		return err
	}
	return nil
}

// waitReady polls every pollInterval until the broker answers on addr and,
// with an admin listener, GET /readyz with 200 (readiness.Broker); or
// until the process exits or the timeout passes.
func waitReady(addr, adminAddr string, exited <-chan struct{}, timeout time.Duration, opts ...kgo.Opt) error {
	adminURL := ""
	if adminAddr != "" {
		adminURL = "http://" + adminAddr
	}
	deadline := time.Now().Add(timeout)
	var last error
	for {
		select {
		case <-exited:
			return fmt.Errorf("broker exited before it was ready (last probe: %v)", last)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		last = readiness.Broker(ctx, addr, adminURL, opts...)
		cancel()
		if last == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("broker not ready after %v: %v", timeout, last)
		}
		select {
		case <-exited:
		case <-time.After(pollInterval):
		}
	}
}

// ReadResponse reads one size-prefixed response frame with a v0 header from
// r, checks its correlation id and returns the body after the header.
func ReadResponse(r io.Reader, correlationID int32) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, fmt.Errorf("read response size: %w", err)
	}
	n := int32(binary.BigEndian.Uint32(size[:]))
	if n < 4 || n > 64<<20 {
		return nil, fmt.Errorf("response size %d out of range", n)
	}
	frame := make([]byte, n)
	if _, err := io.ReadFull(r, frame); err != nil {
		return nil, fmt.Errorf("read response of %d bytes: %w", n, err)
	}
	if got := int32(binary.BigEndian.Uint32(frame)); got != correlationID {
		return nil, fmt.Errorf("correlation id %d, want %d", got, correlationID)
	}
	return frame[4:], nil
}

// freeAddr returns a loopback host:port that was free a moment ago
// (FreeRange). Another process can still take it before the broker binds
// it; Start retries then.
func freeAddr(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", FreeRange(t, 1))
}

var build struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of a weir binary: $WEIR_BINARY if set, otherwise
// ./cmd/weir built once per test binary into a temporary directory.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		if p := os.Getenv("WEIR_BINARY"); p != "" {
			build.path, build.err = filepath.Abs(p)
			return
		}
		build.path, build.err = buildWeir()
	})
	if build.err != nil {
		t.Fatalf("brokertest: %v", build.err)
	}
	return build.path
}

// buildWeir runs `go build ./cmd/weir` in the module root.
func buildWeir() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "weir-brokertest-")
	if err != nil {
		return "", fmt.Errorf("make build dir: %w", err)
	}
	out := filepath.Join(dir, "weir")
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race") // a data race in the broker then fails loudly in its output
	}
	cmd := exec.Command(goTool(), append(args, "./cmd/weir")...)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/weir: %v\n%s", err, msg)
	}
	return out, nil
}

// RemoveBinary deletes the binary that Binary built, if it built one. Call it
// from TestMain after m.Run (Main does).
func RemoveBinary() {
	if build.path != "" && os.Getenv("WEIR_BINARY") == "" {
		_ = os.RemoveAll(filepath.Dir(build.path))
	}
}

// moduleRoot finds the directory of go.mod above this source file's package
// directory, which is the working directory of a test binary.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
	}
}

// goTool is the go command of the toolchain running the tests: go test
// puts its GOROOT's bin first on the test's PATH, so "go" finds it.
func goTool() string {
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// logBuffer collects the broker's output across restarts. exec copies the
// process's pipes into it from its own goroutines, hence the lock.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) mark(event string) {
	fmt.Fprintf(l, "----- brokertest %s: %s -----\n", time.Now().Format("15:04:05.000"), event)
}
