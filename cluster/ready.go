package cluster

import (
	"context"
	"time"

	"github.com/weirhq/weir/internal/readiness"
)

// probeTimeout bounds one readiness check; the supervisor polls again after.
const probeTimeout = 2 * time.Second

// brokerReady is a broker's readiness probe for the supervisor
// (readiness.Broker under probeTimeout).
func brokerReady(kafkaAddr, adminURL string) func(context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		return readiness.Broker(ctx, kafkaAddr, adminURL)
	}
}

// httpOK checks that GET url answers 200 (readiness.HTTPOK).
func httpOK(ctx context.Context, url string) error { return readiness.HTTPOK(ctx, url) }
