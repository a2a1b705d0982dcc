// Package prometheus holds Weir's Prometheus rules: recording.rules.yml (the
// rates and ratios the Grafana dashboards read) and alerts.rules.yml (MSK's
// recommended alarms and the open-source Kafka sets), with promtool unit
// tests in tests/. The files are embedded so that `weir up` can hand them to
// the Prometheus it starts. docs/DASHBOARDS.md has a runbook per alert.
package prometheus

import (
	"embed"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Rules holds recording.rules.yml and alerts.rules.yml.
//
//go:embed *.rules.yml
var Rules embed.FS

// RuleFiles are the names of the files in Rules, in load order.
var RuleFiles = []string{"recording.rules.yml", "alerts.rules.yml"}

type ruleFile struct {
	Groups []struct {
		Name  string
		Rules []Rule
	}
}

// Rule is one recording or alerting rule as the rule files hold it.
type Rule struct {
	Record      string
	Alert       string
	Expr        string
	For         string
	Labels      map[string]string
	Annotations map[string]string
}

// LoadRules parses the embedded rule files.
func LoadRules() ([]Rule, error) {
	var out []Rule
	for _, name := range RuleFiles {
		b, err := Rules.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var f ruleFile
		if err := yaml.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		for _, g := range f.Groups {
			out = append(out, g.Rules...)
		}
	}
	return out, nil
}
