package monitor

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Config is the monitor's configuration. Set takes Cruise Control's key
// names; the fields say which.
type Config struct {
	Topic string // metric.reporter.topic: the samples topic

	PartitionWindow              time.Duration // partition.metrics.window.ms
	NumPartitionWindows          int           // num.partition.metrics.windows: completed windows kept
	MinSamplesPerPartitionWindow int           // min.samples.per.partition.metrics.window

	BrokerWindow              time.Duration // broker.metrics.window.ms
	NumBrokerWindows          int           // num.broker.metrics.windows
	MinSamplesPerBrokerWindow int           // min.samples.per.broker.metrics.window

	MinValidPartitionRatio float64 // min.valid.partition.ratio
	// MinValidWindows is how many completed valid windows a model needs
	// (min.valid.windows, Weir's).
	MinValidWindows int
	// MetadataRefresh is how often the cluster's metadata is read
	// (metadata.max.age.ms).
	MetadataRefresh time.Duration

	// CapacityFile is Cruise Control's capacity.json or capacityJBOD.json
	// (capacity.config.file); brokers it names, and every broker when it
	// has the default entry "-1", take its capacity over the agents'.
	CapacityFile string
	// DefaultNetworkCapacity is each direction's network capacity in
	// bytes/s of a broker whose agent reports no link speed (a loopback
	// listener, a v1 sample) and that the file does not name
	// (default.network.capacity.bytes.per.sec; 125e6 = 1 Gbit/s).
	DefaultNetworkCapacity float64
	// DefaultCPUCores is the CPU capacity of a broker without a v2 sample
	// (default.cpu.cores), and what "CPU": "100" in a capacity file means
	// for a broker whose agent did not say.
	DefaultCPUCores float64
	// ClusterName, when set, rejects samples from agents of another
	// cluster (cluster.name); empty accepts any.
	ClusterName string
	// MaxFutureSkew is how far past now a sample's time may be before it
	// is rejected (max.sample.future.skew.ms, Weir's).
	MaxFutureSkew time.Duration
}

// DefaultConfig sizes the windows so that `make run` (agents sampling
// every 5 s, cluster/agent.go) has a valid model within a minute:
//
//   - 15 s windows, one sample a partition each (Cruise Control's
//     min.samples default): an agent's 5 s period puts three samples in
//     each, so one late or lost sample never invalidates a window;
//   - one valid window needed: the agents' first samples land within 5 s
//     of their start, the window they fall in closes at most 15 s later,
//     so the first model exists 5–20 s after the agents start (about 25 s
//     after `make run`, with the brokers' start);
//   - 8 windows kept: the load averages the last 2 minutes, long enough to
//     smooth a 5 s sampler, short enough to follow a change quickly. A
//     collector restarted reads back the last 2 minutes of the topic.
//
// Broker windows are the same. The ratio is Cruise Control's 0.995.
func DefaultConfig() Config {
	return Config{
		Topic:           "__weir_metrics",
		PartitionWindow: 15 * time.Second, NumPartitionWindows: 8, MinSamplesPerPartitionWindow: 1,
		BrokerWindow: 15 * time.Second, NumBrokerWindows: 8, MinSamplesPerBrokerWindow: 1,
		MinValidPartitionRatio: 0.995,
		MinValidWindows:        1,
		MetadataRefresh:        5 * time.Second,
		DefaultNetworkCapacity: 125e6,
		DefaultCPUCores:        1,
		MaxFutureSkew:          time.Minute,
	}
}

// ErrUnknownKey is Set's error (wrapped) for a key it does not know.
var ErrUnknownKey = errors.New("unknown key")

