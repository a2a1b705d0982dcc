package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every example in autoscaler/policies loads.
func TestExamplesLoad(t *testing.T) {
	paths, err := filepath.Glob("../policies/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, path := range paths {
		if _, err := Load(path); err != nil {
			t.Errorf("%v", err)
		}
	}
}

func TestDefaults(t *testing.T) {
	p, err := Parse([]byte("storage:\n  target_utilization: 70\n  max_size: 1TiB\nbrokers:\n  min_brokers: 1\n  max_brokers: 3\n  targets:\n    cpu_percent: 50\n"), "d.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, b := p.Storage, p.Brokers
	if s.Cooldown != 5*time.Minute || s.Step != (Step{Bytes: 10 * GiB, Percent: 10}) || s.PerBroker {
		t.Errorf("storage defaults: %+v", s)
	}
	if s.Step.Of(50*GiB) != 10*GiB || s.Step.Of(300*GiB) != 30*GiB {
		t.Errorf("step: max(10 GiB, 10 %%): %d %d", s.Step.Of(50*GiB), s.Step.Of(300*GiB))
	}
	if b.Window != 5*time.Minute || b.Tolerance != 10 || b.ScaleInBelow != 50 || b.Stabilization != 300*time.Second ||
		b.ScaleOutStep != 1 || b.ScaleInStep != 1 || b.ScaleOutCooldown != 10*time.Minute || b.ScaleInCooldown != 30*time.Minute ||
		b.Location != time.UTC {
		t.Errorf("broker defaults: %+v", b)
	}
}

const good = `storage:
  target_utilization: 60
  max_size: 100GiB
brokers:
  min_brokers: 3
  max_brokers: 6
  targets:
    cpu_percent: 60
  schedules:
  - name: peak
    days: [mon-fri]
    start: "09:00"
    end: "17:00"
    min_brokers: 5
`

// Each documented refusal, with the line and the rule.
func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"unknown top-level key", "storage:\n", "storag:\n  x: 1\nstorage:\n", `p.yaml:1: storag: unknown key (known: storage, brokers)`},
		{"unknown nested key", "  max_size: 100GiB\n", "  max_size: 100GiB\n  max_sise: 1GiB\n", `p.yaml:4: storage.max_sise: unknown key`},
		{"unknown schedule key", "    min_brokers: 5\n", "    min_brokers: 5\n    max_brokers: 6\n", `p.yaml:15: brokers.schedules[0].max_brokers: unknown key`},
		{"target utilization above 80", "target_utilization: 60", "target_utilization: 85", `p.yaml:2: storage.target_utilization: 85 is out of range: MSK allows 10–80 percent`},
		{"target utilization below 10", "target_utilization: 60", "target_utilization: 5", `p.yaml:2: storage.target_utilization: 5 is out of range`},
		{"target utilization missing", "  target_utilization: 60\n", "", `p.yaml:1: storage.target_utilization: required`},
		{"max size missing", "  max_size: 100GiB\n", "", `storage.max_size: required`},
		{"max size not a size", "max_size: 100GiB", "max_size: lots", `p.yaml:3: storage.max_size: "lots" is not a size`},
		{"max size above 16 TiB", "max_size: 100GiB", "max_size: 20TiB", `p.yaml:3: storage.max_size: 20TiB is out of range 1MiB–16TiB`},
		{"step above the maximum", "  max_size: 100GiB\n", "  max_size: 100GiB\n  scale_out_step: 200GiB\n", `p.yaml:4: storage.scale_out_step: 200GiB is above max_size 100GiB`},
		{"step percent out of range", "  max_size: 100GiB\n", "  max_size: 100GiB\n  scale_out_step: 150%\n", `p.yaml:4: storage.scale_out_step: "150%": a percentage step is 1%–100%`},
		{"cooldown not a duration", "  max_size: 100GiB\n", "  max_size: 100GiB\n  cooldown: soon\n", `p.yaml:4: storage.cooldown: "soon" is not a duration`},
		{"cooldown above a day", "  max_size: 100GiB\n", "  max_size: 100GiB\n  cooldown: 48h\n", `p.yaml:4: storage.cooldown: 48h0m0s is out of range`},
		{"wrong type", "cpu_percent: 60", "cpu_percent: high", `p.yaml:8: cannot unmarshal !!str ` + "`high`"},
		{"min above max", "min_brokers: 3", "min_brokers: 7", `p.yaml:5: brokers.min_brokers: 7 is above max_brokers 6 (min_brokers ≤ max_brokers)`},
		{"max brokers missing", "  max_brokers: 6\n", "", `brokers.max_brokers: required`},
		{"no targets", "  targets:\n    cpu_percent: 60\n", "", `brokers.targets: required`},
		{"empty targets", "    cpu_percent: 60\n", "    {}\n", `brokers.targets`},
		{"cpu above 100", "cpu_percent: 60", "cpu_percent: 120", `p.yaml:8: brokers.targets.cpu_percent: 120 is out of range 1–100`},
		{"tolerance out of range", "  min_brokers: 3\n", "  min_brokers: 3\n  tolerance: 70\n", `p.yaml:6: brokers.tolerance: 70 is out of range 0–50`},
		{"window out of range", "  min_brokers: 3\n", "  min_brokers: 3\n  window: 0s\n", `p.yaml:6: brokers.window: 0s is out of range`},
		{"stabilization out of range", "  min_brokers: 3\n", "  min_brokers: 3\n  scale_down_stabilization: 2h\n", `p.yaml:6: brokers.scale_down_stabilization: 2h0m0s is out of range`},
		{"unknown time zone", "  min_brokers: 3\n", "  min_brokers: 3\n  timezone: Mars/Olympus\n", `p.yaml:6: brokers.timezone: unknown time zone`},
		{"schedule target above the maximum", "    min_brokers: 5\n", "    min_brokers: 8\n", `p.yaml:14: brokers.schedules[0].min_brokers: 8 is above max_brokers 6 (a schedule's target is within the maximum)`},
		{"schedule bad day", "[mon-fri]", "[monday]", `p.yaml:11: brokers.schedules[0].days: "monday" is not a day`},
		{"schedule bad time", `start: "09:00"`, `start: "9am"`, `p.yaml:12: brokers.schedules[0].start: "9am" is not a time of day HH:MM`},
		{"schedule empty", `end: "17:00"`, `end: "09:00"`, `p.yaml:13: brokers.schedules[0].end: equal to start`},
		{"overlapping schedules", "    min_brokers: 5\n", "    min_brokers: 5\n  - name: lunch\n    days: [wed]\n    start: \"12:00\"\n    end: \"13:00\"\n    min_brokers: 6\n",
			`p.yaml:15: brokers.schedules[1]: overlaps brokers.schedules[0] (peak): schedules must not overlap`},
		{"overlap across midnight", "    min_brokers: 5\n", "    min_brokers: 5\n  - name: night\n    days: [sun]\n    start: \"23:00\"\n    end: \"09:30\"\n    min_brokers: 4\n",
			`brokers.schedules[1]: overlaps brokers.schedules[0] (peak)`},
		{"storage_at_maximum without storage", good[:strings.Index(good, "brokers:")], "", `brokers.targets.storage_at_maximum: needs a storage section`},
		{"neither section", good, "# nothing\nother: 1\n", `p.yaml:2: other: unknown key`},
		{"not a mapping", good, "- 1\n", `p.yaml:1: a policy file is a mapping`},
		{"empty policy", good, "{}\n", `p.yaml:1: storage: a policy needs a storage or a brokers section`},
		{"duplicate key", "  max_size: 100GiB\n", "  max_size: 100GiB\n  max_size: 200GiB\n", `p.yaml:4: mapping key "max_size" already defined`},
		{"bad yaml", good, "storage: [\n", `p.yaml:1: did not find expected node content`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(good, tc.old, tc.new, 1)
			if tc.name == "storage_at_maximum without storage" {
				src = strings.Replace(src, "    cpu_percent: 60\n", "    storage_at_maximum: true\n", 1)
			}
			if src == good {
				t.Fatalf("the edit %q did not apply", tc.old)
			}
			_, err := Parse([]byte(src), "p.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant %s\nin\n%s", err, tc.want, src)
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.File != "p.yaml" || pe.Line < 1 || pe.Rule == "" {
				t.Errorf("not an *Error with file, line and rule: %#v", err)
			}
		})
	}
}

