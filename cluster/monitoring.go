package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/weirhq/weir/dashboards/prometheus"
)

// The Prometheus jobs Weir's rules and dashboards expect (docs/DASHBOARDS.md).
const (
	JobAgent      = "weir-agent"      // the agent's broker endpoint (MSK's 11001)
	JobNode       = "weir-node"       // the agent's node endpoint (11002)
	JobBroker     = "weir-broker"     // the broker's admin /metrics, kept only for up
	JobCollector  = "weir-collector"  // the collector's /metrics
	JobAutoscaler = "weir-autoscaler" // the autoscaler's /metrics
)

// ScrapeTarget is one endpoint Prometheus scrapes.
type ScrapeTarget struct {
	Job    string
	Addr   string            // host:port
	Path   string            // "" is /metrics
	Labels map[string]string // target labels: cluster, broker
}

// PrometheusOptions is what PrometheusConfig writes.
type PrometheusOptions struct {
	ScrapeInterval     time.Duration // also the scrape timeout
	EvaluationInterval time.Duration
	RuleFiles          []string // paths
	Alertmanagers      []string // host:port
	Targets            []ScrapeTarget
	// TargetsDir, when set, puts each job's targets in a file of their
	// own, TargetsDir/<job>.json (Prometheus's file_sd, re-read when it
	// changes), instead of static configs: a running weir up rewrites
	// them when brokers come and go (WriteTargets).
	TargetsDir string
}

type promConfig struct {
	Global struct {
		ScrapeInterval     string `yaml:"scrape_interval"`
		ScrapeTimeout      string `yaml:"scrape_timeout"`
		EvaluationInterval string `yaml:"evaluation_interval"`
	} `yaml:"global"`
	RuleFiles     []string      `yaml:"rule_files,omitempty"`
	Alerting      *promAlerting `yaml:"alerting,omitempty"`
	ScrapeConfigs []promScrape  `yaml:"scrape_configs"`
}

type promAlerting struct {
	Alertmanagers []struct {
		StaticConfigs []promStatic `yaml:"static_configs"`
	} `yaml:"alertmanagers"`
}

type promScrape struct {
	JobName        string        `yaml:"job_name"`
	MetricsPath    string        `yaml:"metrics_path,omitempty"`
	StaticConfigs  []promStatic  `yaml:"static_configs,omitempty"`
	FileSDConfigs  []promFileSD  `yaml:"file_sd_configs,omitempty"`
	MetricRelabels []promRelabel `yaml:"metric_relabel_configs,omitempty"`
}

type promFileSD struct {
	Files           []string `yaml:"files"`
	RefreshInterval string   `yaml:"refresh_interval"`
}

type promStatic struct {
	Targets []string          `yaml:"targets" json:"targets"`
	Labels  map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
}

type promRelabel struct {
	SourceLabels []string `yaml:"source_labels"`
	Regex        string   `yaml:"regex"`
	Action       string   `yaml:"action"`
}

// PrometheusConfig renders a prometheus.yml. Targets of one job stay in the
// order given, one static config each (their labels differ). The broker job
// drops every scraped series: the agent re-exports them, and only the
// job's up says whether the broker answers.
func PrometheusConfig(o PrometheusOptions) ([]byte, error) {
	var c promConfig
	c.Global.ScrapeInterval = o.ScrapeInterval.String()
	c.Global.ScrapeTimeout = o.ScrapeInterval.String()
	c.Global.EvaluationInterval = o.EvaluationInterval.String()
	c.RuleFiles = o.RuleFiles
	if len(o.Alertmanagers) > 0 {
		c.Alerting = &promAlerting{}
		c.Alerting.Alertmanagers = append(c.Alerting.Alertmanagers, struct {
			StaticConfigs []promStatic `yaml:"static_configs"`
		}{[]promStatic{{Targets: o.Alertmanagers}}})
	}
	jobs := map[string]int{}
	for _, t := range o.Targets {
		i, ok := jobs[t.Job]
		if !ok {
			i = len(c.ScrapeConfigs)
			jobs[t.Job] = i
			s := promScrape{JobName: t.Job, MetricsPath: t.Path}
			if t.Job == JobBroker {
				s.MetricRelabels = []promRelabel{{SourceLabels: []string{"__name__"}, Regex: ".+", Action: "drop"}}
			}
			c.ScrapeConfigs = append(c.ScrapeConfigs, s)
		}
		s := &c.ScrapeConfigs[i]
		if o.TargetsDir != "" {
			if len(s.FileSDConfigs) == 0 {
				s.FileSDConfigs = []promFileSD{{Files: []string{targetsFile(o.TargetsDir, t.Job)}, RefreshInterval: "5s"}}
			}
			continue
		}
		s.StaticConfigs = append(s.StaticConfigs, promStatic{Targets: []string{t.Addr}, Labels: t.Labels})
	}
	b, err := yaml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("render prometheus.yml: %w", err)
	}
	return b, nil
}

