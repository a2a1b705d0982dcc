package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/weirhq/weir/dashboards/prometheus"
)

// The Prometheus jobs Weir's rules and dashboards expect (docs/DASHBOARDS.md).
const (
	JobAgent     = "weir-agent"     // the agent's broker endpoint (MSK's 11001)
	JobNode      = "weir-node"      // the agent's node endpoint (11002)
	JobBroker    = "weir-broker"    // the broker's admin /metrics, kept only for up
	JobCollector = "weir-collector" // the collector's /metrics
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
	StaticConfigs  []promStatic  `yaml:"static_configs"`
	MetricRelabels []promRelabel `yaml:"metric_relabel_configs,omitempty"`
}

type promStatic struct {
	Targets []string          `yaml:"targets"`
	Labels  map[string]string `yaml:"labels,omitempty"`
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
		s.StaticConfigs = append(s.StaticConfigs, promStatic{Targets: []string{t.Addr}, Labels: t.Labels})
	}
	b, err := yaml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("render prometheus.yml: %w", err)
	}
	return b, nil
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
