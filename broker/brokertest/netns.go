package brokertest

import (
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// A Net is a private IPv4 network of Linux network namespaces on one
// bridge, made for a test: every Host is a namespace with its own address
// (10.a.b.11, .12, …) on a veth pair to the bridge, and the bridge itself
// holds 10.a.b.1 in the root namespace, so clients and tools run by the
// test reach every host by its address. Nothing is routed beyond the
// subnet. The test's t.Cleanup deletes it all.
//
// Every name starts with NetPrefix and carries the creating process's pid
// ("weirt-<pid>-<id>-<host>" for a namespace; the bridge, "wt<id>br",
// holds the same string as its link alias), so parallel tests and test
// binaries never collide, and the first NewNet of a process deletes what a
// test binary that died without its cleanups left behind (SweepStaleNets).
//
// Namespaces need root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2.
// Where they are unavailable, NewNet skips the test saying why — or fails
// it under CI (CI=true), where they must be.
type Net struct {
	ID     string // six hex digits, unique among live nets
	Bridge string // the bridge's link name in the root namespace
	Subnet string // "10.a.b": hosts are Subnet+".11" onwards, the bridge Subnet+".1"
	Hosts  []*Host

	t      testing.TB
	prefix string // NetPrefix + "<pid>-<id>"

	mu     sync.Mutex
	faults map[*Host][]string // nft rules in force, by host (netfault.go)
	netem  map[*Host]bool     // hosts with a netem qdisc on their link
}

// A Host is one network namespace of a Net.
type Host struct {
	Name  string // the host's short name ("b1")
	NS    string // the namespace's name (for ip netns exec)
	IP    string // its address on the net
	Veth  string // the root namespace's end of its veth pair (on the bridge)
	Iface string // its end of the pair, inside the namespace
}

// NetPrefix starts the name of every namespace (and the alias of every
// bridge) that NewNet creates.
const NetPrefix = "weirt-"

var (
	sweepOnce sync.Once
	subnets   struct {
		sync.Mutex
		used map[string]bool
	}
)

// NewNet creates an empty net (its bridge) for t, deleted by t.Cleanup
// after everything the test registers later (its brokers stop first).
func NewNet(t testing.TB) *Net {
	t.Helper()
	if reason := netnsUnavailable(); reason != "" {
		NetnsUnavailable(t, reason)
	}
	sweepOnce.Do(func() {
		if err := SweepStaleNets(); err != nil {
			t.Logf("brokertest: sweeping stale namespaces: %v", err)
		}
	})
	var idb [3]byte
	crand.Read(idb[:])
	id := hex.EncodeToString(idb[:])
	n := &Net{
		ID: id, Bridge: "wt" + id + "br",
		t: t, prefix: fmt.Sprintf("%s%d-%s", NetPrefix, os.Getpid(), id),
		faults: map[*Host][]string{}, netem: map[*Host]bool{},
	}
	subnet, err := pickSubnet()
	if err != nil {
		t.Fatalf("brokertest: %v", err)
	}
	n.Subnet = subnet
	t.Cleanup(n.teardown)
	err = runAll(
		[]string{"ip", "link", "add", n.Bridge, "type", "bridge"},
		[]string{"ip", "link", "set", "dev", n.Bridge, "alias", n.prefix},
		[]string{"ip", "addr", "add", n.Subnet + ".1/24", "dev", n.Bridge},
		[]string{"ip", "link", "set", n.Bridge, "up"},
	)
	if err != nil {
		NetnsUnavailable(t, fmt.Sprintf("creating bridge %s: %v", n.Bridge, err))
	}
	return n
}

// NetnsUnavailable skips t with reason, or fails it when CI=true: CI runs
// as root, where the namespace tests must run.
func NetnsUnavailable(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("network namespaces unavailable under CI: %s", reason)
	}
	t.Skipf("network namespaces unavailable, skipping: %s", reason)
}

// netnsUnavailable says why namespaces cannot be made here, or "".
func netnsUnavailable() string {
	if os.Geteuid() != 0 {
		return fmt.Sprintf("not root (euid %d): creating network namespaces needs CAP_SYS_ADMIN and CAP_NET_ADMIN", os.Geteuid())
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "iproute2's ip is not on PATH (apt-get install iproute2)"
	}
	return ""
}

