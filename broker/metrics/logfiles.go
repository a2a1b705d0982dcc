package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/weirhq/weir/broker/log"
)

// logFilesCollector reports the partition logs' open-file cache
// (broker/log's FileCache, shared by every log of the process) at scrape
// time.
type logFilesCollector struct {
	stats                         func() log.FileCacheStats
	open, max, hits, miss, evicts *prometheus.Desc
}

func newLogFilesCollector(stats func() log.FileCacheStats) *logFilesCollector {
	return &logFilesCollector{
		stats:  stats,
		open:   prometheus.NewDesc("weir_log_open_files", "Segment .log files the partition logs hold open now (issue 14: bounded by weir_log_max_open_files, idle ones are closed).", nil, nil),
		max:    prometheus.NewDesc("weir_log_max_open_files", "The cap on open segment files: 75% of the soft RLIMIT_NOFILE unless set.", nil, nil),
		hits:   prometheus.NewDesc("weir_log_file_cache_hits_total", "Uses of a segment file that was open.", nil, nil),
		miss:   prometheus.NewDesc("weir_log_file_cache_misses_total", "Uses of a segment file that had to be (re)opened.", nil, nil),
		evicts: prometheus.NewDesc("weir_log_file_cache_evictions_total", "Idle segment files closed to stay under the cap (fsynced first if written since the last flush).", nil, nil),
	}
}

func (c *logFilesCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.open
	ch <- c.max
	ch <- c.hits
	ch <- c.miss
	ch <- c.evicts
}

func (c *logFilesCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(s.Open))
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(s.Max))
	ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(s.Hits))
	ch <- prometheus.MustNewConstMetric(c.miss, prometheus.CounterValue, float64(s.Misses))
	ch <- prometheus.MustNewConstMetric(c.evicts, prometheus.CounterValue, float64(s.Evictions))
}
