package brokertest

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Cluster is a set of real `weir broker` processes forming one cluster:
// the first min(3, n) are the metadata quorum's voters (combined mode).
type Cluster struct {
	Brokers []*Broker
	// Secure is the security a StartSecureCluster cluster was started
	// with; nil on a PLAINTEXT cluster.
	Secure *Security
}

// StartCluster starts n brokers as one cluster and waits until every one
// is ready (registered, unfenced, serving). The defaults suit
// replication tests: default.replication.factor=min(3,n),
// min.insync.replicas=min(2,n), offsets.topic.replication.factor=min(3,n);
// opts.Props override them for every broker. Each broker is stopped by
// t.Cleanup.
func StartCluster(t testing.TB, n int, opts Options) *Cluster {
	t.Helper()
	bin := Binary(t)
	c := &Cluster{}
	for i := 1; i <= n; i++ {
		root := t.TempDir()
		c.add(t, &Broker{
			DataDir: filepath.Join(root, "data"), ConfigPath: filepath.Join(root, "server.properties"),
			t: t, binary: bin, env: opts.Env, logs: &logBuffer{},
			Addr: freeAddr(t), AdminAddr: freeAddr(t),
		})
	}
	c.configure(t, opts)
	c.start(t)
	return c
}

// add appends b to the cluster and stops it in t.Cleanup, logging its
// output if the test failed.
func (c *Cluster) add(t testing.TB, b *Broker) {
	c.Brokers = append(c.Brokers, b)
	t.Cleanup(func() {
		b.shutdown()
		if t.Failed() {
			t.Logf("weir broker %d output (%s):\n%s", b.NodeID, b.Addr, b.logs.String())
		}
	})
}

// configure writes every broker's server.properties: node ids 1..n, the
// first min(3, n) brokers' Kafka listeners as the quorum voters, one
// cluster id, the replication defaults StartCluster documents and
// opts.Props over them.
func (c *Cluster) configure(t testing.TB, opts Options) {
	t.Helper()
	n := len(c.Brokers)
	var idb [16]byte
	rand.Read(idb[:])
	clusterID := base64.RawURLEncoding.EncodeToString(idb[:])
	var voters []string
	for i, b := range c.Brokers[:min(3, n)] {
		voters = append(voters, fmt.Sprintf("%d@%s", i+1, b.Addr))
	}
	for i, b := range c.Brokers {
		props := map[string]string{
			"node.id":                          strconv.Itoa(i + 1),
			"controller.quorum.voters":         strings.Join(voters, ","),
			"weir.cluster.id":                  clusterID,
			"broker.rack":                      fmt.Sprintf("rack-%d", i%3),
			"default.replication.factor":       strconv.Itoa(min(3, n)),
			"min.insync.replicas":              strconv.Itoa(min(2, n)),
			"offsets.topic.replication.factor": strconv.Itoa(min(3, n)),
			"group.initial.rebalance.delay.ms": "0",
		}
		if c.Secure != nil {
			for k, v := range c.Secure.props(b) {
				props[k] = v
			}
		}
		for k, v := range opts.Props {
			props[k] = v
		}
		b.writeConfig(t, props, !opts.DefaultQuorumTimers)
	}
}

// start spawns every broker, then waits until each is ready.
func (c *Cluster) start(t testing.TB) {
	t.Helper()
	procs := make([]*process, len(c.Brokers))
	for i, b := range c.Brokers {
		p, err := b.spawn()
		if err != nil {
			t.Fatalf("brokertest: start broker %d: %v", i+1, err)
		}
		procs[i] = p
	}
	for i, b := range c.Brokers {
		if err := b.awaitReady(procs[i], ReadyTimeout); err != nil {
			t.Fatalf("brokertest: broker %d not ready: %v", i+1, err)
		}
	}
}

// Restart starts every stopped broker of c again, all at once (each
// needs the others' quorum votes before it is ready), and waits up to
// timeout for each to be ready: longer than ReadyTimeout for brokers
// with thousands of partitions to open.
func (c *Cluster) Restart(t testing.TB, timeout time.Duration) {
	t.Helper()
	procs := make([]*process, len(c.Brokers))
	for i, b := range c.Brokers {
		if b.Running() {
			continue
		}
		p, err := b.spawn()
		if err != nil {
			t.Fatalf("brokertest: restart broker %d: %v", b.NodeID, err)
		}
		procs[i] = p
	}
	for i, b := range c.Brokers {
		if procs[i] == nil {
			continue
		}
		if err := b.awaitReady(procs[i], timeout); err != nil {
			t.Fatalf("brokertest: broker %d not ready after a restart: %v", b.NodeID, err)
		}
	}
}

// Bootstrap is every broker's client address: the Kafka listener, or
// on a secure cluster the SASL_SSL one.
func (c *Cluster) Bootstrap() []string {
	var out []string
	for _, b := range c.Brokers {
		out = append(out, b.ClientAddr())
	}
	return out
}

// Client returns a franz-go client seeded with every broker, closed by
// t.Cleanup. On a secure cluster it connects over SASL_SSL as the admin
// SCRAM user (Security.ClientOpts); opts come after (a kgo.SASL there
// adds a mechanism, it does not replace the admin's).
func (c *Cluster) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	all := []kgo.Opt{kgo.SeedBrokers(c.Bootstrap()...)}
	if c.Secure != nil {
		all = append(all, c.Secure.ClientOpts(t)...)
	}
	cl, err := kgo.NewClient(append(all, opts...)...)
	if err != nil {
		t.Fatalf("brokertest: client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// Broker returns the broker with node id id.
func (c *Cluster) Broker(id int32) *Broker {
	for _, b := range c.Brokers {
		if b.NodeID == id {
			return b
		}
	}
	return nil
}

// Pause stops the broker process with SIGSTOP (it stays alive but does
// nothing: no fetches, no heartbeats), Resume continues it with SIGCONT.
func (b *Broker) Pause() { b.signal(syscall.SIGSTOP) }

// Resume continues a paused broker.
func (b *Broker) Resume() { b.signal(syscall.SIGCONT) }

func (b *Broker) signal(sig syscall.Signal) {
	b.mu.Lock()
	p := b.proc
	b.mu.Unlock()
	if p == nil {
		b.t.Fatalf("brokertest: signal %v to a stopped broker", sig)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		b.t.Fatalf("brokertest: signal %v: %v", sig, err)
	}
}
