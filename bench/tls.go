package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/weirhq/weir/internal/pki"
)

// TLSOptions describe `weir bench tls`: one Weir cluster whose brokers
// listen on PLAINTEXT (inter-broker), SSL and SASL_SSL (SCRAM-SHA-512)
// at once, and the same produce and consume run against each listener,
// so the cost of TLS and of SASL is read off one table. The listeners
// take turns for Rounds rounds and the table shows each one's medians: on
// a shared machine one run apiece is mostly noise.
type TLSOptions struct {
	WeirBinary string
	Brokers    int     // brokers in the cluster (0: 3)
	Rounds     int     // times every listener runs (0: 3)
	Client     Options // produce settings; Brokers, Topic and Security are set per listener
	WorkDir    string  // data, logs and certificates (kept)
	Timeout    time.Duration
	Progress   io.Writer
}

// TLSRun is one listener's produce and consume.
type TLSRun struct {
	Listener string        `json:"listener"`
	Round    int           `json:"round"`
	Produce  Result        `json:"produce"`
	Consume  ConsumeResult `json:"consume"`
}

// tlsListeners are measured in this order; PLAINTEXT is the baseline.
var tlsListeners = []string{"PLAINTEXT", "SSL", "SASL_SSL"}

const tlsBenchUser, tlsBenchPassword = "bench", "bench-password"

// RunTLS starts the cluster, runs the workload on every listener and
// stops the cluster.
func RunTLS(ctx context.Context, o TLSOptions) ([]TLSRun, error) {
	if o.Brokers <= 0 {
		o.Brokers = 3
	}
	if o.Rounds <= 0 {
		o.Rounds = 3
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if err := os.MkdirAll(o.WorkDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", o.WorkDir, err)
	}
	dir, err := os.MkdirTemp(o.WorkDir, "tls-")
	if err != nil {
		return nil, fmt.Errorf("creating the tls bench directory: %w", err)
	}
	ca, err := tlsBenchCerts(dir)
	if err != nil {
		return nil, err
	}
	c, addrs, err := o.startTLSCluster(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer c.Stop()
	if err := addSCRAMUser(ctx, addrs["PLAINTEXT"]); err != nil {
		return nil, err
	}
	var runs []TLSRun
	for round := range o.Rounds {
		for _, l := range tlsListeners {
			fmt.Fprintf(o.Progress, "tls bench: round %d, %s on %s\n", round+1, l, strings.Join(addrs[l], ","))
			run, err := o.runListener(ctx, l, round, addrs, tlsClientOpts(l, ca))
			if err != nil {
				return runs, fmt.Errorf("%s: %w", l, err)
			}
			runs = append(runs, run)
		}
	}
	return runs, nil
}

// tlsBenchCerts writes a CA and the brokers' shared certificate into dir.
func tlsBenchCerts(dir string) (*pki.CA, error) {
	ca, err := pki.NewCA("weir bench CA", 0)
	if err != nil {
		return nil, fmt.Errorf("making the bench CA: %w", err)
	}
	if err := ca.WriteCA(dir); err != nil {
		return nil, fmt.Errorf("writing the bench CA: %w", err)
	}
	bp, err := ca.Broker("weir-bench-broker")
	if err == nil {
		err = bp.Write(dir, "broker")
	}
	if err != nil {
		return nil, fmt.Errorf("writing the broker certificate: %w", err)
	}
	return ca, nil
}

// tlsClientOpts are the client options for listener l.
func tlsClientOpts(l string, ca *pki.CA) []kgo.Opt {
	if l == "PLAINTEXT" {
		return nil
	}
	opts := []kgo.Opt{kgo.DialTLSConfig(&tls.Config{RootCAs: ca.Pool()})}
	if l == "SASL_SSL" {
		opts = append(opts, kgo.SASL(scram.Auth{User: tlsBenchUser, Pass: tlsBenchPassword}.AsSha512Mechanism()))
	}
	return opts
}

// addSCRAMUser makes the SASL_SSL user over PLAINTEXT (no authorizer).
func addSCRAMUser(ctx context.Context, brokers []string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return fmt.Errorf("creating admin client: %w", err)
	}
	defer cl.Close()
	res, err := kadm.NewClient(cl).AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{
		User: tlsBenchUser, Mechanism: kadm.ScramSha512, Iterations: 4096, Password: tlsBenchPassword}})
	if err == nil {
		err = res.Error()
	}
	if err != nil {
		return fmt.Errorf("creating SCRAM user %s: %w", tlsBenchUser, err)
	}
	return nil
}

