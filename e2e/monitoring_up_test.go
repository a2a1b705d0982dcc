package e2e

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/cluster"
	"github.com/weirhq/weir/dashboards/prometheus"
	"github.com/weirhq/weir/internal/await"
)

// monitoredPolicy is TestUpRunsMonitoring's autoscaler policy for one
// broker of 16 MiB: 10 % is crossed by the records the test produces, one
// grow reaches max_size and leaves storage held there above the target;
// every broker target is set (so each load panel has its target) and the
// partition target asks for more brokers than max_brokers.
const monitoredPolicy = `
storage:
  target_utilization: 10
  max_size: 32MiB
  scale_out_step: 16MiB
  cooldown: 0s
brokers:
  min_brokers: 1
  max_brokers: 1
  window: 10s
  targets:
    cpu_percent: 90
    network_in_per_second: 100MiB
    network_out_per_second: 100MiB
    partitions_per_broker: 1
    leaders_per_broker: 100000
`

// TestUpRunsMonitoring: `weir up --agents` (make run) starts Prometheus with
// Weir's rules and Alertmanager, prints their URLs and writes them to
// endpoints.json; Prometheus scrapes the broker, its agent's two endpoints,
// the collector and the autoscaler, and sends to the Alertmanager, which has
// the --alert-webhook as its receiver. On that cluster every query of the
// autoscaler's dashboard, and every rule reading its series, returns data
// once it has grown storage to its maximum; the at-maximum alerts are
// pending on the real series.
func TestUpRunsMonitoring(t *testing.T) {
	t.Parallel()
	lookProm(t)
	lookAlertmanager(t)
	bin := brokertest.Binary(t)
	dir := filepath.Join(t.TempDir(), "mon")
	base := freeRange(t, 1, 0)
	adminBase := freeRange(t, 1, base)
	agentBase := freeRange(t, 2, adminBase)
	collectorPort := freeRange(t, 1, agentBase)
	promPort := freeRange(t, 1, collectorPort)
	amPort := freeRange(t, 1, promPort)
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte(monitoredPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	up := startUp(t, bin, "--brokers", "1", "--dir", dir, "--agents", "--base-port", fmt.Sprint(base),
		"--admin-base-port", fmt.Sprint(adminBase), "--agent-base-port", fmt.Sprint(agentBase),
		"--collector-port", fmt.Sprint(collectorPort), "--prometheus-port", fmt.Sprint(promPort),
		"--alertmanager-port", fmt.Sprint(amPort), "--alert-webhook", "http://127.0.0.1:1/weir-test-hook",
		"--storage", "16MiB", "--autoscaler-policy", policy)
	e := up.waitEndpoints(t, dir)
	fillStorage(t, e.Bootstrap, 6<<20)
	prom, am := fmt.Sprintf("http://127.0.0.1:%d/", promPort), fmt.Sprintf("http://127.0.0.1:%d/", amPort)
	if e.Monitoring == nil || e.Monitoring.Prometheus != prom || e.Monitoring.Alertmanager != am {
		t.Fatalf("endpoints.json monitoring: %+v, want Prometheus at %s and Alertmanager at %s", e.Monitoring, prom, am)
	}
	for _, want := range []string{"prometheus: " + prom, "alertmanager: " + am} {
		if !strings.Contains(up.stdout(), want) {
			t.Errorf("weir up did not print %q:\n%s", want, up.stdout())
		}
	}
	p := &promServer{addr: strings.TrimSuffix(strings.TrimPrefix(prom, "http://"), "/")}
	// Every target up: broker (for up only), agent, node, collector, autoscaler.
	for _, job := range []string{cluster.JobBroker, cluster.JobAgent, cluster.JobNode, cluster.JobCollector, cluster.JobAutoscaler} {
		await.For(t, 60*time.Second, job+" scraped and up", func() error {
			return p.expect(fmt.Sprintf(`up{job=%q,cluster="mon"} == 1`, job))
		})
	}
	await.For(t, 30*time.Second, "the agent's series with the cluster and broker labels", func() error {
		return p.expect(`kafka_server_replicamanager_partitioncount{job="weir-agent",cluster="mon",broker="1"}`)
	})
	await.For(t, 30*time.Second, "Weir's rules loaded and Alertmanager discovered", func() error {
		return promLoaded(p, am)
	})
	status, err := agentHTTPGet(am + "api/v2/status")
	if err != nil || !strings.Contains(status, "weir-test-hook") {
		t.Errorf("Alertmanager's config lacks the --alert-webhook (%v):\n%s", err, status)
	}

	// The autoscaler grows the broker from 16 to 32 MiB (an action, a
	// completed operation) and holds storage and the broker count at
	// their maxima: every query of its dashboard and every rule reading
	// its series has series, and both at-maximum alerts are pending (their
	// joins hold on the real labels; the shipped for keeps them there).
	checkLiveQueries(t, p, liveQueries(t, "mon", true), 2*time.Minute)
	for _, alert := range []string{"WeirStorageAtMaximum", "WeirBrokerCountAtMaximum"} {
		await.For(t, 30*time.Second, alert+" pending", func() error {
			return p.expect(fmt.Sprintf(`ALERTS{alertname=%q,cluster="mon"}`, alert))
		})
	}
	t.Logf("weir up to the autoscaler's dashboard and at-maximum alerts live: %s", time.Since(start).Round(time.Second))
}

// fillStorage produces n bytes of incompressible records to a new topic of
// three partitions (over the policy's partition target).
func fillStorage(t *testing.T, bootstrap string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.DefaultProduceTopic("fill"),
		kgo.AllowAutoTopicCreation(), kgo.ProducerBatchMaxBytes(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testContext(t, time.Minute)
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 3, 1, nil, "fill"); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 1)
	for range n / (64 << 10) {
		pad := make([]byte, 64<<10)
		rand.Read(pad)
		cl.Produce(ctx, &kgo.Record{Value: pad}, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		t.Fatalf("filling the broker's storage: %v", err)
	default:
	}
}

// promLoaded checks Prometheus's rule groups (every alert of
// dashboards/prometheus) and that the Alertmanager is among its active ones.
func promLoaded(p *promServer, am string) error {
	body, err := agentHTTPGet("http://" + p.addr + "/api/v1/rules?type=alert")
	if err != nil {
		return err
	}
	var rules struct {
		Data struct {
			Groups []struct{ Rules []struct{ Name string } }
		}
	}
	if err := json.Unmarshal([]byte(body), &rules); err != nil {
		return err
	}
	shipped, err := prometheus.LoadRules()
	if err != nil {
		return err
	}
	want, n := 0, 0
	for _, r := range shipped {
		if r.Alert != "" {
			want++
		}
	}
	for _, g := range rules.Data.Groups {
		n += len(g.Rules)
	}
	if n != want {
		return fmt.Errorf("%d alerting rules loaded, want %d", n, want)
	}
	body, err = agentHTTPGet("http://" + p.addr + "/api/v1/alertmanagers")
	if err != nil {
		return err
	}
	if !strings.Contains(body, strings.TrimSuffix(am, "/")) {
		return fmt.Errorf("alertmanagers: %s", body)
	}
	return nil
}