func TestParseGood(t *testing.T) {
	if _, err := Parse([]byte(good), "p.yaml"); err != nil {
		t.Fatal(err)
	}
}

// Reload keeps the last good policy when the new file is bad.
func TestReloadKeepsLastGood(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.yaml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(good)
	p, err := Reload(path, nil)
	if err != nil || p.Brokers.Max != 6 {
		t.Fatalf("first load: %v", err)
	}
	write(strings.Replace(good, "min_brokers: 3", "min_brokers: 9", 1))
	kept, err := Reload(path, p)
	if kept != p || err == nil || !strings.Contains(err.Error(), "min_brokers ≤ max_brokers") {
		t.Fatalf("bad reload: kept %v, err %v", kept == p, err)
	}
	write(strings.Replace(good, "max_brokers: 6", "max_brokers: 8", 1))
	if p2, err := Reload(path, p); err != nil || p2.Brokers.Max != 8 {
		t.Fatalf("good reload: %v", err)
	}
	if kept, err := Reload(filepath.Join(t.TempDir(), "missing.yaml"), p); kept != p || err == nil {
		t.Fatalf("missing file: kept %v, err %v", kept == p, err)
	}
}

func TestScheduleActive(t *testing.T) {
	s := Schedule{Days: []time.Weekday{time.Sunday}, Start: 22 * 60, End: 2 * 60}
	for _, tc := range []struct {
		at   string
		want bool
	}{
		{"2026-01-04T21:59:00Z", false}, // Sunday
		{"2026-01-04T22:00:00Z", true},
		{"2026-01-05T01:59:00Z", true}, // Monday, the window past midnight
		{"2026-01-05T02:00:00Z", false},
		{"2026-01-10T23:00:00Z", false}, // Saturday
	} {
		at, _ := time.Parse(time.RFC3339, tc.at)
		if got := s.Active(at); got != tc.want {
			t.Errorf("%s: active %t, want %t", tc.at, got, tc.want)
		}
	}
}

func TestBytes(t *testing.T) {
	for s, want := range map[string]int64{"10GiB": 10 * GiB, "1TiB": 1 << 40, "512MiB": 512 << 20, "1.5GiB": 3 * GiB / 2, "4096": 4096} {
		if n, err := ParseBytes(s); err != nil || n != want {
			t.Errorf("%s: %d, %v; want %d", s, n, err, want)
		}
	}
	if _, err := ParseBytes("-1GiB"); err == nil {
		t.Error("negative size accepted")
	}
	if got := FormatBytes(110 * GiB); got != "110GiB" {
		t.Errorf("FormatBytes: %s", got)
	}
}
