package policy

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/weirhq/weir/internal/bytesize"
)

// validator turns the file as written into a Policy, collecting one *Error
// per broken rule with the line of the offending key.
type validator struct {
	file string
	root *yaml.Node
	errs []error
}

func (v *validator) bad(path, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.file, Line: v.line(path), Key: path, Rule: fmt.Sprintf(format, args...)})
}

// line finds the line of the key at a path such as brokers.schedules[1].end;
// for a missing key, the line of the nearest enclosing one.
func (v *validator) line(path string) int {
	n, line := v.root, v.root.Line
	for _, part := range strings.Split(path, ".") {
		key, idx, _ := strings.Cut(strings.TrimSuffix(part, "]"), "[")
		k, next := child(n, key)
		if next == nil {
			break
		}
		n, line = next, k.Line
		if i, err := strconv.Atoi(idx); err == nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
			n, line = n.Content[i], n.Content[i].Line
		}
	}
	return line
}

// child returns the key and value nodes for key in mapping n.
func child(n *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

func (v *validator) policy(f *file) *Policy {
	p := &Policy{Name: v.file}
	if f.Storage == nil && f.Brokers == nil {
		v.bad("storage", "a policy needs a storage or a brokers section")
	}
	if f.Storage != nil {
		p.Storage = v.storage(f.Storage)
	}
	if f.Brokers != nil {
		p.Brokers = v.brokers(f.Brokers)
	}
	if p.Brokers != nil && p.Brokers.Targets.StorageAtMaximum && p.Storage == nil {
		v.bad("brokers.targets.storage_at_maximum", "needs a storage section (its max_size and target_utilization)")
	}
	return p
}

func (v *validator) storage(f *storageFile) *StoragePolicy {
	s := &StoragePolicy{Step: Step{Bytes: DefaultStepBytes, Percent: DefaultStepPercent},
		Cooldown: DefaultStorageCooldown, PerBroker: f.PerBroker}
	if f.TargetUtilization == nil {
		v.bad("storage.target_utilization", "required (percent, 10–80)")
	} else if s.TargetUtilization = *f.TargetUtilization; s.TargetUtilization < 10 || s.TargetUtilization > 80 {
		v.bad("storage.target_utilization", "%g is out of range: MSK allows 10–80 percent", s.TargetUtilization)
	}
	if f.MaxSize == "" {
		v.bad("storage.max_size", "required (a size such as 100GiB)")
	} else {
		s.MaxSize = v.size("storage.max_size", f.MaxSize, 1<<20, 16384*GiB)
	}
	if f.ScaleOutStep != "" {
		s.Step = v.step("storage.scale_out_step", f.ScaleOutStep)
		if s.MaxSize > 0 && s.Step.Bytes > s.MaxSize {
			v.bad("storage.scale_out_step", "%s is above max_size %s (a step no larger than the maximum)", FormatBytes(s.Step.Bytes), FormatBytes(s.MaxSize))
		}
	}
	if f.Cooldown != "" {
		s.Cooldown = v.duration("storage.cooldown", f.Cooldown, 0, 24*time.Hour)
	}
	return s
}

func (v *validator) brokers(f *brokersFile) *BrokerPolicy {
	b := &BrokerPolicy{Window: DefaultWindow, Tolerance: DefaultTolerance, ScaleInBelow: DefaultScaleInBelow,
		ScaleOutStep: DefaultScaleStep, ScaleInStep: DefaultScaleStep, ScaleOutCooldown: DefaultScaleOutCooldown,
		ScaleInCooldown: DefaultScaleInCooldown, Stabilization: DefaultStabilization, Location: time.UTC}
	b.Min = v.requiredInt("brokers.min_brokers", f.MinBrokers, 1, 1000)
	b.Max = v.requiredInt("brokers.max_brokers", f.MaxBrokers, 1, 1000)
	if b.Min > 0 && b.Max > 0 && b.Min > b.Max {
		v.bad("brokers.min_brokers", "%d is above max_brokers %d (min_brokers ≤ max_brokers)", b.Min, b.Max)
	}
	b.Targets = v.targets(f.Targets)
	v.brokerTuning(f, b)
	if f.Timezone != "" {
		loc, err := time.LoadLocation(f.Timezone)
		if err != nil {
			v.bad("brokers.timezone", "unknown time zone %q", f.Timezone)
		} else {
			b.Location = loc
		}
	}
	b.Schedules = v.schedules(f.Schedules, b.Max)
	return b
}

func (v *validator) brokerTuning(f *brokersFile, b *BrokerPolicy) {
	if f.Window != "" {
		b.Window = v.duration("brokers.window", f.Window, time.Second, 24*time.Hour)
	}
	b.Tolerance = v.optFloat("brokers.tolerance", f.Tolerance, b.Tolerance, 0, 50)
	b.ScaleInBelow = v.optFloat("brokers.scale_in_below", f.ScaleInBelow, b.ScaleInBelow, 1, 90)
	if f.ScaleOutStep != nil {
		b.ScaleOutStep = v.requiredInt("brokers.scale_out_step", f.ScaleOutStep, 1, 100)
	}
	if f.ScaleInStep != nil {
		b.ScaleInStep = v.requiredInt("brokers.scale_in_step", f.ScaleInStep, 1, 100)
	}
	if f.ScaleOutCooldown != "" {
		b.ScaleOutCooldown = v.duration("brokers.scale_out_cooldown", f.ScaleOutCooldown, 0, 24*time.Hour)
	}
	if f.ScaleInCooldown != "" {
		b.ScaleInCooldown = v.duration("brokers.scale_in_cooldown", f.ScaleInCooldown, 0, 24*time.Hour)
	}
	if f.Stabilization != "" {
		b.Stabilization = v.duration("brokers.scale_down_stabilization", f.Stabilization, 0, time.Hour)
	}
}

func (v *validator) targets(f *targetsFile) Targets {
	var t Targets
	if f == nil {
		v.bad("brokers.targets", "required: at least one of cpu_percent, network_in_per_second, network_out_per_second, partitions_per_broker, leaders_per_broker, storage_at_maximum")
		return t
	}
	t.CPUPercent = v.optFloat("brokers.targets.cpu_percent", f.CPUPercent, 0, 1, 100)
	if f.NetworkIn != "" {
		t.NetworkIn = float64(v.size("brokers.targets.network_in_per_second", f.NetworkIn, 1, 1<<40))
	}
	if f.NetworkOut != "" {
		t.NetworkOut = float64(v.size("brokers.targets.network_out_per_second", f.NetworkOut, 1, 1<<40))
	}
	if f.Partitions != nil {
		t.Partitions = float64(v.requiredInt("brokers.targets.partitions_per_broker", f.Partitions, 1, 1_000_000))
	}
	if f.Leaders != nil {
		t.Leaders = float64(v.requiredInt("brokers.targets.leaders_per_broker", f.Leaders, 1, 1_000_000))
	}
	t.StorageAtMaximum = f.StorageAtMaximum
	if f.CPUPercent == nil && f.NetworkIn == "" && f.NetworkOut == "" && f.Partitions == nil && f.Leaders == nil && !f.StorageAtMaximum {
		v.bad("brokers.targets", "at least one target is needed")
	}
	return t
}

var dayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

func (v *validator) schedules(fs []scheduleFile, maxBrokers int) []Schedule {
	var out []Schedule
	for i, f := range fs {
		at := fmt.Sprintf("brokers.schedules[%d]", i)
		s := Schedule{Name: f.Name}
		if s.Name == "" {
			s.Name = fmt.Sprintf("schedule %d", i)
		}
		s.Days = v.days(at+".days", f.Days)
		s.Start = v.clock(at+".start", f.Start)
		s.End = v.clock(at+".end", f.End)
		if s.Start >= 0 && s.Start == s.End {
			v.bad(at+".end", "equal to start (an empty window)")
		}
		s.MinBrokers = v.requiredInt(at+".min_brokers", f.MinBrokers, 1, 1000)
		if maxBrokers > 0 && s.MinBrokers > maxBrokers {
			v.bad(at+".min_brokers", "%d is above max_brokers %d (a schedule's target is within the maximum)", s.MinBrokers, maxBrokers)
		}
		for j, o := range out {
			if overlap(s, o) {
				v.bad(at, "overlaps brokers.schedules[%d] (%s): schedules must not overlap", j, o.Name)
			}
		}
		out = append(out, s)
	}
	return out
}

func overlap(a, b Schedule) bool {
	if a.Start < 0 || a.End < 0 || b.Start < 0 || b.End < 0 {
		return false
	}
	bm := b.minutes()
	for m := range a.minutes() {
		if bm[m] {
			return true
		}
	}
	return false
}

func (v *validator) days(path string, names []string) []time.Weekday {
	if len(names) == 0 {
		return []time.Weekday{0, 1, 2, 3, 4, 5, 6}
	}
	var out []time.Weekday
	for _, n := range names {
		from, to, isRange := strings.Cut(strings.ToLower(n), "-")
		first, ok1 := dayNames[from]
		last, ok2 := dayNames[to]
		switch {
		case !isRange && ok1:
			out = append(out, first)
		case isRange && ok1 && ok2:
			for d := first; ; d = (d + 1) % 7 {
				out = append(out, d)
				if d == last {
					break
				}
			}
		default:
			v.bad(path, "%q is not a day (mon … sun, or a range such as mon-fri)", n)
		}
	}
	return out
}

// clock parses HH:MM into minutes after midnight; -1 when bad.
func (v *validator) clock(path, s string) int {
	t, err := time.Parse("15:04", s)
	if err != nil {
		v.bad(path, "%q is not a time of day HH:MM", s)
		return -1
	}
	return t.Hour()*60 + t.Minute()
}

func (v *validator) requiredInt(path string, p *int, lo, hi int) int {
	if p == nil {
		v.bad(path, "required (%d–%d)", lo, hi)
		return 0
	}
	if *p < lo || *p > hi {
		v.bad(path, "%d is out of range %d–%d", *p, lo, hi)
		return 0
	}
	return *p
}

func (v *validator) optFloat(path string, p *float64, def, lo, hi float64) float64 {
	if p == nil {
		return def
	}
	if *p < lo || *p > hi || math.IsNaN(*p) {
		v.bad(path, "%g is out of range %g–%g", *p, lo, hi)
		return def
	}
	return *p
}

func (v *validator) duration(path, s string, lo, hi time.Duration) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		v.bad(path, "%q is not a duration (such as 90s, 5m, 6h)", s)
		return 0
	}
	if d < lo || d > hi {
		v.bad(path, "%s is out of range %s–%s", d, lo, hi)
	}
	return d
}

func (v *validator) size(path, s string, lo, hi int64) int64 {
	n, err := ParseBytes(s)
	if err != nil {
		v.bad(path, "%v", err)
		return 0
	}
	if n < lo || n > hi {
		v.bad(path, "%s is out of range %s–%s", s, FormatBytes(lo), FormatBytes(hi))
		return 0
	}
	return n
}

func (v *validator) step(path, s string) Step {
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil || f < 1 || f > 100 {
			v.bad(path, "%q: a percentage step is 1%%–100%%", s)
		}
		return Step{Percent: f}
	}
	return Step{Bytes: v.size(path, s, 1<<20, 16384*GiB)}
}

// ParseBytes reads a size: a count of bytes or a number with B, KiB, MiB, GiB
// or TiB.
func ParseBytes(s string) (int64, error) { return bytesize.Parse(s) }

// FormatBytes writes n in the largest binary unit that divides it.
func FormatBytes(n int64) string { return bytesize.Format(n) }
