package autoscaler

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/weirhq/weir/autoscaler/policy"
	"github.com/weirhq/weir/autoscaler/provision"
)

// The agents' series the autoscaler reads (docs/AGENT.md): the Prometheus
// names MSK's open monitoring uses, plus the agent's storage pair, which it
// reads from its broker through the Kafka protocol (DescribeLogDirs v4).
const (
	mStorageUsed        = "weir_broker_storage_used_bytes"
	mStorageProvisioned = "weir_broker_storage_provisioned_bytes"
	mBytesIn            = "kafka_server_brokertopicmetrics_bytesin_total"
	mBytesOut           = "kafka_server_brokertopicmetrics_bytesout_total"
	mPartitions         = "kafka_server_replicamanager_partitioncount"
	mLeaders            = "kafka_server_replicamanager_leadercount"
	mCPUSeconds         = "node_cpu_seconds_total"
)

// Source scrapes every broker's agent on each tick and keeps a window of
// samples per broker, stamped with the tick's time so the brokers' samples
// line up (as a Prometheus range query's do). Counters become per-second
// rates between two scrapes of the same agent; a broker's first scrape, or
// one after its agent restarted (a counter went down), gives no sample.
type Source struct {
	http *http.Client
	keep time.Duration // how far back samples are kept

	mu      sync.Mutex
	prev    map[int32]counters
	samples map[int32][]policy.Sample
	errs    map[int32]error
}

type counters struct {
	at                time.Time
	in, out           float64
	cpuBusy, cpuTotal float64
}

// NewSource keeps samples for keep (the longest window a policy looks back
// over, plus a margin).
func NewSource(keep time.Duration) *Source {
	return &Source{http: &http.Client{Timeout: 5 * time.Second}, keep: keep,
		prev: map[int32]counters{}, samples: map[int32][]policy.Sample{}, errs: map[int32]error{}}
}

// SetKeep changes how far back samples are kept (a reloaded policy's
// windows).
func (s *Source) SetKeep(d time.Duration) {
	s.mu.Lock()
	s.keep = d
	s.mu.Unlock()
}

// Scrape reads every target at once and adds the samples at time at.
// Brokers not among targets are forgotten. It returns the brokers whose
// agent could not be read, joined.
func (s *Source) Scrape(ctx context.Context, at time.Time, targets []provision.Agent) error {
	type result struct {
		t    provision.Agent
		fams map[string]*dto.MetricFamily
		err  error
	}
	results := make([]result, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			fams, err := s.get(ctx, t.Metrics)
			if err == nil && t.Node != "" {
				var node map[string]*dto.MetricFamily
				if node, err = s.get(ctx, t.Node); err == nil {
					for k, v := range node {
						fams[k] = v
					}
				}
			}
			results[i] = result{t, fams, err}
		})
	}
	wg.Wait()

	s.mu.Lock()
	defer s.mu.Unlock()
	live := map[int32]bool{}
	var errs []string
	for _, r := range results {
		b := r.t.Broker
		live[b] = true
		s.errs[b] = r.err
		if r.err != nil {
			errs = append(errs, fmt.Sprintf("broker %d: %v", b, r.err))
			continue
		}
		if smp, ok := s.sample(b, at, r.fams); ok {
			s.samples[b] = append(s.samples[b], smp)
		}
	}
	for b := range s.samples {
		if !live[b] {
			delete(s.samples, b)
			delete(s.prev, b)
			delete(s.errs, b)
		}
	}
	for b, ss := range s.samples {
		i := 0
		for i < len(ss) && ss[i].At.Before(at.Add(-s.keep)) {
			i++
		}
		s.samples[b] = ss[i:]
	}
	if len(errs) > 0 {
		return fmt.Errorf("reading agents: %s", strings.Join(errs, "; "))
	}
	return nil
}

// sample turns one broker's scrape into a sample, with rates against its
// previous scrape.
func (s *Source) sample(b int32, at time.Time, fams map[string]*dto.MetricFamily) (policy.Sample, bool) {
	busy, total := cpuSeconds(fams[mCPUSeconds])
	cur := counters{at: at, in: sum(fams[mBytesIn]), out: sum(fams[mBytesOut]), cpuBusy: busy, cpuTotal: total}
	prev, seen := s.prev[b]
	s.prev[b] = cur
	dt := at.Sub(prev.at).Seconds()
	if !seen || dt <= 0 || cur.in < prev.in || cur.out < prev.out || cur.cpuTotal < prev.cpuTotal {
		return policy.Sample{}, false
	}
	smp := policy.Sample{
		At:         at,
		NetworkIn:  (cur.in - prev.in) / dt,
		NetworkOut: (cur.out - prev.out) / dt,
		Partitions: int(sum(fams[mPartitions])),
		Leaders:    int(sum(fams[mLeaders])),
	}
	if d := cur.cpuTotal - prev.cpuTotal; d > 0 {
		smp.CPUPercent = 100 * (cur.cpuBusy - prev.cpuBusy) / d
	}
	// Storage is the agent's pair, read from the broker's DescribeLogDirs
	// (v4: Weir's provisioned size; Apache Kafka 3.3+: the log dir's
	// filesystem). Without it storage is unknown and never grown: the
	// node endpoint's filesystems cannot say which holds the log dirs.
	smp.StorageProvisioned = int64(sum(fams[mStorageProvisioned]))
	smp.StorageUsed = int64(sum(fams[mStorageUsed]))
	return smp, true
}

// Window returns a copy of the samples per broker, oldest first.
func (s *Source) Window() map[int32][]policy.Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int32][]policy.Sample, len(s.samples))
	for b, ss := range s.samples {
		out[b] = slices.Clone(ss)
	}
	return out
}

// Errors returns the last scrape error per broker (nil: it answered).
func (s *Source) Errors() map[int32]error {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int32]error, len(s.errs))
	for b, e := range s.errs {
		out[b] = e
	}
	return out
}

func (s *Source) get(ctx context.Context, url string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return fams, nil
}

// sum adds every series of a family (gauge, counter or untyped).
func sum(f *dto.MetricFamily) float64 {
	var v float64
	if f == nil {
		return 0
	}
	for _, m := range f.GetMetric() {
		v += value(m)
	}
	return v
}

func value(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue()
	}
	return 0
}

// cpuSeconds sums node_cpu_seconds_total over CPUs: busy (every mode but
// idle and iowait) and total.
func cpuSeconds(f *dto.MetricFamily) (busy, total float64) {
	if f == nil {
		return 0, 0
	}
	for _, m := range f.GetMetric() {
		v := value(m)
		total += v
		mode := ""
		for _, l := range m.GetLabel() {
			if l.GetName() == "mode" {
				mode = l.GetValue()
			}
		}
		if mode != "idle" && mode != "iowait" {
			busy += v
		}
	}
	return busy, total
}