// targetsFile is a job's file_sd file.
func targetsFile(dir, job string) string { return filepath.Join(dir, job+".json") }

// fileSDJobs are the jobs weir up may scrape: WriteTargets writes a file
// for each, empty when the job has no target now.
var fileSDJobs = []string{JobBroker, JobAgent, JobNode, JobCollector, JobAutoscaler}

// WriteTargets writes each job's targets to dir/<job>.json in
// Prometheus's file_sd format, atomically (Prometheus never reads half a
// file).
func WriteTargets(dir string, targets []ScrapeTarget) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	byJob := map[string][]promStatic{}
	for _, t := range targets {
		byJob[t.Job] = append(byJob[t.Job], promStatic{Targets: []string{t.Addr}, Labels: t.Labels})
	}
	for _, job := range fileSDJobs {
		groups := byJob[job]
		if groups == nil {
			groups = []promStatic{}
		}
		b, err := json.MarshalIndent(groups, "", "  ")
		if err != nil {
			return err
		}
		if err := writeFileAtomic(targetsFile(dir, job), append(b, '\n')); err != nil {
			return fmt.Errorf("writing Prometheus's %s targets: %w", job, err)
		}
	}
	return nil
}

// AlertmanagerOptions is what AlertmanagerConfig writes.
type AlertmanagerOptions struct {
	Webhooks []string // URLs; none: alerts are kept and shown, sent nowhere
	// GroupWait, GroupInterval: Alertmanager's route timers (0: 10s, 1m).
	GroupWait, GroupInterval time.Duration
}

// AlertmanagerConfig renders an alertmanager.yml with one route, grouped by
// alert and cluster, to one receiver holding the webhooks (resolved alerts
// sent too).
func AlertmanagerConfig(o AlertmanagerOptions) ([]byte, error) {
	wait, interval := o.GroupWait, o.GroupInterval
	if wait == 0 {
		wait = 10 * time.Second
	}
	if interval == 0 {
		interval = time.Minute
	}
	type webhook struct {
		URL          string `yaml:"url"`
		SendResolved bool   `yaml:"send_resolved"`
	}
	type receiver struct {
		Name     string    `yaml:"name"`
		Webhooks []webhook `yaml:"webhook_configs,omitempty"`
	}
	var cfg struct {
		Route struct {
			Receiver       string   `yaml:"receiver"`
			GroupBy        []string `yaml:"group_by"`
			GroupWait      string   `yaml:"group_wait"`
			GroupInterval  string   `yaml:"group_interval"`
			RepeatInterval string   `yaml:"repeat_interval"`
		} `yaml:"route"`
		Receivers []receiver `yaml:"receivers"`
	}
	cfg.Route.Receiver = "weir"
	cfg.Route.GroupBy = []string{"alertname", "cluster"}
	cfg.Route.GroupWait, cfg.Route.GroupInterval, cfg.Route.RepeatInterval = wait.String(), interval.String(), "4h"
	r := receiver{Name: "weir"}
	for _, u := range o.Webhooks {
		r.Webhooks = append(r.Webhooks, webhook{URL: u, SendResolved: true})
	}
	cfg.Receivers = []receiver{r}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("render alertmanager.yml: %w", err)
	}
	return b, nil
}