// AddHost creates a namespace named name on the net, with loopback up and
// the next address.
func (n *Net) AddHost(name string) *Host {
	n.t.Helper()
	n.mu.Lock()
	i := len(n.Hosts) + 1
	h := &Host{
		Name: name, NS: n.prefix + "-" + name,
		IP:   fmt.Sprintf("%s.%d", n.Subnet, 10+i),
		Veth: fmt.Sprintf("wt%sh%d", n.ID, i), Iface: "eth0",
	}
	n.Hosts = append(n.Hosts, h)
	n.mu.Unlock()
	peer := fmt.Sprintf("wt%sn%d", n.ID, i)
	err := runAll(
		[]string{"ip", "netns", "add", h.NS},
		[]string{"ip", "link", "add", h.Veth, "type", "veth", "peer", "name", peer},
		[]string{"ip", "link", "set", peer, "netns", h.NS},
		[]string{"ip", "link", "set", h.Veth, "master", n.Bridge},
		[]string{"ip", "link", "set", h.Veth, "up"},
		[]string{"ip", "-n", h.NS, "link", "set", peer, "name", h.Iface},
		[]string{"ip", "-n", h.NS, "addr", "add", h.IP + "/24", "dev", h.Iface},
		[]string{"ip", "-n", h.NS, "link", "set", h.Iface, "up"},
		[]string{"ip", "-n", h.NS, "link", "set", "lo", "up"},
	)
	if err != nil {
		NetnsUnavailable(n.t, fmt.Sprintf("creating namespace %s: %v", h.NS, err))
	}
	return h
}

// Command returns a command that runs in h's namespace.
func (h *Host) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}

// Run runs a command in h's namespace and returns its error with its
// output.
func (h *Host) Run(name string, args ...string) error {
	return run(append([]string{"ip", "netns", "exec", h.NS, name}, args...))
}

// teardown kills whatever still runs in the namespaces, deletes them
// (which deletes their veth pairs) and the bridge.
func (n *Net) teardown() {
	for _, h := range n.Hosts {
		if err := deleteNamespace(h.NS); err != nil {
			n.t.Errorf("brokertest: %v", err)
		}
	}
	if err := run([]string{"ip", "link", "del", n.Bridge}); err != nil && !strings.Contains(err.Error(), "Cannot find device") {
		n.t.Errorf("brokertest: delete bridge %s: %v", n.Bridge, err)
	}
	subnets.Lock()
	delete(subnets.used, n.Subnet)
	subnets.Unlock()
}

// deleteNamespace kills (SIGKILL, by pid) the processes left in ns and
// deletes it.
func deleteNamespace(ns string) error {
	out, _ := exec.Command("ip", "netns", "pids", ns).Output()
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if err := run([]string{"ip", "netns", "del", ns}); err != nil && !strings.Contains(err.Error(), "No such file") {
		return fmt.Errorf("delete namespace %s: %w", ns, err)
	}
	return nil
}

