package monitor

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/agent/samples"
	"github.com/weirhq/weir/collector/model"
)

// Monitor keeps the windows of load samples and the cluster's metadata,
// and builds load models from them.
type Monitor struct {
	cfg      Config
	cl       *kgo.Client // the caller's bootstrap client
	adm      *kadm.Client
	logger   *slog.Logger
	capacity *capacityFile // nil without a capacity file
	metrics  *metrics
	now      func() time.Time

	// mu guards the state below; Run's goroutines and the callers of
	// Model, State, Pause and Resume share it. It is the only lock.
	mu struct {
		sync.Mutex
		win        *windows
		meta       *metadata    // nil until the first refresh
		sizes      map[tp]int64 // DescribeLogDirs' partition sizes
		sizesAt    time.Time
		paused     bool
		reason     string
		loading    bool
		accepted   uint64
		rejected   uint64
		lastSample time.Time
		errs       map[string]string // Run's latest failure per operation
	}
}

// New returns a monitor. cl is a bootstrap client without consume options
// (the monitor makes its own consumer from cl.Opts()); reg may be nil. A
// capacity file that does not parse is an error here.
func New(cl *kgo.Client, cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Monitor, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Monitor{cfg: cfg, cl: cl, adm: kadm.NewClient(cl), logger: logger, now: time.Now}
	if cfg.CapacityFile != "" {
		c, err := loadCapacityFile(cfg.CapacityFile)
		if err != nil {
			return nil, err
		}
		m.capacity = c
	}
	m.mu.win = newWindows(cfg)
	m.mu.loading = true
	m.mu.errs = map[string]string{}
	m.metrics = newMetrics(reg, m)
	return m, nil
}

// Model returns the load model as of now: every broker, every partition
// with its load averaged over the valid windows. Before enough windows are
// valid the error is a *NotEnoughDataError.
func (m *Monitor) Model(now time.Time) (*model.Cluster, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return buildModel(modelInput{cfg: m.cfg, now: now, meta: m.mu.meta, win: m.mu.win, sizes: m.mu.sizes, capacity: m.capacity})
}

// ingest adds one record of the samples topic, read at now, or counts why
// not; mu held.
func (m *Monitor) ingest(value []byte, now time.Time) {
	result, reason := resultRejected, m.add(value, now)
	switch reason {
	case reasonBroker, reasonPartition:
		result = resultAccepted
		m.mu.accepted++
	default:
		m.mu.rejected++
	}
	m.metrics.samples.WithLabelValues(result, reason).Inc()
}

// add decodes and adds a sample; it returns the accepted sample's kind or
// the reason it was rejected. mu held.
func (m *Monitor) add(value []byte, now time.Time) string {
	if len(value) > 0 {
		if _, known := samples.SchemaFiles[value[0]]; !known {
			return reasonUnknownSchema
		}
	}
	s, err := samples.Decode(value)
	if err != nil {
		return reasonDecode
	}
	t, cluster := sampleMeta(s)
	if m.cfg.ClusterName != "" && cluster != m.cfg.ClusterName {
		return reasonClusterName
	}
	if m.mu.paused {
		return reasonPaused
	}
	kind, why := reasonPartition, ""
	if s.Broker != nil {
		kind, why = reasonBroker, m.mu.win.addBroker(s.Broker, now)
	} else {
		why = m.mu.win.addPartition(s.Partition, now)
	}
	if why != "" {
		return why
	}
	if t.After(m.mu.lastSample) {
		m.mu.lastSample = t
	}
	return kind
}

func sampleMeta(s samples.Sample) (time.Time, string) {
	if s.Broker != nil {
		return s.Broker.Time, s.Broker.ClusterName
	}
	return s.Partition.Time, s.Partition.ClusterName
}

// setErr records the latest failure of one of Run's operations, or its
// recovery (nil), and logs a failure.
func (m *Monitor) setErr(what string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err == nil {
		delete(m.mu.errs, what)
		return
	}
	m.mu.errs[what] = fmt.Sprintf("%s: %v", what, err)
	m.logger.Warn(what, "err", err)
}

// errString joins the current failures; mu held.
func (m *Monitor) errString() string {
	return strings.Join(slices.Sorted(maps.Values(m.mu.errs)), "; ")
}