// WriteRules writes Weir's rule files (dashboards/prometheus) into dir and
// returns their paths. edit, when not nil, rewrites each file's text (a test
// shortens the alerts' for durations with it).
func WriteRules(dir string, edit func(string) string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create rules dir: %w", err)
	}
	var paths []string
	for _, name := range prometheus.RuleFiles {
		b, err := prometheus.Rules.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read embedded %s: %w", name, err)
		}
		text := string(b)
		if edit != nil {
			text = edit(text)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", p, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// Default ports of the monitoring stack under `weir up` (Prometheus's own
// 9090 is the collector's, Cruise Control's port).
const (
	DefaultPrometheusPort   = 19090
	DefaultAlertmanagerPort = 19093
)

// Process names of the monitoring stack.
const (
	prometheusName   = "prometheus"
	alertmanagerName = "alertmanager"
)

// runsWeir says whether the supervised process runs the weir binary: not
// Prometheus or Alertmanager, which an upgrade leaves alone.
func runsWeir(name string) bool { return name != prometheusName && name != alertmanagerName }

// MonitoringConfig is the monitoring stack `weir up` runs.
type MonitoringConfig struct {
	PrometheusPort, AlertmanagerPort int // 0: the defaults
	// Prometheus, Alertmanager are the binaries; "" finds Debian's
	// (/usr/bin/prometheus, /usr/bin/prometheus-alertmanager) or the PATH's.
	Prometheus, Alertmanager string
	// Webhooks receive Alertmanager's notifications (firing and resolved).
	Webhooks []string
}

// findTool returns the first of the candidates that exists, or the PATH's
// name, or "".
func findTool(explicit string, candidates ...string) string {
	if explicit != "" {
		return explicit
	}
	for _, c := range candidates {
		if filepath.IsAbs(c) {
			if _, err := os.Stat(c); err == nil {
				return c
			}
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	return ""
}

// writeMonitoring writes Prometheus's config (every agent's two endpoints,
// every broker's admin endpoint for up, the collector; Weir's rules) and
// Alertmanager's, and returns their processes: optional, like the agents.
// Without a Prometheus binary, or with its port taken, it returns none and
// says why; without Alertmanager, Prometheus runs alone.
func writeMonitoring(s Spec, l Layout, m MonitoringConfig, what monitored, logger *log.Logger) ([]Process, error) {
	promBin := findTool(m.Prometheus, "/usr/bin/prometheus", "prometheus")
	if promBin == "" {
		logger.Printf("monitoring: no prometheus binary (make deps installs Debian's); running without Prometheus and Alertmanager")
		return nil, nil
	}
	promPort, amPort := orDefault(m.PrometheusPort, DefaultPrometheusPort), orDefault(m.AlertmanagerPort, DefaultAlertmanagerPort)
	amBin := findTool(m.Alertmanager, "/usr/bin/prometheus-alertmanager", "alertmanager")
	ports := []namedPort{{promPort, "Prometheus"}}
	if amBin != "" {
		ports = append(ports, namedPort{amPort, "Alertmanager"})
	}
	if err := checkPorts(s.Host, ports, "choose others with --prometheus-port and --alertmanager-port, or --no-monitoring"); err != nil {
		logger.Printf("monitoring: %v; running without Prometheus and Alertmanager", err)
		return nil, nil
	}
	dir := l.MonitoringDir()
	rules, err := WriteRules(filepath.Join(dir, "rules"), nil)
	if err != nil {
		return nil, err
	}
	var procs []Process
	targets := monitoringTargets(s, l, what)
	if err := WriteTargets(l.TargetsDir(), targets); err != nil {
		return nil, err
	}
	opts := PrometheusOptions{ScrapeInterval: 10 * time.Second, EvaluationInterval: 10 * time.Second,
		RuleFiles: rules, Targets: targets, TargetsDir: l.TargetsDir()}
	if amBin != "" {
		am := fmt.Sprintf("%s:%d", s.Host, amPort)
		opts.Alertmanagers = []string{am}
		p, err := alertmanagerProcess(dir, amBin, am, m.Webhooks)
		if err != nil {
			return nil, err
		}
		procs = append(procs, p)
	} else {
		logger.Printf("monitoring: no prometheus-alertmanager binary (make deps installs it); Prometheus evaluates the alerts and sends them nowhere")
	}
	promAddr := fmt.Sprintf("%s:%d", s.Host, promPort)
	p, err := prometheusProcess(dir, promBin, promAddr, opts)
	if err != nil {
		return nil, err
	}
	urls := MonitoringEndpoint{Prometheus: "http://" + promAddr + "/", Rules: filepath.Dir(rules[0]),
		Config: filepath.Join(dir, "prometheus.yml")}
	if amBin != "" {
		urls.Alertmanager = fmt.Sprintf("http://%s:%d/", s.Host, amPort)
	}
	if err := writeMonitoringURLs(l, urls); err != nil {
		return nil, err
	}
	return append([]Process{p}, procs...), nil
}

// monitoringTargets lists what Prometheus scrapes under `weir up`, labelled
// with the agents' cluster_name and the broker id.
func monitoringTargets(s Spec, l Layout, m monitored) []ScrapeTarget {
	name := filepath.Base(l.Dir)
	var out []ScrapeTarget
	for _, b := range s.Brokers {
		lb := map[string]string{"cluster": name, "broker": fmt.Sprint(b.ID)}
		if m.agents {
			out = append(out, ScrapeTarget{Job: JobAgent, Addr: b.Agent(s.Host), Labels: lb},
				ScrapeTarget{Job: JobNode, Addr: b.AgentNode(s.Host), Labels: lb})
		}
		out = append(out, ScrapeTarget{Job: JobBroker, Addr: b.Admin(s.Host), Labels: lb})
	}
	if m.collector {
		out = append(out, ScrapeTarget{Job: JobCollector, Addr: s.Collector(), Labels: map[string]string{"cluster": name}})
	}
	if m.autoscaler {
		out = append(out, ScrapeTarget{Job: JobAutoscaler, Addr: s.Autoscaler(), Labels: map[string]string{"cluster": name}})
	}
	return out
}

// monitored says which of weir up's optional processes run, for the
// scrape targets.
type monitored struct{ agents, collector, autoscaler bool }

func prometheusProcess(dir, bin, addr string, opts PrometheusOptions) (Process, error) {
	cfg, err := PrometheusConfig(opts)
	if err != nil {
		return Process{}, err
	}
	path := filepath.Join(dir, "prometheus.yml")
	if err := writeFileAtomic(path, cfg); err != nil {
		return Process{}, fmt.Errorf("writing Prometheus's config: %w", err)
	}
	return serverProcess(prometheusName, bin, addr, dir, "serving http://"+addr+"/ with Weir's rules",
		"--config.file="+path, "--storage.tsdb.path="+filepath.Join(dir, "prometheus-data"),
		"--storage.tsdb.retention.time=7d", "--web.listen-address="+addr), nil
}

func alertmanagerProcess(dir, bin, addr string, webhooks []string) (Process, error) {
	cfg, err := AlertmanagerConfig(AlertmanagerOptions{Webhooks: webhooks})
	if err != nil {
		return Process{}, err
	}
	path := filepath.Join(dir, "alertmanager.yml")
	if err := writeFileAtomic(path, cfg); err != nil {
		return Process{}, fmt.Errorf("writing Alertmanager's config: %w", err)
	}
	// No HA cluster: an empty --cluster.listen-address keeps port 9094 free.
	return serverProcess(alertmanagerName, bin, addr, dir, "serving http://"+addr+"/",
		"--config.file="+path, "--storage.path="+filepath.Join(dir, "alertmanager-data"),
		"--web.listen-address="+addr, "--cluster.listen-address="), nil
}

func serverProcess(name, bin, addr, dir, where string, args ...string) Process {
	ready := "http://" + addr + "/-/ready"
	return Process{
		Name: name, Path: bin, Args: args, Where: where, Optional: true,
		LogPath: filepath.Join(dir, name+".log"), PIDPath: filepath.Join(dir, name+".pid"),
		Ready: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, probeTimeout)
			defer cancel()
			return httpOK(ctx, ready)
		},
	}
}

// MonitoringDir holds the monitoring stack's configs, rules, data and logs.
func (l Layout) MonitoringDir() string { return filepath.Join(l.Dir, "monitoring") }

// monitoringURLs is where writeMonitoring records the stack's addresses for
// endpoints.json (the ports are per run, not part of the saved spec).
func (l Layout) monitoringURLs() string { return filepath.Join(l.MonitoringDir(), "urls.json") }

// MonitoringEndpoint is the monitoring stack in endpoints.json.
type MonitoringEndpoint struct {
	Prometheus   string `json:"prometheus"`
	Alertmanager string `json:"alertmanager,omitempty"`
	Rules        string `json:"rules"` // the rule files' directory
	Config       string `json:"config"`
	State        State  `json:"state"` // Prometheus's
}

// monitoringEndpoint is the stack's entry in endpoints.json, nil when
// `weir up` runs no Prometheus.
func monitoringEndpoint(l Layout, byName map[string]Status) *MonitoringEndpoint {
	p, ok := byName[prometheusName]
	if !ok {
		return nil
	}
	var m MonitoringEndpoint
	if b, err := os.ReadFile(l.monitoringURLs()); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	m.State = p.State
	if _, ok := byName[alertmanagerName]; !ok {
		m.Alertmanager = ""
	}
	return &m
}

func writeMonitoringURLs(l Layout, m MonitoringEndpoint) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(l.monitoringURLs(), b); err != nil {
		return fmt.Errorf("writing the monitoring URLs: %w", err)
	}
	return nil
}
