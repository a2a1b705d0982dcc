package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/cluster"
	"github.com/weirhq/weir/dashboards/grafana"
	"github.com/weirhq/weir/dashboards/prometheus"
	"github.com/weirhq/weir/internal/await"
)

// The live cluster's names: what the dashboards' variables are filled with.
const (
	liveCluster = "e2e"
	liveTopic   = "dash-orders"
	liveGroup   = "dash-readers"
)

// noSeriesHere lists, in one place, the queries (variables filled in) that
// legitimately return no series on the live tests' clusters, each with why.
// Every other dashboard query and recording rule must return at least one
// series. None today: the collector's execution, anomaly and per-goal series
// exist from its start, and the agents run at PER_TOPIC_PER_PARTITION; the
// autoscaler's queries run on TestUpRunsMonitoring's cluster, whose policy
// sets every target and drives storage to its maximum.
var noSeriesHere = map[string]string{}

// liveMonitoring is the shared cluster of TestDashboardsLive: three brokers,
// an agent beside each, the collector, traffic and a consumer group, and a
// real Prometheus (rules loaded) sending to a real Alertmanager whose webhook
// is hook.
type liveMonitoring struct {
	c      *brokertest.Cluster
	agents []*agentProc
	prom   *promServer
	hook   *webhookReceiver
	burst  time.Time // when 12,000 records went past the stopped group
	// collector is the collector's process; deadAgent the address of an
	// agent target nothing listens on (an agent that is down).
	collector *exec.Cmd
	deadAgent string
}

// TestDashboardsLive proves the dashboards and rules on a live cluster:
// every query of every Grafana dashboard (variables filled in), every
// template variable and every recording rule runs on Prometheus's HTTP API
// and returns series; every alert expression parses; then a broker is killed
// with SIGKILL and the broker-down and under-replicated alerts reach a
// webhook through Alertmanager and resolve once it is back; a consumer group
// that stopped before a burst of records raises the lag alert.
//
// The rules are the shipped ones with every `for` cut to 2s, so the test
// takes seconds; the durations themselves are pinned by the promtool tests
// in dashboards/prometheus.
func TestDashboardsLive(t *testing.T) {
	t.Parallel()
	m := startLiveMonitoring(t)
	t.Run("queries", func(t *testing.T) {
		// 2 minutes, as TestUpRunsMonitoring allows: each pass asks
		// Prometheus 230 queries one after the other, and beside another
		// e2e test at load 40 this took 50 s of the 60 it had (14 s alone).
		checkLiveQueries(t, m.prom, liveQueries(t, liveCluster, false), 2*time.Minute)
	})
	t.Run("alerts", func(t *testing.T) { checkLiveAlerts(t, m) })
}

func startLiveMonitoring(t *testing.T) *liveMonitoring {
	t.Helper()
	promBin := lookProm(t)
	amBin := lookAlertmanager(t)
	m := &liveMonitoring{}
	// A follower that stops fetching leaves the ISR after 3 s, not 30 s.
	m.c = brokertest.StartCluster(t, 3, brokertest.Options{Props: map[string]string{"replica.lag.time.max.ms": "3000"}})
	adm := clusterAdmin(t, m.c)
	ctx := testContext(t, 3*time.Minute)
	if _, err := adm.CreateTopic(ctx, 3, 3, nil, liveTopic); err != nil {
		t.Fatalf("create %s: %v", liveTopic, err)
	}
	seed := m.c.Brokers[0].Addr
	// Ten records on each partition, all read and committed by the group,
	// which then stops: it lags on every partition from now on.
	produceBurst(t, m.c, liveTopic, 30)
	consumeAndCommit(t, ctx, seed, liveTopic, liveGroup, 30)
	m.burst = time.Now()
	produceBurst(t, m.c, liveTopic, 12000)
	startTraffic(t, m.c, liveTopic)

	for _, b := range m.c.Brokers {
		m.agents = append(m.agents, startAgent(t, "cluster_name: %s\nbroker_id: %d\nbrokers: [%s]\nbroker_admin_url: %s\nlog_dirs: [%s]\nsamples: {}\n",
			liveCluster, b.NodeID, strings.Join(m.c.Bootstrap(), ", "), b.AdminAddr, b.DataDir))
	}
	collector := startLiveCollector(t, m)
	m.hook = startWebhookReceiver(t)
	am := startAlertmanager(t, amBin, m.hook.url)

	dir := t.TempDir()
	rules, err := cluster.WriteRules(filepath.Join(dir, "rules"), shortenFor)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := cluster.PrometheusConfig(cluster.PrometheusOptions{
		ScrapeInterval: time.Second, EvaluationInterval: time.Second,
		RuleFiles: rules, Alertmanagers: []string{am}, Targets: liveTargets(t, m, collector),
	})
	if err != nil {
		t.Fatal(err)
	}
	m.prom = startPromConfig(t, promBin, dir, cfg)
	return m
}

