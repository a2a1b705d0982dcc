package anomaly

import (
	"fmt"
	"time"
)

// Type is one of Cruise Control's anomaly types.
type Type uint8

// The anomaly types, in Cruise Control's priority order: when several are
// due, the first is fixed first.
const (
	BrokerFailure Type = iota
	MaintenanceEvent
	DiskFailure
	MetricAnomaly
	GoalViolation
	TopicAnomaly
	NumTypes = 6
)

// Types lists every type in priority order.
var Types = [NumTypes]Type{BrokerFailure, MaintenanceEvent, DiskFailure, MetricAnomaly, GoalViolation, TopicAnomaly}

var typeNames = [NumTypes]string{"BROKER_FAILURE", "MAINTENANCE_EVENT", "DISK_FAILURE", "METRIC_ANOMALY", "GOAL_VIOLATION", "TOPIC_ANOMALY"}

// String is Cruise Control's name of the type.
func (t Type) String() string {
	if t < NumTypes {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", t)
}

// Status is Cruise Control's AnomalyState.Status.
type Status string

// The statuses an anomaly goes through.
const (
	// Detected: seen, nothing decided yet.
	Detected Status = "DETECTED"
	// CheckWithDelay: seen; the fix waits (a threshold not reached, an
	// execution running, the cooldown). Note says for what.
	CheckWithDelay Status = "CHECK_WITH_DELAY"
	// Ignored: no fix will be made (self-healing off for the type, beyond
	// the safety limits, nothing to move, or gone before its fix).
	Ignored Status = "IGNORED"
	// FixStarted: the fix's execution was started.
	FixStarted Status = "FIX_STARTED"
	// FixFailedToStart: planning or starting the execution failed.
	FixFailedToStart Status = "FIX_FAILED_TO_START"
	// LoadMonitorNotReady: a fix was due but the load model is not ready.
	LoadMonitorNotReady Status = "LOAD_MONITOR_NOT_READY"
)

// Anomaly is one anomaly as the history keeps it: what was seen, what was
// done and when.
type Anomaly struct {
	ID   string
	Type Type
	// Description says what was seen, in a sentence.
	Description string
	Detected    time.Time
	Status      Status
	// StatusUpdated is when Status last changed.
	StatusUpdated time.Time
	// Note says why the status is what it is (what the fix waits for, why
	// it was ignored or failed to start, what the fix moves).
	Note string
	// FailedBrokers are a broker failure's brokers by the time each was
	// first seen dead; Brokers the brokers a disk failure or a metric
	// anomaly is about.
	FailedBrokers map[int32]time.Time
	Brokers       []int32
	// Goals are a goal violation's violated goals; Partitions a topic
	// anomaly's partitions ("topic-partition").
	Goals      []string
	Partitions []string
	// LastError is why the last fix failed to start ("" if none did).
	LastError string
	// Fixable is whether the detector found a fix (whether or not
	// self-healing is on for the type); Note says why not.
	Fixable bool
	// FixStarted is when the fix's execution started, FixTaskID its
	// executor task, FixEnded when that execution finished (zero while it
	// runs or when there was none); Attempts counts the fixes started.
	FixStarted time.Time
	FixTaskID  string
	FixEnded   time.Time
	Attempts   int
	// Interrupted is when a restart of the collector found this fix's
	// execution running (zero otherwise): the executor adopts what was
	// in flight, Note says what became of it.
	Interrupted time.Time
	// Resolved is when the condition was first seen gone (zero while it
	// lasts).
	Resolved time.Time

	findingKey string   // the detector's key for the condition
	finding    *finding // this round's finding; nil once resolved
}

// Open reports whether the anomaly's condition still holds.
func (a *Anomaly) Open() bool { return a.Resolved.IsZero() }

func (a *Anomaly) clone() Anomaly {
	out := *a
	out.finding = nil
	if a.FailedBrokers != nil {
		out.FailedBrokers = make(map[int32]time.Time, len(a.FailedBrokers))
		for k, v := range a.FailedBrokers {
			out.FailedBrokers[k] = v
		}
	}
	return out
}

// setStatus changes the status and note, recording when the status changed.
func (a *Anomaly) setStatus(s Status, note string, now time.Time) {
	if a.Status != s {
		a.StatusUpdated = now
	}
	a.Status, a.Note = s, note
}
