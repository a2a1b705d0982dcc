package anomaly

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/weirhq/weir/collector/executor"
	"github.com/weirhq/weir/collector/model"
	"github.com/weirhq/weir/collector/monitor"
	"github.com/weirhq/weir/collector/planner"
)

// Monitor is the load monitor as the healer uses it (*monitor.Monitor).
type Monitor interface {
	Model(now time.Time) (*model.Cluster, error)
	RefreshMetadata(ctx context.Context) error
}

// Executor is the executor as the healer uses it (*executor.Executor).
type Executor interface {
	Execute(executor.Request) error
	State() executor.State
}

// Options configure a Manager.
type Options struct {
	Config   Config
	Planner  planner.Config // the thresholds fixes are planned with
	Monitor  Monitor
	Executor Executor
	Admin    *kadm.Client // metadata, log dirs, topic configs
	// Proposal returns the API's latest default-goal proposal, the model
	// it was computed on and when (nils before the first).
	Proposal func() (*model.Cluster, *model.Proposal, time.Time)
	// HistoryFile is where the history, the brokers' failure times and
	// the admin endpoint's switches are kept across restarts (the
	// collector's data.dir/anomalies.json); "": in memory only.
	HistoryFile string
	Logger      *slog.Logger
	Registerer  prometheus.Registerer
	Now         func() time.Time
}

// Manager runs the detector every anomaly.detection.interval.ms: it
// observes the cluster, steps the Detector, and carries out the fix it
// returns (plan on a fresh model, hand the moves to the executor).
type Manager struct {
	o       Options
	logger  *slog.Logger
	metrics *metrics
	file    *historyFile // nil: no history file

	// Owned by Run's goroutine: the slower reads, kept between rounds.
	logDirs   map[int32][]LogDir
	logDirsAt time.Time
	minISR    map[string]int
	minISRAt  time.Time

	// mu guards the detector: Run steps it, State reads it.
	mu struct {
		sync.Mutex
		det *Detector
	}
}

// New returns a Manager; nothing runs until Run.
func New(o Options) (*Manager, error) {
	if err := o.Config.Validate(); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{o: o, logger: o.Logger, metrics: newMetrics(o.Registerer)}
	m.mu.det = NewDetector(o.Config)
	if o.HistoryFile != "" {
		m.file = &historyFile{path: o.HistoryFile}
		m.load()
	}
	return m, nil
}

// Run detects and heals every interval until ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	t := time.NewTicker(m.o.Config.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		m.round(ctx)
	}
}

// round runs one detection round and starts the fix it decides on. The
// reads get a few intervals at most: a cluster that does not answer
// leaves this round's parts unknown, not the loop stuck.
func (m *Manager) round(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, max(5*time.Second, 3*m.o.Config.Interval))
	o := m.observe(rctx)
	cancel()
	m.mu.Lock()
	fix := m.mu.det.Step(&o)
	st := m.mu.det.State(o.Time)
	m.mu.Unlock()
	m.metrics.update(&st, m.logger)
	m.save()
	if fix != nil {
		m.heal(ctx, fix)
	}
}

// heal plans fix on a fresh model and starts its execution, reporting the
// outcome to the detector.
func (m *Manager) heal(ctx context.Context, fix *Fix) {
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	status, note := m.startFix(hctx, fix)
	cancel()
	now := m.o.Now()
	m.mu.Lock()
	if status == FixStarted {
		m.mu.det.Started(fix, note, now)
	} else {
		m.mu.det.NotStarted(fix, status, note, now)
	}
	st := m.mu.det.State(now)
	m.mu.Unlock()
	m.metrics.update(&st, m.logger)
	m.save()
	level := slog.LevelInfo
	if status == FixFailedToStart {
		level = slog.LevelWarn
	}
	m.logger.Log(ctx, level, "self-healing", "anomaly", fix.AnomalyID, "status", status, "note", note, "fix", fix.String())
}

func (m *Manager) startFix(ctx context.Context, fix *Fix) (Status, string) {
	if err := m.o.Monitor.RefreshMetadata(ctx); err != nil {
		return FixFailedToStart, err.Error()
	}
	c, err := m.o.Monitor.Model(m.o.Now())
	var ne *monitor.NotEnoughDataError
	if errors.As(err, &ne) {
		return LoadMonitorNotReady, err.Error()
	}
	if err != nil {
		return FixFailedToStart, err.Error()
	}
	prop, err := fix.Plan(c, m.o.Planner)
	if err != nil {
		return FixFailedToStart, err.Error()
	}
	if len(prop.Moves) == 0 {
		return Ignored, "the plan on the current model moves nothing"
	}
	if err := m.o.Executor.Execute(executor.Request{TaskID: fix.TaskID(), Moves: prop.Moves}); err != nil {
		return FixFailedToStart, fmt.Sprintf("starting the execution: %v", err)
	}
	return FixStarted, fmt.Sprintf("task %s: %d replica moves, %d leader moves, %.1f MB to copy",
		fix.TaskID(), prop.ReplicaMoves(), prop.LeaderMoves(), prop.DataToMove/(1<<20))
}

// State returns the detector's snapshot.
func (m *Manager) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.det.State(m.o.Now())
}

// Recent returns every kept anomaly, newest first, with what was done and
// when: the history the control plane shows.
func (m *Manager) Recent() []Anomaly {
	st := m.State()
	return st.History()
}

// SetSelfHealing turns self-healing on for the types in enable and off
// for those in disable (Cruise Control's admin endpoint), returning each
// type's setting before and after. The control plane turns
// BROKER_FAILURE off around rolling restarts that may keep a broker down
// longer than broker.failure.self.healing.threshold.ms. With a history
// file the switches are saved before it returns, so a restart keeps them
// (the configuration's own values are not saved: see restoreSwitches).
func (m *Manager) SetSelfHealing(enable, disable []Type) (before, after [NumTypes]bool) {
	before, after = m.setSelfHealing(enable, disable)
	m.save()
	return before, after
}

func (m *Manager) setSelfHealing(enable, disable []Type) (before, after [NumTypes]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range Types {
		before[t] = m.mu.det.cfg.Healing(t)
	}
	for _, t := range enable {
		m.mu.det.SetHealing(t, true)
	}
	for _, t := range disable {
		m.mu.det.SetHealing(t, false)
	}
	for _, t := range Types {
		after[t] = m.mu.det.cfg.Healing(t)
	}
	m.logger.Info("self-healing changed", "enabled", enable, "disabled", disable)
	return before, after
}
