package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/cluster"
	"github.com/weirhq/weir/dashboards/prometheus"
)

// TestUpRunsMonitoring: `weir up --agents` (make run) starts Prometheus with
// Weir's rules and Alertmanager, prints their URLs and writes them to
// endpoints.json; Prometheus scrapes the broker, its agent's two endpoints
// and the collector, and sends to the Alertmanager, which has the
// --alert-webhook as its receiver.
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
	up := startUp(t, bin, "--brokers", "1", "--dir", dir, "--agents", "--base-port", fmt.Sprint(base),
		"--admin-base-port", fmt.Sprint(adminBase), "--agent-base-port", fmt.Sprint(agentBase),
		"--collector-port", fmt.Sprint(collectorPort), "--prometheus-port", fmt.Sprint(promPort),
		"--alertmanager-port", fmt.Sprint(amPort), "--alert-webhook", "http://127.0.0.1:1/weir-test-hook")
	e := up.waitEndpoints(t, dir)
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
	// Every target up: broker (for up only), agent, node, collector.
	for _, job := range []string{cluster.JobBroker, cluster.JobAgent, cluster.JobNode, cluster.JobCollector} {
		waitFor(t, 60*time.Second, job+" scraped and up", func() error {
			return p.expect(fmt.Sprintf(`up{job=%q,cluster="mon"} == 1`, job))
		})
	}
	waitFor(t, 30*time.Second, "the agent's series with the cluster and broker labels", func() error {
		return p.expect(`kafka_server_replicamanager_partitioncount{job="weir-agent",cluster="mon",broker="1"}`)
	})
	waitFor(t, 30*time.Second, "Weir's rules loaded and Alertmanager discovered", func() error {
		return promLoaded(p, am)
	})
	status, err := agentHTTPGet(am + "api/v2/status")
	if err != nil || !strings.Contains(status, "weir-test-hook") {
		t.Errorf("Alertmanager's config lacks the --alert-webhook (%v):\n%s", err, status)
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
