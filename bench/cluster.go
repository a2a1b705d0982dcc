package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Cluster is a Kafka cluster of child processes: either one Weir broker
// process per node, all voters of the raft metadata quorum on their Kafka
// ports, or one kfake process serving every node. The Cluster owns the
// processes; Stop ends them.
type Cluster struct {
	Name    string    // "weir" or "kfake"
	Members []*Server // weir: Members[i] is node i+1; kfake: the one process
	addrs   []string  // every node's Kafka listener
}

// Bootstrap is every node's Kafka listener.
func (c *Cluster) Bootstrap() []string { return c.addrs }

// Stop ends every process, cleanly if it will. Every broker is asked at
// once, so that none is left without a quorum to shut down against.
func (c *Cluster) Stop() {
	for _, m := range c.Members {
		_ = m.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, m := range c.Members {
		m.Stop()
	}
}

// serversCPU is the CPU time (user and system) all of c's processes have
// used so far.
func (c *Cluster) serversCPU() (time.Duration, error) {
	var sum time.Duration
	for _, m := range c.Members {
		d, err := processCPU(m.Pid())
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

// Member returns the process serving node id (1-based).
func (c *Cluster) Member(id int32) (*Server, error) {
	if c.Name != "weir" || id < 1 || int(id) > len(c.Members) {
		return nil, fmt.Errorf("%s cluster has no separate process for node %d", c.Name, id)
	}
	return c.Members[id-1], nil
}

// Kill ends node id's process with SIGKILL and returns when it was sent.
func (c *Cluster) Kill(id int32) (time.Time, error) {
	m, err := c.Member(id)
	if err != nil {
		return time.Time{}, err
	}
	return m.Kill()
}

// Restart starts node id again with the same config, ports and data, and
// waits until it is ready.
func (c *Cluster) Restart(ctx context.Context, id int32, timeout time.Duration) error {
	m, err := c.Member(id)
	if err != nil {
		return err
	}
	fresh, err := spawnServer(m.Name, m.Addr, m.AdminAddr, m.LogPath, m.argv)
	if err != nil {
		return err
	}
	c.Members[id-1] = fresh
	return fresh.WaitReady(ctx, timeout)
}

// Memory reads every process's resident memory, in Members order.
func (c *Cluster) Memory() ([]Memory, error) {
	out := make([]Memory, len(c.Members))
	for i, m := range c.Members {
		var err error
		if out[i], err = ReadMemory(m.Pid()); err != nil {
			return out, err
		}
	}
	return out, nil
}

// LogPaths lists each process's log, in Members order.
func (c *Cluster) LogPaths() []string {
	paths := make([]string, len(c.Members))
	for i, m := range c.Members {
		paths[i] = m.LogPath
	}
	return paths
}

// startCluster launches an n-node cluster of the named kind under a fresh
// directory of WorkDir and waits until every node is ready.
func (o CompareOptions) startCluster(ctx context.Context, name, label string, n int) (*Cluster, error) {
	dir, err := os.MkdirTemp(o.WorkDir, label+"-")
	if err != nil {
		return nil, fmt.Errorf("creating a directory for %s: %w", label, err)
	}
	switch name {
	case "weir":
		return o.startWeirCluster(ctx, dir, label, n)
	case "kfake":
		return o.startKfakeCluster(ctx, dir, label, n)
	}
	return nil, fmt.Errorf("unknown system %q (want weir or kfake)", name)
}

// weirNode is one broker of a Weir cluster before it starts.
type weirNode struct {
	dir         string
	port, admin int
}

// startWeirCluster writes one server.properties per broker, starts them
// all together (the quorum needs a majority before any is ready), then
// waits for each.
func (o CompareOptions) startWeirCluster(ctx context.Context, dir, label string, n int) (*Cluster, error) {
	nodes, err := weirNodes(dir, n)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Name: "weir"}
	var voters []string
	for i, nd := range nodes {
		c.addrs = append(c.addrs, "127.0.0.1:"+strconv.Itoa(nd.port))
		if i < 3 {
			voters = append(voters, fmt.Sprintf("%d@127.0.0.1:%d", i+1, nd.port))
		}
	}
	clusterID := newClusterID()
	for i, nd := range nodes {
		argv, err := o.writeClusterConfig(nd, i+1, strings.Join(voters, ","), clusterID, min(3, n))
		if err != nil {
			c.Stop()
			return nil, err
		}
		logPath := filepath.Join(nd.dir, "server.log")
		fmt.Fprintf(o.Progress, "%s: starting broker %d on %s (log %s)\n", label, i+1, c.addrs[i], logPath)
		srv, err := spawnServer(fmt.Sprintf("%s broker %d", label, i+1), c.addrs[i], "127.0.0.1:"+strconv.Itoa(nd.admin), logPath, argv)
		if err != nil {
			c.Stop()
			return nil, err
		}
		c.Members = append(c.Members, srv)
	}
	for _, m := range c.Members {
		if err := m.WaitReady(ctx, o.startTimeout()); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// weirNodes makes each broker's directory and picks its two ports.
func weirNodes(dir string, n int) ([]weirNode, error) {
	nodes := make([]weirNode, n)
	for i := range nodes {
		nd := &nodes[i]
		nd.dir = filepath.Join(dir, "broker-"+strconv.Itoa(i+1))
		if err := os.MkdirAll(nd.dir, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", nd.dir, err)
		}
		var err error
		if nd.port, err = FreePort(); err != nil {
			return nil, err
		}
		if nd.admin, err = FreePort(); err != nil {
			return nil, err
		}
	}
	return nodes, nil
}

// writeClusterConfig writes broker id's server.properties and returns the
// command line that runs it.
func (o CompareOptions) writeClusterConfig(nd weirNode, id int, voters, clusterID string, rf int) ([]string, error) {
	props := []string{
		"node.id=" + strconv.Itoa(id),
		fmt.Sprintf("listeners=PLAINTEXT://127.0.0.1:%d", nd.port),
		fmt.Sprintf("weir.admin.listener=127.0.0.1:%d", nd.admin),
		"log.dirs=" + filepath.Join(nd.dir, "data"),
		"controller.quorum.voters=" + voters,
		"weir.cluster.id=" + clusterID,
		"num.partitions=" + strconv.Itoa(int(max(o.Client.Partitions, 1))),
		"default.replication.factor=" + strconv.Itoa(rf),
		"min.insync.replicas=" + strconv.Itoa(min(2, rf)),
		"offsets.topic.replication.factor=" + strconv.Itoa(rf),
	}
	path := filepath.Join(nd.dir, "server.properties")
	if err := os.WriteFile(path, []byte(strings.Join(props, "\n")+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("writing broker config: %w", err)
	}
	return []string{o.WeirBinary, "broker", "--config", path}, nil
}

// newClusterID returns a random 22-character base64url cluster id.
func newClusterID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// startKfakeCluster runs `weir bench kfake-server --brokers n` on n
// consecutive free ports.
func (o CompareOptions) startKfakeCluster(ctx context.Context, dir, label string, n int) (*Cluster, error) {
	port, err := freePortRun(n)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Name: "kfake"}
	for i := range n {
		c.addrs = append(c.addrs, "127.0.0.1:"+strconv.Itoa(port+i))
	}
	logPath := filepath.Join(dir, "server.log")
	fmt.Fprintf(o.Progress, "%s: starting %d kfake brokers on %s (log %s)\n", label, n, strings.Join(c.addrs, ","), logPath)
	argv := []string{o.Binary, "bench", "kfake-server", "--port", strconv.Itoa(port), "--brokers", strconv.Itoa(n)}
	srv, err := StartServer(ctx, label, c.addrs[0], logPath, argv, o.startTimeout())
	if err != nil {
		return nil, err
	}
	c.Members = []*Server{srv}
	return c, nil
}

// freePortRun finds n consecutive free ports on 127.0.0.1 and returns the
// first.
func freePortRun(n int) (int, error) {
	for range 50 {
		first, err := FreePort()
		if err != nil {
			return 0, err
		}
		if portsFree(first, n) {
			return first, nil
		}
	}
	return 0, errors.New("finding consecutive free ports: none after 50 tries")
}

func portsFree(first, n int) bool {
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for p := first; p < first+n; p++ {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		held = append(held, l)
	}
	return true
}

// startTimeout bounds each startup: Timeout, or a minute.
func (o CompareOptions) startTimeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return time.Minute
}