// setters map Cruise Control's keys (and Weir's few) onto the fields.
var setters = map[string]func(c *Config, v string) error{
	"metric.reporter.topic":                    func(c *Config, v string) error { return setTopic(&c.Topic, v) },
	"partition.metrics.window.ms":              func(c *Config, v string) error { return setMillis(&c.PartitionWindow, v) },
	"num.partition.metrics.windows":            func(c *Config, v string) error { return setPositive(&c.NumPartitionWindows, v) },
	"min.samples.per.partition.metrics.window": func(c *Config, v string) error { return setPositive(&c.MinSamplesPerPartitionWindow, v) },
	"broker.metrics.window.ms":                 func(c *Config, v string) error { return setMillis(&c.BrokerWindow, v) },
	"num.broker.metrics.windows":               func(c *Config, v string) error { return setPositive(&c.NumBrokerWindows, v) },
	"min.samples.per.broker.metrics.window":    func(c *Config, v string) error { return setPositive(&c.MinSamplesPerBrokerWindow, v) },
	"min.valid.partition.ratio":                func(c *Config, v string) error { return setRatio(&c.MinValidPartitionRatio, v) },
	"min.valid.windows":                        func(c *Config, v string) error { return setPositive(&c.MinValidWindows, v) },
	"metadata.max.age.ms":                      func(c *Config, v string) error { return setMillis(&c.MetadataRefresh, v) },
	"capacity.config.file":                     func(c *Config, v string) error { c.CapacityFile = v; return nil },
	"default.network.capacity.bytes.per.sec":   func(c *Config, v string) error { return setNonNegative(&c.DefaultNetworkCapacity, v) },
	"default.cpu.cores":                        func(c *Config, v string) error { return setNonNegative(&c.DefaultCPUCores, v) },
	"cluster.name":                             func(c *Config, v string) error { c.ClusterName = v; return nil },
	"max.sample.future.skew.ms":                func(c *Config, v string) error { return setMillis(&c.MaxFutureSkew, v) },
}

// Set sets one field by its Cruise Control key name.
func (c *Config) Set(key, value string) error {
	set, ok := setters[key]
	if !ok {
		return fmt.Errorf("monitor config: %w %q", ErrUnknownKey, key)
	}
	if err := set(c, value); err != nil {
		return fmt.Errorf("monitor config %s=%q: %w", key, value, err)
	}
	return nil
}

func setTopic(dst *string, v string) error {
	if v == "" {
		return errors.New("empty topic name")
	}
	*dst = v
	return nil
}

func setMillis(dst *time.Duration, v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return errors.New("want a positive number of milliseconds")
	}
	*dst = time.Duration(n) * time.Millisecond
	return nil
}

func setPositive(dst *int, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return errors.New("want a positive integer")
	}
	*dst = n
	return nil
}

func setRatio(dst *float64, v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 || math.IsNaN(f) {
		return errors.New("want a ratio between 0 and 1")
	}
	*dst = f
	return nil
}

func setNonNegative(dst *float64, v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return errors.New("want a non-negative number")
	}
	*dst = f
	return nil
}

// validate checks a config before New uses it.
func (c *Config) validate() error {
	var errs []error
	bad := func(key, why string) { errs = append(errs, fmt.Errorf("monitor config %s: %s", key, why)) }
	if c.Topic == "" {
		bad("metric.reporter.topic", "empty")
	}
	if c.PartitionWindow <= 0 || c.NumPartitionWindows <= 0 || c.MinSamplesPerPartitionWindow <= 0 {
		bad("partition.metrics.window.ms, num.partition.metrics.windows, min.samples.per.partition.metrics.window", "must be positive")
	}
	if c.BrokerWindow <= 0 || c.NumBrokerWindows <= 0 || c.MinSamplesPerBrokerWindow <= 0 {
		bad("broker.metrics.window.ms, num.broker.metrics.windows, min.samples.per.broker.metrics.window", "must be positive")
	}
	if c.MinValidPartitionRatio < 0 || c.MinValidPartitionRatio > 1 {
		bad("min.valid.partition.ratio", "must be between 0 and 1")
	}
	if c.MinValidWindows <= 0 || c.MinValidWindows > c.NumPartitionWindows {
		bad("min.valid.windows", fmt.Sprintf("must be between 1 and num.partition.metrics.windows (%d)", c.NumPartitionWindows))
	}
	if c.MetadataRefresh <= 0 {
		bad("metadata.max.age.ms", "must be positive")
	}
	if c.MaxFutureSkew <= 0 {
		bad("max.sample.future.skew.ms", "must be positive")
	}
	return errors.Join(errs...)
}