// SweepStaleNets deletes the namespaces and bridges NewNet made in
// processes that no longer run: what a test binary killed before its
// cleanups (a timeout, SIGKILL) left behind. Those of live processes,
// parallel test binaries among them, are left alone.
func SweepStaleNets() error {
	var errs []error
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return fmt.Errorf("ip netns list: %w", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !staleName(f[0]) {
			continue
		}
		if err := deleteNamespace(f[0]); err != nil {
			errs = append(errs, err)
		}
	}
	out, err = exec.Command("ip", "-o", "link", "show", "type", "bridge").Output()
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("ip link show: %w", err))...)
	}
	for _, line := range strings.Split(string(out), "\n") {
		// "7: wt0a1b2cbr: <…> … \    link/ether … alias weirt-123-0a1b2c"
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name := strings.TrimSuffix(f[1], ":")
		for i, w := range f {
			if w == "alias" && i+1 < len(f) && staleName(f[i+1]) {
				if err := run([]string{"ip", "link", "del", name}); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// staleName reports whether name is one of NewNet's whose process is gone.
func staleName(name string) bool {
	rest, ok := strings.CutPrefix(name, NetPrefix)
	if !ok {
		return false
	}
	pidStr, _, _ := strings.Cut(rest, "-")
	pid, err := strconv.Atoi(pidStr)
	if err != nil || pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return false
	}
	err = syscall.Kill(pid, 0)
	return errors.Is(err, syscall.ESRCH)
}

// pickSubnet returns a free "10.a.b" (a in 200..249): not used by another
// net of this process, nor by any address or route of the root namespace.
func pickSubnet() (string, error) {
	subnets.Lock()
	defer subnets.Unlock()
	if subnets.used == nil {
		subnets.used = map[string]bool{}
	}
	routes, err := exec.Command("ip", "-4", "route", "show", "table", "all").Output()
	if err != nil {
		return "", fmt.Errorf("ip route: %w", err)
	}
	addrs, err := exec.Command("ip", "-4", "-o", "addr").Output()
	if err != nil {
		return "", fmt.Errorf("ip addr: %w", err)
	}
	taken := string(routes) + string(addrs)
	for range 1000 {
		s := fmt.Sprintf("10.%d.%d", 200+rand.IntN(50), rand.IntN(256))
		if !subnets.used[s] && !strings.Contains(taken, s+".") {
			subnets.used[s] = true
			return s, nil
		}
	}
	return "", errors.New("no free 10.x.y.0/24 subnet for a test net")
}

func runAll(cmds ...[]string) error {
	for _, c := range cmds {
		if err := run(c); err != nil {
			return err
		}
	}
	return nil
}

func run(args []string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// NetCluster is a Cluster whose brokers each run in their own namespace of
// Net, host "b<id>" at Net.Hosts[id-1]: Kafka (and the raft quorum) on
// <ip>:9092, the admin HTTP listener on <ip>:9644 — the addresses three
// real hosts would use.
type NetCluster struct {
	*Cluster
	Net *Net
}

// Kafka and admin ports of a NetCluster's brokers: each has an address of
// its own, so the ports are fixed.
const (
	NetKafkaPort = 9092
	NetAdminPort = 9644
)

// StartNetCluster starts n brokers as StartCluster does, each in a
// namespace of a new Net. It skips (or under CI fails) the test when
// namespaces are unavailable.
func StartNetCluster(t testing.TB, n int, opts Options) *NetCluster {
	t.Helper()
	nt := NewNet(t)
	c := &Cluster{}
	for i := 1; i <= n; i++ {
		h := nt.AddHost(fmt.Sprintf("b%d", i))
		c.add(t, nt.newBroker(t, h, opts.Env,
			fmt.Sprintf("%s:%d", h.IP, NetKafkaPort), fmt.Sprintf("%s:%d", h.IP, NetAdminPort)))
	}
	// writeConfig's defaults put the listeners on b.Addr and b.AdminAddr,
	// the host's own address.
	c.configure(t, opts)
	c.start(t)
	return &NetCluster{Cluster: c, Net: nt}
}

// StartNetBrokers starts one broker per entry of props, the i-th in a new
// host "b<i+1>" of nt (address Subnet+".<11+i>"), with exactly those
// server.properties entries but log.dirs, which is a directory of the
// test's. It is how a deployment's own files are tried: a listener on a
// wildcard host is reached at the host's address.
func StartNetBrokers(t testing.TB, nt *Net, props []map[string]string) *NetCluster {
	t.Helper()
	c := &Cluster{}
	for i, p := range props {
		h := nt.AddHost(fmt.Sprintf("b%d", i+1))
		kafka := firstListener(p["advertised.listeners"])
		if kafka == "" {
			kafka = firstListener(p["listeners"])
		}
		b := nt.newBroker(t, h, nil, reachable(kafka, h.IP), "")
		c.add(t, b)
		own := map[string]string{"log.dirs": b.DataDir}
		for k, v := range p {
			if k != "log.dirs" {
				own[k] = v
			}
		}
		b.writeConfig(t, own, false) // exactly the deployment's timers
		if b.AdminAddr != "" {
			b.AdminAddr = reachable(b.AdminAddr, h.IP)
		}
	}
	c.start(t)
	return &NetCluster{Cluster: c, Net: nt}
}

// newBroker makes (without starting) a broker that runs in h: its binary
// is a wrapper that enters the namespace and execs weir, so the process,
// and the pid Stop and Kill signal, is the broker's own.
func (n *Net) newBroker(t testing.TB, h *Host, env []string, addr, adminAddr string) *Broker {
	t.Helper()
	bin := Binary(t)
	root := t.TempDir()
	wrapper := filepath.Join(root, "weir-in-"+h.Name)
	script := fmt.Sprintf("#!/bin/sh\nexec ip netns exec %s %s \"$@\"\n", h.NS, bin)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatalf("brokertest: %v", err)
	}
	return &Broker{
		DataDir: filepath.Join(root, "data"), ConfigPath: filepath.Join(root, "server.properties"),
		t: t, binary: wrapper, env: env, logs: &logBuffer{},
		Addr: addr, AdminAddr: adminAddr,
	}
}

// firstListener is the host:port of the first listener in a listeners
// value ("PLAINTEXT://10.0.0.11:9092,…").
func firstListener(v string) string {
	first, _, _ := strings.Cut(v, ",")
	if _, hp, ok := strings.Cut(first, "://"); ok {
		return hp
	}
	return ""
}

// reachable replaces a wildcard or empty host in host:port with ip.
func reachable(hostport, ip string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = ip
	}
	return net.JoinHostPort(host, port)
}

// Host is the namespace broker id runs in.
func (c *NetCluster) Host(id int32) *Host {
	return c.Net.Hosts[id-1]
}
