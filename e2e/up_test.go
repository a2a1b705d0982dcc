package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/cluster"
	"github.com/weirhq/weir/internal/await"
)

// TestUp runs `weir up --brokers 3` the way a user does and checks what it
// promises: every broker answers on its ports; a broker killed with SIGKILL
// comes back on the same port with its data; SIGINT stops every child and
// exits 0; a second `weir up` on the directory brings back the same cluster.
// The record lives on broker 2 alone (replica assignment [2]), so reading it
// back after the kill shows that broker 2 came back with its own data.
func TestUp(t *testing.T) {
	t.Parallel()
	bin := brokertest.Binary(t)
	dir := filepath.Join(t.TempDir(), "cluster")
	base := freeRange(t, 3, 0)
	adminBase := freeRange(t, 3, base)
	up := startUp(t, bin, "--brokers", "3", "--dir", dir,
		"--base-port", fmt.Sprint(base), "--admin-base-port", fmt.Sprint(adminBase))
	e := up.waitEndpoints(t, dir)

	if e.Bootstrap != fmt.Sprintf("127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d", base, base+1, base+2) {
		t.Errorf("bootstrap %q", e.Bootstrap)
	}
	for i, b := range e.Brokers {
		checkBrokerEndpoint(t, b, i+1, base, adminBase, dir)
	}
	if !strings.Contains(up.stdout(), "bootstrap: "+e.Bootstrap) {
		t.Errorf("weir up did not print the bootstrap string:\n%s", up.stdout())
	}

	// A record on broker 2, which is then killed and restarted by weir up.
	b2 := e.Brokers[1]
	const topic = "up-kill-nine"
	createTopicOn(t, b2.Kafka, 2, topic)
	produceOne(t, b2.Kafka, topic, "before the kill")
	if err := syscall.Kill(b2.PID, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 broker 2 (pid %d): %v", b2.PID, err)
	}
	var back cluster.BrokerEndpoint
	await.For(t, 30*time.Second, "broker 2 to be restarted and ready", func() error {
		now, err := readEndpoints(dir)
		if err != nil {
			return err
		}
		back = now.Brokers[1]
		if back.PID == b2.PID || back.State != cluster.Ready || back.Restarts != 1 {
			return fmt.Errorf("broker 2 is %+v", back)
		}
		return nil
	})
	if back.Kafka != b2.Kafka || back.DataDir != b2.DataDir {
		t.Errorf("broker 2 came back as %+v, was %+v", back, b2)
	}
	checkBrokerEndpoint(t, back, 2, base, adminBase, dir)
	want := "broker 2 exited (signal: killed) after "
	wantWhere := fmt.Sprintf("restarting it in 500ms on %s with its data in %s (restart 1)", b2.Kafka, b2.DataDir)
	if log := up.stderr(); !strings.Contains(log, want) || !strings.Contains(log, wantWhere) {
		t.Errorf("weir up's log does not tell of the restart (want %q ... %q):\n%s", want, wantWhere, log)
	}
	if got := consumeFrom(t, back.Kafka, topic); got != "before the kill" {
		t.Errorf("after the restart broker 2 holds %q", got)
	}
	if st := runWeir(t, bin, "up", "status", "--dir", dir); !regexpLine(st, `broker 2\s+`+back.Kafka+`\s+ready\s+`+fmt.Sprint(back.PID)+`\s+1`) {
		t.Errorf("weir up status does not show broker 2's restart:\n%s", st)
	}

	// Ctrl-C: every broker stops, weir up exits 0 and removes endpoints.json.
	pids := []int{e.Brokers[0].PID, back.PID, e.Brokers[2].PID}
	up.interrupt(t)
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("broker pid %d still running after weir up exited", pid)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "endpoints.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("endpoints.json left after a clean stop: %v", err)
	}

	// Flags that contradict the saved cluster are refused, saying what to do.
	out, code := runWeirCode(t, bin, "up", "--dir", dir, "--brokers", "5")
	if code != 1 || !strings.Contains(out, "holds a 3-broker cluster; --brokers 5 would change it: use a new --dir, or `weir up --dir "+dir+"` without --brokers") {
		t.Errorf("weir up --brokers 5 on a 3-broker dir: exit %d\n%s", code, out)
	}

	// The same directory again, without port flags: same ports, same data.
	again := startUp(t, bin, "--dir", dir)
	e2 := again.waitEndpoints(t, dir)
	if e2.ClusterID != e.ClusterID || e2.Bootstrap != e.Bootstrap {
		t.Errorf("second weir up: cluster %s at %s, want %s at %s", e2.ClusterID, e2.Bootstrap, e.ClusterID, e.Bootstrap)
	}
	for i, b := range e2.Brokers {
		checkBrokerEndpoint(t, b, i+1, base, adminBase, dir)
	}
	if got := consumeFrom(t, e2.Brokers[1].Kafka, topic); got != "before the kill" {
		t.Errorf("after a second weir up broker 2 holds %q", got)
	}
	again.interrupt(t)
}

