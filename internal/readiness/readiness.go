// Package readiness holds the readiness checks that wait for Weir's processes:
// a broker is ready when its admin endpoint's /readyz answers 200 and a
// Kafka client gets an answer on its listener. weir up's supervisor
// (cluster), the benchmarks (bench) and the broker test harness
// (broker/brokertest) all wait on Broker; it sits below all three so that
// nothing under broker/ imports the supervisor.
package readiness

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Broker checks once that a broker is ready: its admin endpoint's /readyz
// answers 200 (adminURL "" skips this: no admin listener), then a Kafka
// client gets an answer on the listener (franz-go Ping: ApiVersions on
// connect, then a Metadata request). The caller bounds it with ctx and
// polls. opts are the client's security options (internal/kafkaclient)
// for a listener that is not PLAINTEXT.
func Broker(ctx context.Context, kafkaAddr, adminURL string, opts ...kgo.Opt) error {
	if adminURL != "" {
		if err := HTTPOK(ctx, adminURL+"/readyz"); err != nil {
			return err
		}
	}
	return kafkaPing(ctx, kafkaAddr, opts)
}

// HTTPOK checks that GET url answers 200; otherwise the error names the
// status and the start of the body.
func HTTPOK(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s %s", url, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// kafkaPing asks the broker at addr, and only it, for ApiVersions and
// Metadata.
func kafkaPing(ctx context.Context, addr string, opts []kgo.Opt) error {
	cl, err := kgo.NewClient(append(slices.Clone(opts), kgo.SeedBrokers(addr), kgo.ClientID("weir-up"), kgo.RequestRetries(0))...)
	if err != nil {
		return fmt.Errorf("kafka client for %s: %w", addr, err)
	}
	defer cl.Close()
	if err := cl.Ping(ctx); err != nil {
		return fmt.Errorf("kafka %s: %w", addr, err)
	}
	return nil
}