// startLiveCollector runs `weir collector` on the cluster with windows of
// 2 s, so its model and first proposal come within seconds, and returns its
// host:port; m.collector is its process.
func startLiveCollector(t *testing.T, m *liveMonitoring) string {
	t.Helper()
	addr := freePort(t)
	m.collector = exec.Command(brokertest.Binary(t), "collector",
		"--brokers", strings.Join(m.c.Bootstrap(), ","), "--listen", addr, "--data-dir", t.TempDir(),
		"--set", "partition.metrics.window.ms=2000", "--set", "broker.metrics.window.ms=2000",
		"--set", "num.partition.metrics.windows=5", "--set", "num.broker.metrics.windows=5",
		"--set", "metadata.max.age.ms=1000", "--set", "proposal.expiration.ms=2000")
	startServer(t, "weir collector", addr, "/healthz", m.collector)
	return addr
}

// shortenFor cuts every alert's for to 2s.
func shortenFor(rules string) string {
	return regexp.MustCompile(`(?m)^(\s+for:) \S+$`).ReplaceAllString(rules, "$1 2s")
}

func liveTargets(t *testing.T, m *liveMonitoring, collector string) []cluster.ScrapeTarget {
	var out []cluster.ScrapeTarget
	for i, b := range m.c.Brokers {
		l := map[string]string{"cluster": liveCluster, "broker": strconv.Itoa(int(b.NodeID))}
		out = append(out,
			cluster.ScrapeTarget{Job: cluster.JobAgent, Addr: m.agents[i].broker, Labels: l},
			cluster.ScrapeTarget{Job: cluster.JobNode, Addr: m.agents[i].node, Labels: l},
			cluster.ScrapeTarget{Job: cluster.JobBroker, Addr: b.AdminAddr, Labels: l})
	}
	// A fourth agent that is down from the start: WeirAgentDown's case.
	m.deadAgent = freePort(t)
	out = append(out, cluster.ScrapeTarget{Job: cluster.JobAgent, Addr: m.deadAgent,
		Labels: map[string]string{"cluster": liveCluster, "broker": "9"}})
	return append(out, cluster.ScrapeTarget{Job: cluster.JobCollector, Addr: collector,
		Labels: map[string]string{"cluster": liveCluster}})
}

