package cluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMonitoringConfigsPassTheirCheckers renders a prometheus.yml (rules
// written out, an Alertmanager, every job) and an alertmanager.yml and has
// promtool and amtool check them.
func TestMonitoringConfigsPassTheirCheckers(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: run make deps")
	}
	amtool, err := exec.LookPath("amtool")
	if err != nil {
		t.Fatal("amtool not found: run make deps (Debian's prometheus-alertmanager ships it)")
	}
	dir := t.TempDir()
	rules, err := WriteRules(filepath.Join(dir, "rules"), nil)
	if err != nil {
		t.Fatal(err)
	}
	l := map[string]string{"cluster": "c", "broker": "1"}
	prom, err := PrometheusConfig(PrometheusOptions{
		ScrapeInterval: 15 * time.Second, EvaluationInterval: 15 * time.Second,
		RuleFiles: rules, Alertmanagers: []string{"127.0.0.1:9093"},
		Targets: []ScrapeTarget{
			{Job: JobAgent, Addr: "127.0.0.1:11001", Labels: l}, {Job: JobNode, Addr: "127.0.0.1:11002", Labels: l},
			{Job: JobBroker, Addr: "127.0.0.1:9644", Labels: l}, {Job: JobCollector, Addr: "127.0.0.1:9090"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(prom), "action: drop") {
		t.Errorf("the broker job keeps the broker's series:\n%s", prom)
	}
	am, err := AlertmanagerConfig(AlertmanagerOptions{Webhooks: []string{"http://127.0.0.1:5001/"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tool, file string
		body       []byte
		args       []string
	}{
		{promtool, "prometheus.yml", prom, []string{"check", "config"}},
		{amtool, "alertmanager.yml", am, []string{"check-config"}},
	} {
		p := filepath.Join(dir, c.file)
		if err := os.WriteFile(p, c.body, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(c.tool, append(c.args, p)...).CombinedOutput(); err != nil {
			t.Errorf("%s %v: %v\n%s\n%s", filepath.Base(c.tool), c.args, err, out, c.body)
		}
	}
}

// TestMonitoringFileSD: under weir up, each job's targets are a file_sd
// file that promtool accepts, rewritten with the cluster's shape (a fifth
// broker appears in the broker, agent and node files; jobs without a
// target have an empty file).
func TestMonitoringFileSD(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: run make deps")
	}
	l := Layout{Dir: t.TempDir()}
	s := newSpec(t, Request{Brokers: 3})
	m := monitored{agents: true, collector: true}
	if err := WriteTargets(l.TargetsDir(), monitoringTargets(s, l, m)); err != nil {
		t.Fatal(err)
	}
	prom, err := PrometheusConfig(PrometheusOptions{ScrapeInterval: 10 * time.Second, EvaluationInterval: 10 * time.Second,
		Targets: monitoringTargets(s, l, m), TargetsDir: l.TargetsDir()})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(prom), "static_configs") || !strings.Contains(string(prom), "weir-agent.json") {
		t.Errorf("prometheus.yml does not point at the target files:\n%s", prom)
	}
	path := filepath.Join(l.Dir, "prometheus.yml")
	if err := os.WriteFile(path, prom, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "config", path).CombinedOutput(); err != nil {
		t.Errorf("promtool check config: %v\n%s", err, out)
	}
	if err := WriteTargets(l.TargetsDir(), monitoringTargets(s.Resized(5), l, m)); err != nil {
		t.Fatal(err)
	}
	for job, want := range map[string]int{JobBroker: 5, JobAgent: 5, JobNode: 5, JobCollector: 1, JobAutoscaler: 0} {
		data, err := os.ReadFile(targetsFile(l.TargetsDir(), job))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(string(data), `"targets"`); got != want {
			t.Errorf("%s: %d target groups, want %d:\n%s", job, got, want, data)
		}
	}
}