// TestUpRefusesATakenPort: a port in use stops weir up before any broker
// starts, with a message naming the port and the broker it was for.
func TestUpRefusesATakenPort(t *testing.T) {
	t.Parallel()
	bin := brokertest.Binary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().(*net.TCPAddr).Port
	admin := freeRange(t, 2, taken-1)
	dir := t.TempDir()
	out, code := runWeirCode(t, bin, "up", "--dir", dir, "--brokers", "2",
		"--base-port", fmt.Sprint(taken-1), "--admin-base-port", fmt.Sprint(admin))
	want := fmt.Sprintf("port %d (broker 2's Kafka listener) is not free: address already in use", taken)
	if code != 1 || !strings.Contains(out, want) {
		t.Errorf("exit %d, want 1 and %q:\n%s", code, want, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "cluster.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a cluster that never started was saved: %v", err)
	}
}

// TestUpKilledTakesItsBrokersDown: kill -9 of weir up leaves no broker
// running (Linux's parent-death signal), and the next weir up on the
// directory starts, though the killed one left its lock and endpoints.json.
func TestUpKilledTakesItsBrokersDown(t *testing.T) {
	t.Parallel()
	bin := brokertest.Binary(t)
	dir := t.TempDir()
	base := freeRange(t, 1, 0)
	adminBase := freeRange(t, 1, base)
	args := []string{"--brokers", "1", "--dir", dir, "--base-port", fmt.Sprint(base), "--admin-base-port", fmt.Sprint(adminBase)}
	up := startUp(t, bin, args...)
	pid := up.waitEndpoints(t, dir).Brokers[0].PID
	if err := up.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-up.exited
	await.For(t, 10*time.Second, "the broker to die with weir up", func() error {
		if syscall.Kill(pid, 0) == nil {
			return fmt.Errorf("broker pid %d still running", pid)
		}
		return nil
	})
	again := startUp(t, bin, "--dir", dir)
	if e := again.waitEndpoints(t, dir); e.Brokers[0].PID == pid || e.Brokers[0].Kafka != fmt.Sprintf("127.0.0.1:%d", base) {
		t.Errorf("second weir up: %+v", e.Brokers[0])
	}
	again.interrupt(t)
}

// upProcess is a running `weir up`.
type upProcess struct {
	cmd      *exec.Cmd
	out, err *syncBuffer
	exited   chan struct{}
	waitErr  error
}

func startUp(t *testing.T, bin string, args ...string) *upProcess {
	t.Helper()
	args = ownPorts(t, args)
	up := &upProcess{out: &syncBuffer{}, err: &syncBuffer{}, exited: make(chan struct{})}
	up.cmd = exec.Command(bin, append([]string{"up", "--stop-timeout", "15s"}, args...)...)
	up.cmd.Stdout, up.cmd.Stderr = up.out, up.err
	if err := up.cmd.Start(); err != nil {
		t.Fatalf("start weir up: %v", err)
	}
	go func() { // owned by up: ends when the process does; cleanup waits for it
		up.waitErr = up.cmd.Wait()
		close(up.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-up.exited:
		default:
			_ = up.cmd.Process.Kill() // its brokers die with it (Pdeathsig)
			<-up.exited
		}
		if t.Failed() {
			t.Logf("weir up %v\nstdout:\n%s\nstderr:\n%s", args, up.stdout(), up.stderr())
		}
	})
	return up
}

// ownPorts gives a new cluster free ports for the listeners whose
// defaults would collide between tests running in parallel (the control
// plane's, and with --agents the collector's and the monitoring stack's),
// unless the test chose them. A saved cluster keeps its own.
func ownPorts(t *testing.T, args []string) []string {
	dir := ""
	for i, a := range args {
		if a == "--dir" && i+1 < len(args) {
			dir = args[i+1]
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cluster.json")); dir == "" || err == nil {
		return args
	}
	flags := []string{"--control-plane-port"}
	if slices.Contains(args, "--agents") {
		flags = append(flags, "--collector-port", "--prometheus-port", "--alertmanager-port")
	}
	if slices.Contains(args, "--autoscaler-policy") {
		flags = append(flags, "--autoscaler-port")
	}
	for _, f := range flags {
		if !slices.Contains(args, f) {
			args = append(args, f, fmt.Sprint(brokertest.FreeRange(t, 1)))
		}
	}
	return args
}

func (up *upProcess) stdout() string { return up.out.String() }
func (up *upProcess) stderr() string { return up.err.String() }

// waitEndpoints polls for the endpoints.json this weir up wrote (not one
// left by an earlier one), failing at once if weir up exits.
func (up *upProcess) waitEndpoints(t *testing.T, dir string) cluster.Endpoints {
	t.Helper()
	var e cluster.Endpoints
	await.For(t, 40*time.Second, "endpoints.json", func() error {
		select {
		case <-up.exited:
			t.Fatalf("weir up exited (%v) before the cluster was up:\n%s", up.waitErr, up.stderr())
		default:
		}
		var err error
		if e, err = readEndpoints(dir); err == nil && e.UpPID != up.cmd.Process.Pid {
			err = fmt.Errorf("endpoints.json is from weir up pid %d, not %d", e.UpPID, up.cmd.Process.Pid)
		}
		if err == nil && !strings.Contains(up.stdout(), "endpoints for scripts:") {
			err = errors.New("the summary is not read from weir up's output yet")
		}
		return err
	})
	return e
}

// interrupt sends SIGINT and checks that weir up exits 0 within the stop
// timeout.
func (up *upProcess) interrupt(t *testing.T) {
	t.Helper()
	if err := up.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("SIGINT weir up: %v", err)
	}
	select {
	case <-up.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("weir up did not exit within 30s of SIGINT")
	}
	if up.waitErr != nil {
		t.Errorf("weir up exited with %v after SIGINT, want 0", up.waitErr)
	}
}