// startTraffic produces to topic from a goroutine until the test ends, about
// 100 records a second, so every rate has something to measure.
func startTraffic(t *testing.T, c *brokertest.Cluster, topic string) {
	cl := c.Client(t, kgo.DefaultProduceTopic(topic))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { // owned by the cleanup below
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ctx.Err() == nil; i++ {
			cl.Produce(ctx, &kgo.Record{Value: []byte("traffic-" + strconv.Itoa(i))}, nil)
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// liveQuery is one query the harness runs, and where it comes from.
type liveQuery struct {
	from, expr string
	valid      bool // only has to parse (alert expressions: healthy means empty)
	// autoscaler: it reads the autoscaler's series (or is on its
	// dashboard), which only TestUpRunsMonitoring's cluster has.
	autoscaler bool
}

// liveQueries are dashboardQueries for the named cluster, those of the
// autoscaler or all the others.
func liveQueries(t *testing.T, clusterName string, autoscaler bool) []liveQuery {
	var out []liveQuery
	for _, q := range dashboardQueries(t, clusterName) {
		if q.autoscaler == autoscaler {
			out = append(out, q)
		}
	}
	return out
}

// readsAutoscaler says whether an expression reads the autoscaler's series.
func readsAutoscaler(expr string) bool {
	return strings.Contains(expr, "weir_autoscaler_") || strings.Contains(expr, `"`+cluster.JobAutoscaler+`"`)
}

// dashboardQueries returns every query of the dashboards with the variables
// filled in (for the named cluster), every template variable's label_values as a
// query, every recording rule's expression and recorded series, and every
// alert's expression.
func dashboardQueries(t *testing.T, clusterName string) []liveQuery {
	var out []liveQuery
	labelValues := regexp.MustCompile(`^label_values\((.*), (\w+)\)$`)
	for _, d := range grafana.All() {
		for _, v := range d.Templating.List {
			q, ok := v.Query.(grafana.VariableQuery)
			if !ok {
				continue
			}
			mm := labelValues.FindStringSubmatch(q.Query)
			if mm == nil {
				t.Fatalf("%s: variable %s: not label_values(expr, label): %s", d.UID, v.Name, q.Query)
			}
			expr := fmt.Sprintf(`count by (%s) (%s)`, mm[2], withLabel(mm[1], mm[2]))
			out = append(out, liveQuery{from: d.UID + " variable " + v.Name, expr: fillVariables(expr, clusterName),
				autoscaler: onAutoscaler(d, expr)})
		}
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				out = append(out, liveQuery{from: d.UID + ` "` + p.Title + `" ` + tg.RefID, expr: fillVariables(tg.Expr, clusterName),
					autoscaler: onAutoscaler(d, tg.Expr)})
			}
		}
	}
	rules, err := prometheus.LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		as := readsAutoscaler(r.Expr)
		switch {
		case r.Record != "":
			out = append(out, liveQuery{from: "recording rule " + r.Record, expr: r.Expr, autoscaler: as},
				liveQuery{from: "recorded " + r.Record, expr: r.Record, autoscaler: as})
		case r.Alert != "":
			out = append(out, liveQuery{from: "alert " + r.Alert, expr: r.Expr, valid: true, autoscaler: as})
			for _, name := range metricNames(r.Expr) {
				out = append(out, liveQuery{from: "alert " + r.Alert + " reads " + name, expr: "count(" + name + ")", autoscaler: as})
			}
		}
	}
	return out
}

// onAutoscaler says whether a dashboard query needs the autoscaler: every
// query of its dashboard, and any other that reads its series.
func onAutoscaler(d *grafana.Dashboard, expr string) bool {
	return d.UID == grafana.Autoscaler().UID || readsAutoscaler(expr)
}

