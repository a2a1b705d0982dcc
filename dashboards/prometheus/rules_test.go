package prometheus

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// promtool finds Debian's promtool (package prometheus, installed by make deps).
func promtool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	t.Fatal("promtool not found: run make deps (Debian's prometheus package ships it)")
	return ""
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
}

// TestPromtoolCheck runs promtool check rules on every rule file.
func TestPromtoolCheck(t *testing.T) {
	run(t, promtool(t), append([]string{"check", "rules"}, RuleFiles...)...)
}

// TestPromtoolUnitTests runs the unit tests in tests/.
func TestPromtoolUnitTests(t *testing.T) {
	files, err := filepath.Glob("tests/*.yml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no promtool tests in tests/: %v", err)
	}
	run(t, promtool(t), append([]string{"test", "rules"}, files...)...)
}

// TestEveryAlertIsComplete checks each alert's severity and annotations, that
// a promtool test expects it to fire, and that docs/DASHBOARDS.md has its
// runbook section.
func TestEveryAlertIsComplete(t *testing.T) {
	rules, err := LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	tests := readAll(t, "tests/*.yml")
	docs := readAll(t, "../../docs/DASHBOARDS.md")
	n := 0
	for _, r := range rules {
		if r.Alert == "" {
			continue
		}
		n++
		if s := r.Labels["severity"]; s != "critical" && s != "warning" {
			t.Errorf("%s: severity %q, want critical or warning", r.Alert, s)
		}
		for _, a := range []string{"summary", "description", "runbook_url"} {
			if r.Annotations[a] == "" {
				t.Errorf("%s: no %s annotation", r.Alert, a)
			}
		}
		if !strings.Contains(r.Annotations["description"], "$value") {
			t.Errorf("%s: the description does not give the value", r.Alert)
		}
		anchor := strings.ToLower(r.Alert)
		if !strings.HasSuffix(r.Annotations["runbook_url"], "DASHBOARDS.md#"+anchor) {
			t.Errorf("%s: runbook_url %q does not point at DASHBOARDS.md#%s", r.Alert, r.Annotations["runbook_url"], anchor)
		}
		if !regexp.MustCompile(`(?m)^### ` + r.Alert + `$`).MatchString(docs) {
			t.Errorf("%s: docs/DASHBOARDS.md has no '### %s' runbook section", r.Alert, r.Alert)
		}
		firing := regexp.MustCompile(`(?s)alertname: ` + r.Alert + `\s*\n\s*exp_alerts:`)
		if !firing.MatchString(tests) {
			t.Errorf("%s: no promtool test expects it to fire", r.Alert)
		}
		silent := regexp.MustCompile(`alertname: ` + r.Alert + `\}`)
		if !silent.MatchString(tests) {
			t.Errorf("%s: no promtool test expects it to stay silent", r.Alert)
		}
	}
	if n == 0 {
		t.Fatal("no alerts")
	}
}

func readAll(t *testing.T, glob string) string {
	t.Helper()
	files, _ := filepath.Glob(glob)
	if len(files) == 0 {
		t.Fatalf("nothing matches %s", glob)
	}
	var sb strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sb.Write(b)
	}
	return sb.String()
}
