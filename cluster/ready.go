package cluster

import (
	"context"
	"time"

	"github.com/weirhq/weir/internal/readiness"
)

// probeTimeout bounds one readiness check; the supervisor polls again after.
const probeTimeout = 2 * time.Second

// brokerReady is broker b's readiness probe for the supervisor
// (readiness.Broker under probeTimeout): on a secure cluster over mutual
// TLS on the inter-broker listener, which needs no SCRAM user yet.
func (s Spec) brokerReady(l Layout, b BrokerSpec) func(context.Context) error {
	opts, err := s.KafkaOpts(l)
	addr, admin := b.InterBroker(s.Host), "http://"+b.Admin(s.Host)
	return func(ctx context.Context) error {
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		return readiness.Broker(ctx, addr, admin, opts...)
	}
}

// httpOK checks that GET url answers 200 (readiness.HTTPOK).
func httpOK(ctx context.Context, url string) error { return readiness.HTTPOK(ctx, url) }