// metricNames are the series names an expression reads: up, the kafka_,
// weir_ and node_ names and recorded names (with a colon). A healthy
// cluster raises no alert, so this is how an alert's names are proven to
// exist.
func metricNames(expr string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range regexp.MustCompile(`\b(up|(kafka|weir|node)_\w+|\w+:\w+:\w+)\b`).FindAllString(expr, -1) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// withLabel adds label!="" to a selector (`m` or `m{...}`): label_values
// lists only series that have the label.
func withLabel(sel, label string) string {
	if rest, ok := strings.CutSuffix(sel, "}"); ok {
		return rest + "," + label + `!=""}`
	}
	return sel + "{" + label + `!=""}`
}

func fillVariables(expr, clusterName string) string {
	return strings.NewReplacer(
		"$__rate_interval", "1m", "$cluster", clusterName, "$broker", "1",
		"$topic", liveTopic, "$consumergroup", liveGroup,
	).Replace(expr)
}

// checkLiveQueries runs every query until it returns series (the cluster
// needs a few seconds of scrapes, rule evaluations, agent collections and a
// first proposal or autoscaler decision), all within one deadline.
func checkLiveQueries(t *testing.T, prom *promServer, queries []liveQuery, within time.Duration) {
	deadline := time.Now().Add(within)
	pending := queries
	var failures []string
	for len(pending) > 0 {
		var next []liveQuery
		failures = failures[:0]
		for _, q := range pending {
			n, err := prom.series(q.expr)
			switch {
			case err != nil && strings.Contains(err.Error(), "bad_data"):
				t.Errorf("%s: invalid query %s: %v", q.from, q.expr, err)
			case err != nil:
				next = append(next, q)
				failures = append(failures, fmt.Sprintf("%s: %s: %v", q.from, q.expr, err))
			case n == 0 && !q.valid && noSeriesHere[q.expr] == "":
				next = append(next, q)
				failures = append(failures, fmt.Sprintf("%s: no series: %s", q.from, q.expr))
			}
		}
		pending = next
		if len(pending) > 0 && time.Now().After(deadline) {
			sort.Strings(failures)
			t.Fatalf("%d of %d queries still fail after %v:\n%s", len(pending), len(queries), within, strings.Join(failures, "\n"))
		}
		if len(pending) > 0 {
			time.Sleep(500 * time.Millisecond) // poll interval: scrapes and evaluations run every second
		}
	}
	t.Logf("%d queries checked live (%d of them alert expressions, only parsed: every name they read is checked apart), %d excused", len(queries), countValid(queries), len(noSeriesHere))
}

func countValid(qs []liveQuery) int {
	n := 0
	for _, q := range qs {
		if q.valid {
			n++
		}
	}
	return n
}

// checkLiveAlerts kills a follower broker with SIGKILL and waits for the
// broker-down and under-replicated alerts at the webhook, then restarts it
// and waits for both to resolve; the burst of records past the stopped group
// has raised the lag alert, the dead agent target the agent-down alert; last
// the collector is killed and the collector-down alert arrives.
func checkLiveAlerts(t *testing.T, m *liveMonitoring) {
	await.For(t, 60*time.Second, "a healthy cluster in Prometheus", func() error {
		return m.prom.expect(`sum(up{job="weir-broker"}) == 3 and sum(kafka_server_replicamanager_underreplicatedpartitions) == 0`)
	})
	victim := m.c.Brokers[len(m.c.Brokers)-1]
	if n, _ := m.prom.series(fmt.Sprintf(`kafka_controller_kafkacontroller_activecontrollercount{broker="%d"} == 1`, victim.NodeID)); n > 0 {
		victim = m.c.Brokers[len(m.c.Brokers)-2] // keep the controller: a follower is the common failure
	}
	broker := strconv.Itoa(int(victim.NodeID))
	killed := time.Now()
	victim.Kill()
	down := m.hook.await(t, killed, 90*time.Second, "firing", "KafkaBrokerDown", map[string]string{"broker": broker})
	urp := m.hook.await(t, killed, 90*time.Second, "firing", "KafkaUnderReplicatedPartitions", nil)
	t.Logf("kill -9 of broker %s to the webhook: KafkaBrokerDown %.1f s, KafkaUnderReplicatedPartitions %.1f s",
		broker, down.Sub(killed).Seconds(), urp.Sub(killed).Seconds())

	restarted := time.Now()
	victim.Restart(t)
	downOK := m.hook.await(t, restarted, 90*time.Second, "resolved", "KafkaBrokerDown", map[string]string{"broker": broker})
	urpOK := m.hook.await(t, restarted, 90*time.Second, "resolved", "KafkaUnderReplicatedPartitions", nil)
	t.Logf("restart of broker %s to resolved at the webhook: KafkaBrokerDown %.1f s, KafkaUnderReplicatedPartitions %.1f s",
		broker, downOK.Sub(restarted).Seconds(), urpOK.Sub(restarted).Seconds())

	// The group stopped after its first commit and 12,000 records followed
	// (startLiveMonitoring): its lag is over the alert's 10,000.
	if v, err := m.prom.query(`max(cluster_consumergroup_topic:kafka_consumergroup_lag:sum{consumergroup="` + liveGroup + `"})`); err != nil || v <= 10000 {
		t.Errorf("lag of %s: %v, %v", liveGroup, v, err)
	}
	lag := m.hook.await(t, m.burst, 60*time.Second, "firing", "KafkaConsumerGroupLagHigh", map[string]string{"consumergroup": liveGroup, "topic": liveTopic})
	t.Logf("burst of records past a stopped group to the webhook: KafkaConsumerGroupLagHigh %.1f s", lag.Sub(m.burst).Seconds())

	// The agent target nobody listens on, and the collector killed.
	m.hook.await(t, time.Time{}, 60*time.Second, "firing", "WeirAgentDown", map[string]string{"broker": "9", "instance": m.deadAgent})
	killedCollector := time.Now()
	if err := m.collector.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	coll := m.hook.await(t, killedCollector, 60*time.Second, "firing", "WeirCollectorDown", nil)
	t.Logf("kill -9 of the collector to the webhook: WeirCollectorDown %.1f s", coll.Sub(killedCollector).Seconds())
}

// produceBurst produces n records to topic, spread round robin over its
// partitions, and waits for them all.
func produceBurst(t *testing.T, c *brokertest.Cluster, topic string, n int) {
	t.Helper()
	cl := c.Client(t, kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(5*time.Millisecond),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	ctx := testContext(t, 60*time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := range n {
		wg.Add(1)
		cl.Produce(ctx, &kgo.Record{Value: []byte("burst-" + strconv.Itoa(i))}, func(_ *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				mu.Lock()
				firstErr = err
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		t.Fatalf("burst of %d records: %v", n, firstErr)
	}
}

// lookAlertmanager finds Debian's prometheus-alertmanager ($WEIR_ALERTMANAGER
// overrides), failing the test if it is missing.
func lookAlertmanager(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("WEIR_ALERTMANAGER"), "/usr/bin/prometheus-alertmanager"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return lookTool(t, "alertmanager")
}

// startAlertmanager runs Alertmanager (no HA cluster) with one webhook
// receiver, grouping for 1 s; it returns its host:port.
func startAlertmanager(t *testing.T, bin, webhook string) string {
	t.Helper()
	dir := t.TempDir()
	cfg, err := cluster.AlertmanagerConfig(cluster.AlertmanagerOptions{Webhooks: []string{webhook},
		GroupWait: time.Second, GroupInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(path, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	startServer(t, "alertmanager", addr, "/-/ready", exec.Command(bin, "--config.file="+path,
		"--storage.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr,
		"--cluster.listen-address=", "--log.level=warn"))
	return addr
}

// startPromConfig runs Prometheus on cfg (written to dir).
func startPromConfig(t *testing.T, bin, dir string, cfg []byte) *promServer {
	t.Helper()
	path := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(path, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	p := &promServer{addr: freePort(t)}
	startServer(t, "prometheus", p.addr, "/-/ready", exec.Command(bin, "--config.file="+path,
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+p.addr,
		"--rules.alert.resend-delay=1s", "--log.level=warn"))
	return p
}

// startServer starts cmd, stops it with SIGTERM at cleanup and waits until
// http://addr<ready> answers.
func startServer(t *testing.T, name, addr, ready string, cmd *exec.Cmd) {
	t.Helper()
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { // owned by the cleanup below, which waits on exited
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, logs.String())
		}
	})
	await.For(t, 30*time.Second, name+" to be ready", func() error {
		select {
		case <-exited:
			t.Fatalf("%s exited:\n%s", name, logs.String())
		default:
		}
		_, err := agentHTTPGet("http://" + addr + ready)
		return err
	})
}

// series runs an instant query and returns how many series it gave. An
// invalid query's error contains "bad_data".
func (p *promServer) series(q string) (int, error) {
	body, err := agentHTTPGet("http://" + p.addr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, err
	}
	var resp struct {
		Status    string
		ErrorType string
		Error     string
		Data      struct{ Result []json.RawMessage }
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		return 0, fmt.Errorf("decode %s: %w", body, err)
	}
	if resp.Status != "success" {
		return 0, fmt.Errorf("%s: %s", resp.ErrorType, resp.Error)
	}
	return len(resp.Data.Result), nil
}

// expect returns nil once q returns a series.
func (p *promServer) expect(q string) error {
	n, err := p.series(q)
	if err == nil && n == 0 {
		err = fmt.Errorf("no series for %s", q)
	}
	return err
}

// webhookReceiver is Alertmanager's webhook receiver: it records when each
// alert first arrived firing and resolved.
type webhookReceiver struct {
	url  string
	mu   sync.Mutex
	seen []receivedAlert
}

type receivedAlert struct {
	status string
	labels map[string]string
	at     time.Time
}

func startWebhookReceiver(t *testing.T) *webhookReceiver {
	w := &webhookReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var msg struct {
			Alerts []struct {
				Status string
				Labels map[string]string
			}
		}
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		now := time.Now()
		w.mu.Lock()
		for _, a := range msg.Alerts {
			w.seen = append(w.seen, receivedAlert{status: a.Status, labels: a.Labels, at: now})
		}
		w.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL + "/alerts"
	return w
}

// await returns when an alert named name with the labels arrived with
// status (firing or resolved) at or after since, waiting up to timeout.
func (w *webhookReceiver) await(t *testing.T, since time.Time, timeout time.Duration, status, name string, labels map[string]string) time.Time {
	t.Helper()
	var at time.Time
	await.For(t, timeout, fmt.Sprintf("%s %s %v at the webhook", name, status, labels), func() error {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, a := range w.seen {
			if a.status != status || a.labels["alertname"] != name || a.at.Before(since) {
				continue
			}
			match := true
			for k, v := range labels {
				match = match && a.labels[k] == v
			}
			if match {
				at = a.at
				return nil
			}
		}
		names := map[string]bool{}
		for _, a := range w.seen {
			names[a.labels["alertname"]+" "+a.status] = true
		}
		return fmt.Errorf("%d notifications so far, of %v", len(w.seen), names)
	})
	return at
}
