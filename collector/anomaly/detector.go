package anomaly

import (
	"fmt"
	"slices"
	"time"

	"github.com/weirhq/weir/collector/model"
)

// Detector is the anomaly detector's and the healer's pure core, etcd-raft
// style: Step takes one round's observation and returns the fix to start
// now, if any; the loop (Manager) does the I/O and reports the outcome
// with Started or NotStarted. Time comes only from the observations.
//
// Per type there is at most one open anomaly: the condition a detector
// reports, identified by its key (the failed brokers, the violated goals
// …). A new key resolves the open anomaly and opens a new one; no
// finding resolves it. Each round every open anomaly gets a status, in
// priority order (BROKER_FAILURE first), by these rules:
//
//  1. its fix is running: FIX_STARTED;
//  2. before its alert time: CHECK_WITH_DELAY;
//  3. its detector found no fix (beyond the fixable broker limits, a goal
//     the proposal cannot fix …), or self-healing is off for its type:
//     IGNORED;
//  4. while a broker failure is open (for the other types), before its
//     healing time, while the executor recovers the previous run's
//     execution, while any execution runs (ours or an
//     operator's), within self.healing.cooldown.ms of the end of the last
//     self-healing execution (or of a failed attempt), or while another
//     anomaly's fix is chosen this round: CHECK_WITH_DELAY;
//  5. otherwise its fix is returned; the loop plans it on a fresh model
//     and reports FIX_STARTED, FIX_FAILED_TO_START, LOAD_MONITOR_NOT_READY
//     (no valid model yet: tried again next round) or IGNORED (nothing to
//     move).
//
// An anomaly whose fix ran keeps FIX_STARTED while it waits for a retry;
// one whose fix failed to start keeps FIX_FAILED_TO_START and the error.
// An anomaly resolved without a fix started becomes IGNORED, its note
// saying it cleared on its own: a broker back before
// broker.failure.self.healing.threshold.ms costs nothing.
//
// A restarted collector restores the detector's memory (restore, in
// history.go); a fix that was running then is settled by resume at the
// first round after the executor has recovered.
type Detector struct {
	cfg Config
	// configHealing is each type's self-healing as the configuration set
	// it, before any SetHealing: the history file keeps the switches that
	// differ from it.
	configHealing [NumTypes]bool
	failedSince   map[int32]time.Time
	open          [NumTypes]*Anomaly
	recent        [NumTypes][]*Anomaly // oldest first, at most cfg.RecentAnomalies
	seq           int
	pending       *Anomaly // the fix Step returned, not yet reported
	ongoing       *Anomaly // the anomaly whose fix's execution runs
	resuming      *Anomaly // restored with its fix's execution running; settled once the executor has recovered
	lastFixEnd    time.Time
	stats         stats
}

// stats are the detector's counters, Cruise Control's AnomalyMetrics.
type stats struct {
	detected         [NumTypes]int
	firstDetected    [NumTypes]time.Time
	lastDetected     [NumTypes]time.Time
	started          [NumTypes]int
	failedToStart    int
	timeToStartTotal time.Duration
}

// NewDetector returns a detector with cfg (a whole Config: start from
// DefaultConfig).
func NewDetector(cfg Config) *Detector {
	d := &Detector{cfg: cfg, failedSince: map[int32]time.Time{}}
	for _, t := range Types {
		d.configHealing[t] = cfg.Healing(t)
	}
	return d
}

// Step runs every detector on o, updates the anomalies and their
// statuses, and returns the fix to start now, or nil.
func (d *Detector) Step(o *Observation) *Fix {
	d.resume(o)
	d.trackExecution(o)
	fresh := !o.ProposalTime.IsZero() && o.ProposalTime.After(d.lastFixEnd) && d.ongoing == nil && !hasDead(o.Model)
	for t, f := range d.detect(o, fresh) {
		if f.known {
			d.reconcile(Type(t), f.finding, o.Time)
		}
	}
	return d.decide(o)
}

// round is one detector's answer: known false means it could not judge
// this round, and the open anomaly stays as it is.
type round struct {
	finding *finding
	known   bool
}

