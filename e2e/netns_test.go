package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// checkAdvertised checks that Metadata names every broker of c by the
// address it was started on, none of them loopback: on a namespaced
// cluster, each broker's own address (advertised.listeners, or listeners).
func checkAdvertised(t *testing.T, ctx context.Context, adm *kadm.Client, c *brokertest.Cluster) {
	t.Helper()
	var want []string
	for _, b := range c.Brokers {
		want = append(want, fmt.Sprintf("%d@%s", b.NodeID, b.Addr))
		if strings.HasPrefix(b.Addr, "127.") || strings.HasPrefix(b.Addr, "localhost") {
			t.Fatalf("broker %d listens on loopback %s", b.NodeID, b.Addr)
		}
	}
	sort.Strings(want)
	// Every broker is ready in its own eyes, but the one answering may not
	// have applied the last registration yet: wait for its image to list
	// them all, each at its own address.
	await.For(t, 30*time.Second, "Metadata listing every broker at its namespace address", func() error {
		md, err := adm.BrokerMetadata(ctx)
		if err != nil {
			return err
		}
		var got []string
		for _, b := range md.Brokers {
			got = append(got, fmt.Sprintf("%d@%s:%d", b.NodeID, b.Host, b.Port))
		}
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			return fmt.Errorf("Metadata brokers %v, want %v", got, want)
		}
		return nil
	})
}