// runListener produces the workload to a fresh topic through listener l
// and drains it back.
func (o TLSOptions) runListener(ctx context.Context, l string, round int, addrs map[string][]string, sec []kgo.Opt) (TLSRun, error) {
	topic := fmt.Sprintf("bench-tls-%s-%d", strings.ToLower(l), round)
	if err := EnsureTopic(ctx, addrs["PLAINTEXT"], topic, o.Client.Partitions, o.Client.ReplicationFactor); err != nil {
		return TLSRun{}, err
	}
	po := o.Client
	po.Brokers, po.Topic, po.Security = addrs[l], topic, sec
	pctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	res, err := Produce(pctx, po)
	if err != nil {
		return TLSRun{}, fmt.Errorf("produce: %w", err)
	}
	cres, err := Consume(pctx, ConsumeOptions{Brokers: addrs[l], Topic: topic, Security: sec})
	if err != nil {
		return TLSRun{}, fmt.Errorf("consume: %w", err)
	}
	return TLSRun{Listener: l, Round: round, Produce: res, Consume: cres}, nil
}

// startTLSCluster starts o.Brokers brokers listening on every one of
// tlsListeners and returns each listener's addresses.
func (o TLSOptions) startTLSCluster(ctx context.Context, dir string) (*Cluster, map[string][]string, error) {
	nodes, err := weirNodes(dir, o.Brokers)
	if err != nil {
		return nil, nil, err
	}
	addrs := map[string][]string{}
	ports := make([]map[string]int, len(nodes))
	var voters []string
	for i, nd := range nodes {
		ports[i] = map[string]int{"PLAINTEXT": nd.port}
		for _, l := range tlsListeners[1:] {
			if ports[i][l], err = FreePort(); err != nil {
				return nil, nil, err
			}
		}
		for _, l := range tlsListeners {
			addrs[l] = append(addrs[l], "127.0.0.1:"+strconv.Itoa(ports[i][l]))
		}
		if i < 3 {
			voters = append(voters, fmt.Sprintf("%d@127.0.0.1:%d", i+1, nd.port))
		}
	}
	cc := CompareOptions{WeirBinary: o.WeirBinary, Client: o.Client, Progress: o.Progress, Timeout: o.Timeout}
	c := &Cluster{Name: "weir", addrs: addrs["PLAINTEXT"]}
	clusterID := newClusterID()
	for i, nd := range nodes {
		argv, err := cc.writeClusterConfig(nd, i+1, strings.Join(voters, ","), clusterID, min(3, len(nodes)))
		if err == nil {
			err = appendTLSProps(nd, dir, ports[i])
		}
		if err != nil {
			c.Stop()
			return nil, nil, err
		}
		logPath := filepath.Join(nd.dir, "server.log")
		srv, err := spawnServer(fmt.Sprintf("tls broker %d", i+1), c.addrs[i], "127.0.0.1:"+strconv.Itoa(nd.admin), logPath, argv)
		if err != nil {
			c.Stop()
			return nil, nil, err
		}
		c.Members = append(c.Members, srv)
	}
	for _, m := range c.Members {
		if err := m.WaitReady(ctx, cc.startTimeout()); err != nil {
			c.Stop()
			return nil, nil, err
		}
	}
	return c, addrs, nil
}

// appendTLSProps adds the SSL and SASL_SSL listeners to the
// server.properties writeClusterConfig wrote (a later listeners= wins).
func appendTLSProps(nd weirNode, dir string, ports map[string]int) error {
	var ls []string
	for _, l := range tlsListeners {
		ls = append(ls, fmt.Sprintf("%s://127.0.0.1:%d", l, ports[l]))
	}
	props := []string{
		"listeners=" + strings.Join(ls, ","),
		"inter.broker.listener.name=PLAINTEXT",
		"ssl.keystore.location=" + filepath.Join(dir, "broker.keystore.pem"),
		"ssl.truststore.location=" + filepath.Join(dir, "ca.pem"),
		"sasl.enabled.mechanisms=SCRAM-SHA-512",
	}
	f, err := os.OpenFile(filepath.Join(nd.dir, "server.properties"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("adding TLS listeners: %w", err)
	}
	_, err = f.WriteString(strings.Join(props, "\n") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("adding TLS listeners: %w", err)
	}
	return nil
}

// WriteTLSTable prints the listeners side by side: the median over the
// rounds of each column, throughput relative to PLAINTEXT (1.00x).
func WriteTLSTable(w io.Writer, runs []TLSRun) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "listener\trounds\tproduce MB/s\tvs PLAINTEXT\tproduce p99\tconsume MB/s\tvs PLAINTEXT")
	type row struct {
		n               int
		prod, p99, cons float64
	}
	rows := map[string]row{}
	for _, l := range tlsListeners {
		var prod, p99, cons []float64
		for _, r := range runs {
			if r.Listener == l {
				prod = append(prod, r.Produce.MBPerSec)
				p99 = append(p99, float64(r.Produce.Latency.P99))
				cons = append(cons, r.Consume.MBPerSec)
			}
		}
		rows[l] = row{len(prod), median(prod), median(p99), median(cons)}
	}
	base := rows["PLAINTEXT"]
	for _, l := range tlsListeners {
		r := rows[l]
		if r.n == 0 {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%s\t%s\t%.2f\t%s\n", l, r.n, r.prod, ratio(r.prod, base.prod),
			fmtLatency(time.Duration(r.p99)), r.cons, ratio(r.cons, base.cons))
	}
	return tw.Flush()
}

// median is the middle of xs (the lower middle of an even count).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}