func (d *Detector) detect(o *Observation, fresh bool) [NumTypes]round {
	var r [NumTypes]round
	if o.Partitions != nil {
		r[BrokerFailure] = round{brokerFailures(o, d.failedSince, &d.cfg), true}
	}
	r[DiskFailure].finding, r[DiskFailure].known = diskFailures(o, &d.cfg, fresh)
	r[MetricAnomaly].finding, r[MetricAnomaly].known = metricAnomalies(o, &d.cfg, fresh)
	// A full disk is DiskCapacityGoal's violation too: reported once, as
	// the DISK_FAILURE.
	full := r[DiskFailure].finding != nil && r[DiskFailure].finding.full
	r[GoalViolation].finding, r[GoalViolation].known = goalViolations(o, &d.cfg, fresh, full)
	r[TopicAnomaly].finding, r[TopicAnomaly].known = topicAnomalies(o)
	return r
}

// hasDead reports whether c has a Dead broker: a model-based detector
// then judges nothing (Cruise Control's rule: any plan on that model
// moves the dead brokers' replicas, which is the broker failure's fix and
// its threshold's to decide).
func hasDead(c *model.Cluster) bool {
	if c == nil {
		return false
	}
	return slices.ContainsFunc(c.Brokers, func(b model.Broker) bool { return b.State == model.Dead })
}

// trackExecution ends the ongoing fix once the executor no longer runs
// its task.
func (d *Detector) trackExecution(o *Observation) {
	a := d.ongoing
	if a == nil || (o.Executing && o.ExecutorTask == a.FixTaskID) {
		return
	}
	a.FixEnded, d.lastFixEnd, d.ongoing = o.Time, o.Time, nil
	if a.Status == FixStarted {
		a.Note = fmt.Sprintf("fix executed (task %s) in %.1f s", a.FixTaskID, a.FixEnded.Sub(a.FixStarted).Seconds())
		if !a.Interrupted.IsZero() {
			a.Note += fmt.Sprintf(", across a collector restart at %s (the executor finished the moves in flight then; it restarted none of the others)", stamp(a.Interrupted))
		}
	}
}

// reconcile matches this round's finding of type t with the open anomaly.
func (d *Detector) reconcile(t Type, f *finding, now time.Time) {
	a := d.open[t]
	if a != nil && f == nil {
		d.resolve(a, now, fmt.Sprintf("cleared after %.1f s, before any fix: nothing moved", now.Sub(a.Detected).Seconds()))
		return
	}
	if f == nil {
		return
	}
	if a != nil && f.key != a.findingKey {
		old := a
		a = d.openAnomaly(f, now)
		d.resolve(old, now, "superseded by "+a.ID)
	}
	if a == nil {
		a = d.openAnomaly(f, now)
	}
	a.Description, a.FailedBrokers, a.Brokers, a.Goals, a.Partitions = f.description, f.failed, f.brokers, f.goals, f.partitions
	a.Fixable, a.finding = f.fix != nil, f
}

func (d *Detector) openAnomaly(f *finding, now time.Time) *Anomaly {
	d.seq++
	a := &Anomaly{ID: fmt.Sprintf("%s-%d", f.typ, d.seq), Type: f.typ, Detected: now, Status: Detected, StatusUpdated: now, findingKey: f.key}
	d.open[f.typ] = a
	d.recent[f.typ] = append(d.recent[f.typ], a)
	if n := len(d.recent[f.typ]) - d.cfg.RecentAnomalies; n > 0 {
		d.recent[f.typ] = slices.Delete(d.recent[f.typ], 0, n)
	}
	s := &d.stats
	if s.detected[f.typ] == 0 {
		s.firstDetected[f.typ] = now
	}
	s.detected[f.typ]++
	s.lastDetected[f.typ] = now
	return a
}

// resolve closes a; one that never had a fix started becomes IGNORED
// with note (cleared on its own, or superseded by a new condition).
func (d *Detector) resolve(a *Anomaly, now time.Time, note string) {
	a.Resolved = now
	if d.open[a.Type] == a {
		d.open[a.Type] = nil
	}
	if a.Attempts == 0 && a.Status != FixStarted {
		a.setStatus(Ignored, note, now)
	}
	a.finding = nil
}