func readEndpoints(dir string) (cluster.Endpoints, error) {
	var e cluster.Endpoints
	data, err := os.ReadFile(filepath.Join(dir, "endpoints.json"))
	if err != nil {
		return e, err
	}
	return e, json.Unmarshal(data, &e)
}

// checkBrokerEndpoint checks broker id's entry against the ports and
// directory weir up was given, then that it answers ApiVersions on its Kafka
// port and 200 on /readyz.
func checkBrokerEndpoint(t *testing.T, b cluster.BrokerEndpoint, id, base, adminBase int, dir string) {
	t.Helper()
	want := cluster.BrokerEndpoint{
		ID: id, Kafka: fmt.Sprintf("127.0.0.1:%d", base+id-1),
		Admin:   fmt.Sprintf("http://127.0.0.1:%d", adminBase+id-1),
		Metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", adminBase+id-1),
		DataDir: filepath.Join(dir, fmt.Sprintf("broker-%d", id), "data"),
		Log:     filepath.Join(dir, fmt.Sprintf("broker-%d", id), "broker.log"),
	}
	if b.ID != want.ID || b.Kafka != want.Kafka || b.Admin != want.Admin || b.Metrics != want.Metrics ||
		b.DataDir != want.DataDir || b.Log != want.Log || b.PID == 0 || b.State != cluster.Ready {
		t.Errorf("broker %d endpoint %+v, want %+v (running, ready)", id, b, want)
	}
	cl := newClient(t, b.Kafka)
	ctx := testContext(t, 10*time.Second)
	resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, cl)
	if err == nil && resp.ErrorCode != 0 {
		err = fmt.Errorf("error code %d", resp.ErrorCode)
	}
	if err != nil {
		t.Errorf("broker %d ApiVersions on %s: %v", id, b.Kafka, err)
	}
	r, err := http.Get(b.Admin + "/readyz")
	if err != nil {
		t.Errorf("broker %d GET /readyz: %v", id, err)
		return
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Errorf("broker %d GET /readyz: %s", id, r.Status)
	}
}

// newClient is a franz-go client that talks to addr only, closed by
// t.Cleanup.
func newClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.MetadataMinAge(10 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// createTopicOn creates a one-partition topic whose only replica is
// broker id, through the broker at addr, so the record produced to it lives
// in that broker's data directory whether the brokers form a replicated
// cluster or run alone. min.insync.replicas=1 lets acks=all through with one
// replica.
func createTopicOn(t *testing.T, addr string, id int32, topic string) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 10000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, -1, -1
	ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
	ra.Partition, ra.Replicas = 0, []int32{id}
	rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
	one := "1"
	cfg := kmsg.NewCreateTopicsRequestTopicConfig()
	cfg.Name, cfg.Value = "min.insync.replicas", &one
	rt.Configs = append(rt.Configs, cfg)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testContext(t, 10*time.Second), newClient(t, addr))
	if err == nil {
		err = kerr.ErrorForCode(resp.Topics[0].ErrorCode)
	}
	if err != nil {
		t.Fatalf("create %s on broker %d: %v", topic, id, err)
	}
}

func produceOne(t *testing.T, addr, topic, value string) {
	t.Helper()
	produceSync(t, newClient(t, addr), &kgo.Record{Topic: topic, Value: []byte(value)})
}

// consumeFrom reads the first record of topic's partition 0 on addr.
func consumeFrom(t *testing.T, addr, topic string) string {
	t.Helper()
	cl := newClient(t, addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	ctx := testContext(t, 20*time.Second)
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consume %s from %s: %v", topic, addr, ctx.Err())
		}
		if recs := fs.Records(); len(recs) > 0 {
			return string(recs[0].Value)
		}
	}
}

// freeRange returns the first port of n consecutive loopback ports that
// were free a moment ago and do not include avoid's range (n ports from
// avoid).
func freeRange(t *testing.T, n, avoid int) int {
	t.Helper()
	_ = avoid // FreeRange never hands out a port twice
	return brokertest.FreeRange(t, n)
}

// runWeir runs the binary and returns its combined output, failing on a
// non-zero exit.
func runWeir(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, code := runWeirCode(t, bin, args...)
	if code != 0 {
		t.Fatalf("weir %v: exit %d\n%s", args, code, out)
	}
	return out
}

func runWeirCode(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("weir %v: %v", args, err)
	}
	return string(out), 0
}

func regexpLine(text, pattern string) bool {
	return regexp.MustCompile(`(?m)^` + pattern).MatchString(text)
}
