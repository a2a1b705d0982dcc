package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// probeTimeout bounds one readiness check; the supervisor polls again after.
const probeTimeout = 2 * time.Second

// brokerReady is a broker's readiness probe for the supervisor.
func brokerReady(kafkaAddr, adminURL string) func(context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		return ProbeBroker(ctx, kafkaAddr, adminURL)
	}
}

// ProbeBroker checks once that a broker is ready: its admin endpoint's
// /readyz answers 200 (adminURL "" skips this: no admin listener), then a
// Kafka client gets an answer on the listener (franz-go Ping: ApiVersions
// on connect, then a Metadata request). weir up, the benchmarks and the
// test harness all wait on it.
func ProbeBroker(ctx context.Context, kafkaAddr, adminURL string) error {
	if adminURL != "" {
		if err := httpOK(ctx, adminURL+"/readyz"); err != nil {
			return err
		}
	}
	return kafkaPing(ctx, kafkaAddr)
}

// httpOK checks that GET url answers 200.
func httpOK(ctx context.Context, url string) error {
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
func kafkaPing(ctx context.Context, addr string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ClientID("weir-up"), kgo.RequestRetries(0))
	if err != nil {
		return fmt.Errorf("kafka client for %s: %w", addr, err)
	}
	defer cl.Close()
	if err := cl.Ping(ctx); err != nil {
		return fmt.Errorf("kafka %s: %w", addr, err)
	}
	return nil
}