// decide gives each open anomaly its status and returns the first fix due.
func (d *Detector) decide(o *Observation) *Fix {
	var fix *Fix
	for _, t := range Types {
		a := d.open[t]
		if a == nil || a == d.ongoing || a.finding == nil {
			continue // nil finding: restored, not judged since the restart
		}
		s, note := d.rule(a, o, fix != nil)
		switch {
		case s == CheckWithDelay && a.Status == FixStarted:
			continue // its fix ran; the condition is judged again when a retry is due
		case s == CheckWithDelay && a.Status == FixFailedToStart:
			s, note = FixFailedToStart, a.LastError+"; "+note
		}
		if s == "" {
			f := *a.finding.fix
			f.AnomalyID = a.ID
			fix, d.pending = &f, a
			a.setStatus(a.Status, "planning the fix", o.Time)
			continue
		}
		a.setStatus(s, note, o.Time)
	}
	return fix
}

// rule is the status the rules give a this round, or "" when its fix is
// to start now.
func (d *Detector) rule(a *Anomaly, o *Observation, chosen bool) (Status, string) {
	f, now := a.finding, o.Time
	// Rounds come every Interval; one a few milliseconds early must not
	// put a threshold off by a whole interval.
	soon := now.Add(d.cfg.Interval / 10)
	switch {
	case soon.Before(f.alertAt):
		return CheckWithDelay, "alerting at " + stamp(f.alertAt)
	case f.fix == nil:
		return Ignored, f.noFix
	case !d.cfg.Healing(a.Type):
		return Ignored, fmt.Sprintf("self-healing is off for %s", a.Type)
	case a.Type != BrokerFailure && d.open[BrokerFailure] != nil:
		return CheckWithDelay, "waiting for the broker failure to be healed or to clear"
	case soon.Before(f.dueAt):
		return CheckWithDelay, "self-healing at " + stamp(f.dueAt)
	case o.ExecutorRecovering:
		return CheckWithDelay, "waiting for the executor to recover the previous run's execution"
	case o.Executing:
		return CheckWithDelay, fmt.Sprintf("waiting for execution %s to end", o.ExecutorTask)
	case !d.lastFixEnd.IsZero() && now.Before(d.lastFixEnd.Add(d.cfg.Cooldown)):
		return CheckWithDelay, "self.healing.cooldown.ms: next fix at " + stamp(d.lastFixEnd.Add(d.cfg.Cooldown))
	case chosen:
		return CheckWithDelay, "waiting for the fix of a higher-priority anomaly"
	}
	return "", ""
}

// Started records that the fix's execution started at now, moving what
// note says.
func (d *Detector) Started(f *Fix, note string, now time.Time) {
	a := d.take(f)
	if a == nil {
		return
	}
	a.setStatus(FixStarted, note, now)
	a.FixStarted, a.FixTaskID, a.FixEnded, a.Interrupted = now, f.TaskID(), time.Time{}, time.Time{}
	a.Attempts++
	d.ongoing = a
	d.stats.started[a.Type]++
	d.stats.timeToStartTotal += now.Sub(a.Detected)
}

// NotStarted records a fix that did not start: status is
// LoadMonitorNotReady (tried again next round), FixFailedToStart or
// Ignored (nothing to move); the latter two wait out the cooldown.
func (d *Detector) NotStarted(f *Fix, status Status, note string, now time.Time) {
	a := d.take(f)
	if a == nil {
		return
	}
	a.setStatus(status, note, now)
	if status == FixFailedToStart {
		d.stats.failedToStart++
		a.LastError = note
	}
	if status != LoadMonitorNotReady {
		d.lastFixEnd = now
	}
}

func (d *Detector) take(f *Fix) *Anomaly {
	a := d.pending
	if a == nil || a.ID != f.AnomalyID {
		return nil
	}
	d.pending = nil
	return a
}

func stamp(t time.Time) string { return t.UTC().Format("15:04:05.000") }

// SetHealing turns self-healing for t on or off (the admin endpoint's
// enable/disable_self_healing_for); it returns whether it was on.
func (d *Detector) SetHealing(t Type, on bool) bool {
	was := d.cfg.Healing(t)
	d.cfg.SetHealing(t, on)
	return was
}
