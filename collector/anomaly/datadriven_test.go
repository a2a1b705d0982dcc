package anomaly

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"github.com/weirhq/weir/collector/model"
	"github.com/weirhq/weir/internal/ddtest"
)

// TestScripts runs the scripts in testdata on a fake clock (t=… is the
// time since 00:00:00 UTC). Commands:
//
//	config [key=value ...]           a new detector: DefaultConfig plus the keys
//	metadata alive=(1,2,3)           the live brokers, then one partition a line:
//	t-0 replicas=(1,2,4) isr=(1,2)
//	----
//	logdirs                          one broker's dirs a line: 2 /d1 /d2=offline
//	----
//	proposal t=1s                    a proposal at t, one goal a line:
//	RackAwareGoal FIXED 80           (status, balancedness before)
//	----
//	step t=5s [executing=task] [recovering]
//	----                             one round (recovering: the executor is still
//	                                 recovering): the fix returned, then every anomaly
//	started t=5s | notstarted t=5s status=LOAD_MONITOR_NOT_READY
//	----                             the outcome of the last fix, then every anomaly
//	admin disable=BROKER_FAILURE [enable=...]
//	----                             the admin endpoint's switches
//	restart t=9s [key=value ...]     the collector restarted at t: the detector's
//	----                             record through the history file's JSON into a
//	                                 new detector (same config plus the keys)
//
// Run with -rewrite to regenerate the expected output.
func TestScripts(t *testing.T) {
	ddtest.Walk(t, "testdata", func(*testing.T) ddtest.Handler { return (&script{}).run })
}

type script struct {
	cfg     Config
	det     *Detector
	obs     Observation
	lastFix *Fix
}

var (
	epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock = ddtest.Clock{Epoch: epoch}
)

func (s *script) run(t *testing.T, d *datadriven.TestData) string {
	switch d.Cmd {
	case "config":
		return s.config(t, d)
	case "metadata":
		s.metadata(t, d)
		return ""
	case "logdirs":
		s.logdirs(t, d)
		return ""
	case "proposal":
		s.proposal(t, d)
		return ""
	case "step":
		return s.step(t, d)
	case "started", "notstarted":
		return s.outcome(t, d)
	case "admin":
		return s.admin(t, d)
	case "restart":
		return s.restart(t, d)
	}
	return ddtest.Unknown(t, d)
}

func (s *script) config(t *testing.T, d *datadriven.TestData) string {
	cfg := DefaultConfig()
	if err := setKeys(&cfg, d.CmdArgs); err != "" {
		return err
	}
	s.cfg, s.det, s.obs, s.lastFix = cfg, NewDetector(cfg), Observation{}, nil
	return ""
}

func setKeys(cfg *Config, args []datadriven.CmdArg) string {
	for _, a := range args {
		if a.Key == "t" {
			continue
		}
		if ok, err := cfg.Set(a.Key, strings.Join(a.Vals, ",")); !ok || err != nil {
			return fmt.Sprintf("error: %s: known %t, %v", a.Key, ok, err)
		}
	}
	return ""
}

// admin switches self-healing per type, as the admin endpoint does.
func (s *script) admin(t *testing.T, d *datadriven.TestData) string {
	for _, a := range d.CmdArgs {
		for _, v := range a.Vals {
			typ, err := ParseType(v)
			if err != nil {
				t.Fatal(err)
			}
			s.det.SetHealing(typ, a.Key == "enable")
		}
	}
	return s.healing()
}

func (s *script) healing() string {
	var on, off []string
	for _, typ := range Types {
		if s.det.cfg.Healing(typ) {
			on = append(on, typ.String())
		} else {
			off = append(off, typ.String())
		}
	}
	return fmt.Sprintf("self-healing on: %s; off: %s\n", strings.Join(on, ","), strings.Join(off, ","))
}

// restart carries the detector's record through the history file's
// encoding into a new detector, as a restarted collector does.
func (s *script) restart(t *testing.T, d *datadriven.TestData) string {
	now := clock.At(t, d, "t")
	rec := s.det.record()
	b, err := encodeHistory(&rec)
	if err != nil {
		t.Fatal(err)
	}
	var back historyRecord
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	cfg := s.cfg
	if err := setKeys(&cfg, d.CmdArgs); err != "" {
		return err
	}
	s.cfg, s.det, s.lastFix = cfg, NewDetector(cfg), nil
	summary := s.det.restore(&back, now)
	return "restored " + summary + "\n" + s.healing() + s.render(now)
}

