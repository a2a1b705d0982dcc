// Package brokeradmin reads a broker's admin /metrics (Prometheus text
// format, the JMX exporter's Kafka names, docs/METRICS.md) and turns it into
// snapshot.Broker: gauges as they are, counters as per-second rates between
// two scrapes.
//
// A counter that went down since the previous scrape was reset (the broker
// restarted); its increase is then its new value, as Prometheus's rate()
// counts it. The first scrape has no rates; a series that appears after it
// was created since and counts up from zero (a new topic's bytes in, an
// API's first request).
package brokeradmin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/weirhq/weir/agent/snapshot"
)

// maxBody bounds a /metrics response; a broker with many partitions writes
// a few MB.
const maxBody = 256 << 20

// Source scrapes one broker. It is used by one goroutine (the agent's
// collection loop) and keeps the previous scrape's counters for rates.
type Source struct {
	url    string
	client *http.Client
	rates  Rates
}

// New returns a source for the admin endpoint at url: "host:port" or a full
// "http://host:port/metrics" URL.
func New(url string, client *http.Client) *Source {
	if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	if !strings.HasSuffix(url, "/metrics") {
		url = strings.TrimSuffix(url, "/") + "/metrics"
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &Source{url: url, client: client}
}

// Collect scrapes /metrics once and converts it, with rates over the time
// since the previous successful Collect.
func (s *Source) Collect(ctx context.Context, now time.Time) (*snapshot.Broker, error) {
	fams, err := s.scrape(ctx)
	if err != nil {
		return nil, err
	}
	return s.rates.Convert(fams, now), nil
}

func (s *Source) scrape(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", s.url, err)
	}
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", s.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: %s", s.url, resp.Status)
	}
	fams, err := Parse(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", s.url, err)
	}
	return fams, nil
}

// Parse reads the Prometheus text format.
func Parse(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parsing the text format: %w", err)
	}
	return fams, nil
}
