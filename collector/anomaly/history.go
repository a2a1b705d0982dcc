package anomaly

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// historyVersion is the history file's format version; a file of another
// version is unreadable (moved aside, not guessed at).
const historyVersion = 1

// historyRecord is what the history file holds (anomalies.json under
// data.dir): the detector's memory that must outlive the process. JSON,
// snake_case keys as in the executor's state file:
//
//	version         1
//	seq             the number of the last anomaly opened (IDs are TYPE-seq)
//	last_fix_end    when the last self-healing execution (or failed attempt) ended: the cooldown's start
//	failed_brokers  broker id -> when it was first seen dead (Cruise Control's failed.brokers.file.path)
//	self_healing    type -> on/off, the admin endpoint's switches that differ from the configuration
//	anomalies       per type in priority order, oldest first, at most num.cached.recent.anomaly.states each
//
// Counters (numSelfHealingStarted, the mean times) are not kept: they
// count since the start, like the Prometheus series.
type historyRecord struct {
	Version       int                 `json:"version"`
	Seq           int                 `json:"seq"`
	LastFixEnd    time.Time           `json:"last_fix_end,omitzero"`
	FailedBrokers map[int32]time.Time `json:"failed_brokers,omitempty"`
	SelfHealing   map[string]bool     `json:"self_healing,omitempty"`
	Anomalies     []anomalyRecord     `json:"anomalies"`
}

// anomalyRecord is one Anomaly in the file. Key is the detector's key for
// the condition, kept while the anomaly is open so that the same
// condition seen after a restart continues the same anomaly. A fix
// started and not ended (fix_started set, fix_ended zero) is the one
// whose execution was running.
type anomalyRecord struct {
	ID            string              `json:"id"`
	Type          string              `json:"type"`
	Description   string              `json:"description"`
	Detected      time.Time           `json:"detected"`
	Status        Status              `json:"status"`
	StatusUpdated time.Time           `json:"status_updated"`
	Note          string              `json:"note,omitempty"`
	FailedBrokers map[int32]time.Time `json:"failed_brokers,omitempty"`
	Brokers       []int32             `json:"brokers,omitempty"`
	Goals         []string            `json:"goals,omitempty"`
	Partitions    []string            `json:"partitions,omitempty"`
	LastError     string              `json:"last_error,omitempty"`
	Fixable       bool                `json:"fixable,omitempty"`
	FixStarted    time.Time           `json:"fix_started,omitzero"`
	FixTaskID     string              `json:"fix_task_id,omitempty"`
	FixEnded      time.Time           `json:"fix_ended,omitzero"`
	Attempts      int                 `json:"attempts,omitempty"`
	Resolved      time.Time           `json:"resolved,omitzero"`
	Interrupted   time.Time           `json:"interrupted,omitzero"`
	Key           string              `json:"key,omitempty"`
}

// record is the detector's memory as the history file keeps it.
func (d *Detector) record() historyRecord {
	r := historyRecord{Version: historyVersion, Seq: d.seq, LastFixEnd: d.lastFixEnd, Anomalies: []anomalyRecord{}}
	if len(d.failedSince) > 0 {
		r.FailedBrokers = maps.Clone(d.failedSince)
	}
	for _, t := range Types {
		if on := d.cfg.Healing(t); on != d.configHealing[t] {
			if r.SelfHealing == nil {
				r.SelfHealing = map[string]bool{}
			}
			r.SelfHealing[t.String()] = on
		}
		for _, a := range d.recent[t] {
			r.Anomalies = append(r.Anomalies, recordOf(a))
		}
	}
	return r
}

func recordOf(a *Anomaly) anomalyRecord {
	r := anomalyRecord{ID: a.ID, Type: a.Type.String(), Description: a.Description, Detected: a.Detected,
		Status: a.Status, StatusUpdated: a.StatusUpdated, Note: a.Note, FailedBrokers: a.FailedBrokers,
		Brokers: a.Brokers, Goals: a.Goals, Partitions: a.Partitions, LastError: a.LastError, Fixable: a.Fixable,
		FixStarted: a.FixStarted, FixTaskID: a.FixTaskID, FixEnded: a.FixEnded, Attempts: a.Attempts,
		Resolved: a.Resolved, Interrupted: a.Interrupted}
	if a.Open() {
		r.Key = a.findingKey
	}
	return r
}

func (r *anomalyRecord) anomaly(t Type) *Anomaly {
	return &Anomaly{ID: r.ID, Type: t, Description: r.Description, Detected: r.Detected, Status: r.Status,
		StatusUpdated: r.StatusUpdated, Note: r.Note, FailedBrokers: r.FailedBrokers, Brokers: r.Brokers,
		Goals: r.Goals, Partitions: r.Partitions, LastError: r.LastError, Fixable: r.Fixable,
		FixStarted: r.FixStarted, FixTaskID: r.FixTaskID, FixEnded: r.FixEnded, Attempts: r.Attempts,
		Resolved: r.Resolved, Interrupted: r.Interrupted, findingKey: r.Key}
}