func (s *script) metadata(t *testing.T, d *datadriven.TestData) {
	s.obs.Alive = map[int32]bool{}
	for _, a := range d.CmdArgs {
		if a.Key == "alive" {
			for _, id := range ddtest.Int32s(t, a.Vals) {
				s.obs.Alive[id] = true
			}
		}
	}
	s.obs.Partitions = []PartitionState{}
	s.obs.MinISR = map[string]int{}
	for _, line := range ddtest.Lines(d.Input) {
		name, args, err := datadriven.ParseLine(line)
		if err != nil {
			t.Fatal(err)
		}
		i := strings.LastIndex(name, "-")
		p := PartitionState{Topic: name[:i], Partition: int32(ddtest.Atoi(t, name[i+1:]))}
		for _, a := range args {
			switch a.Key {
			case "replicas":
				p.Replicas = ddtest.Int32s(t, a.Vals)
			case "isr":
				p.ISR = ddtest.Int32s(t, a.Vals)
			case "minisr":
				s.obs.MinISR[p.Topic] = ddtest.Atoi(t, a.Vals[0])
			}
		}
		if p.ISR == nil {
			p.ISR = p.Replicas
		}
		s.obs.Partitions = append(s.obs.Partitions, p)
	}
}

func (s *script) logdirs(t *testing.T, d *datadriven.TestData) {
	s.obs.LogDirs = map[int32][]LogDir{}
	for _, line := range ddtest.Lines(d.Input) {
		f := strings.Fields(line)
		id := int32(ddtest.Atoi(t, f[0]))
		for _, dir := range f[1:] {
			path, state, _ := strings.Cut(dir, "=")
			s.obs.LogDirs[id] = append(s.obs.LogDirs[id], LogDir{Path: path, Offline: state == "offline"})
		}
	}
}

func (s *script) proposal(t *testing.T, d *datadriven.TestData) {
	p := &model.Proposal{}
	for _, line := range ddtest.Lines(d.Input) {
		f := strings.Fields(line)
		before, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			t.Fatal(err)
		}
		p.Goals = append(p.Goals, model.GoalResult{Goal: f[0], Status: f[1], Before: before})
	}
	s.obs.Proposal, s.obs.ProposalTime, s.obs.Model = p, clock.At(t, d, "t"), &model.Cluster{}
}

func (s *script) step(t *testing.T, d *datadriven.TestData) string {
	s.obs.Time = clock.At(t, d, "t")
	s.obs.Executing, s.obs.ExecutorTask, s.obs.ExecutorRecovering = false, "", false
	for _, a := range d.CmdArgs {
		switch a.Key {
		case "executing":
			s.obs.Executing, s.obs.ExecutorTask = true, a.Vals[0]
		case "recovering":
			s.obs.ExecutorRecovering = true
		}
	}
	s.lastFix = s.det.Step(&s.obs)
	var sb strings.Builder
	if s.lastFix == nil {
		sb.WriteString("fix: none\n")
	} else {
		fmt.Fprintf(&sb, "fix: %s (%s)\n", s.lastFix.AnomalyID, s.lastFix)
	}
	return sb.String() + s.render(s.obs.Time)
}

func (s *script) outcome(t *testing.T, d *datadriven.TestData) string {
	now := clock.At(t, d, "t")
	if s.lastFix == nil {
		return "error: no fix to report on\n"
	}
	if d.Cmd == "started" {
		s.det.Started(s.lastFix, "moves", now)
	} else {
		var status string
		d.ScanArgs(t, "status", &status)
		s.det.NotStarted(s.lastFix, Status(status), "reported", now)
	}
	return s.render(now)
}

// render lists every kept anomaly, oldest first, and the counters.
func (s *script) render(now time.Time) string {
	st := s.det.State(now)
	var sb strings.Builder
	for _, a := range reversed(st.History()) {
		fmt.Fprintf(&sb, "%s %s", a.ID, a.Status)
		if a.Note != "" {
			fmt.Fprintf(&sb, ": %s", a.Note)
		}
		if !a.Resolved.IsZero() {
			fmt.Fprintf(&sb, " [resolved %s]", clock.Since(a.Resolved))
		}
		fmt.Fprintf(&sb, "\n  %s\n", a.Description)
	}
	fmt.Fprintf(&sb, "started %d, failed to start %d", st.NumSelfHealingStarted, st.NumSelfHealingFailedToStart)
	if st.Ongoing != nil {
		fmt.Fprintf(&sb, ", ongoing %s", st.Ongoing.ID)
	}
	return sb.String() + "\n"
}

func reversed(as []Anomaly) []Anomaly {
	out := make([]Anomaly, len(as))
	for i, a := range as {
		out[len(as)-1-i] = a
	}
	return out
}