// restore loads r into a new detector at now (the restart), returning
// what it did in a sentence for the log. Per type the newest
// num.cached.recent.anomaly.states anomalies are kept; the newest open
// one stays open (the first round that judges its type continues it,
// resolves it or supersedes it), older open ones are closed. A fix whose
// execution was running is marked interrupted at now and settled once the
// executor has recovered (resume). Self-healing switches equal to the
// configuration's are dropped: the configuration now says the same.
func (d *Detector) restore(r *historyRecord, now time.Time) string {
	var skipped []string
	for _, ar := range r.Anomalies {
		t, err := ParseType(ar.Type)
		if err != nil || ar.ID == "" {
			skipped = append(skipped, ar.ID)
			continue
		}
		d.recent[t] = append(d.recent[t], ar.anomaly(t))
		d.seq = max(d.seq, idSeq(ar.ID))
	}
	d.seq = max(d.seq, r.Seq)
	d.lastFixEnd = r.LastFixEnd
	for id, at := range r.FailedBrokers {
		d.failedSince[id] = at
	}
	for _, t := range Types {
		d.restoreType(t, now)
	}
	switches := d.restoreSwitches(r.SelfHealing)
	return d.restoredSummary(skipped, switches)
}

// restoreType trims type t's restored list to the bound and reopens its
// newest open anomaly.
func (d *Detector) restoreType(t Type, now time.Time) {
	if n := len(d.recent[t]) - d.cfg.RecentAnomalies; n > 0 {
		d.recent[t] = slices.Delete(d.recent[t], 0, n)
	}
	for i, a := range slices.Backward(d.recent[t]) {
		if a.FixTaskID != "" && !a.FixStarted.IsZero() && a.FixEnded.IsZero() {
			d.interrupted(a, now)
		}
		if !a.Open() {
			continue
		}
		if i == len(d.recent[t])-1 {
			d.open[t] = a
			continue
		}
		a.Resolved, a.findingKey = now, ""
		a.Note = "closed at a collector restart: a newer anomaly of its type was open"
	}
}

// interrupted marks a's fix as cut off by the restart at now. Only the
// newest such fix can still be running (one runs at a time); another is
// ended at now.
func (d *Detector) interrupted(a *Anomaly, now time.Time) {
	a.Interrupted = now
	if d.resuming != nil && d.resuming.FixStarted.After(a.FixStarted) {
		a.FixEnded = now
		a.Note = fmt.Sprintf("interrupted by a collector restart at %s", stamp(now))
		return
	}
	if d.resuming != nil {
		d.resuming.FixEnded = now
	}
	d.resuming = a
	a.Note = fmt.Sprintf("interrupted by a collector restart at %s while its execution (task %s) ran: waiting for the executor to recover it",
		stamp(now), a.FixTaskID)
}

// resume settles the fix a restart interrupted, at the first round after
// the executor has recovered: if the executor adopted its task (its
// reassignments were still in flight), the fix is the ongoing one again
// and ends as any fix does; otherwise none of its moves was in flight
// (they had finished, or had not started) and the fix ended at the
// restart, which starts the cooldown. Either way the anomaly keeps
// FIX_STARTED (Cruise Control's statuses end there: the fix did start),
// and while its condition lasts the rules retry the fix.
func (d *Detector) resume(o *Observation) {
	a := d.resuming
	if a == nil || o.ExecutorRecovering {
		return
	}
	d.resuming = nil
	if o.Executing && o.ExecutorTask == a.FixTaskID {
		d.ongoing = a
		a.Note = fmt.Sprintf("interrupted by a collector restart at %s; the executor adopted task %s's reassignments in flight and finishes them",
			stamp(a.Interrupted), a.FixTaskID)
		return
	}
	a.FixEnded = a.Interrupted
	if a.Interrupted.After(d.lastFixEnd) {
		d.lastFixEnd = a.Interrupted
	}
	a.Note = fmt.Sprintf("interrupted by a collector restart at %s: none of task %s's moves was in flight then (finished, or not started), so none was resumed",
		stamp(a.Interrupted), a.FixTaskID)
}

// restoreSwitches applies the admin endpoint's switches that still
// differ from the configuration; it returns them as "TYPE=on|off".
func (d *Detector) restoreSwitches(m map[string]bool) []string {
	var out []string
	for _, t := range Types {
		on, ok := m[t.String()]
		if !ok || on == d.configHealing[t] {
			continue
		}
		d.SetHealing(t, on)
		out = append(out, fmt.Sprintf("%s=%s", t, onOff(on)))
	}
	return out
}

func (d *Detector) restoredSummary(skipped, switches []string) string {
	n, open := 0, 0
	for _, t := range Types {
		n += len(d.recent[t])
		if d.open[t] != nil {
			open++
		}
	}
	s := fmt.Sprintf("anomalies: %d kept, %d open", n, open)
	if d.resuming != nil {
		s += fmt.Sprintf("; the fix of %s (task %s) was running", d.resuming.ID, d.resuming.FixTaskID)
	}
	if len(switches) > 0 {
		s += "; self-healing as switched through the admin endpoint: " + strings.Join(switches, ", ")
	}
	if len(skipped) > 0 {
		s += fmt.Sprintf("; %d entries of unknown type skipped (%s)", len(skipped), strings.Join(skipped, ","))
	}
	return s
}

// idSeq is the number at the end of an anomaly ID (TYPE-n), 0 if none.
func idSeq(id string) int {
	i := strings.LastIndexByte(id, '-')
	n, err := strconv.Atoi(id[i+1:])
	if err != nil {
		return 0
	}
	return n
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
