package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/weirhq/weir/broker/brokertest"
)

// checkAdvertised checks that Metadata names every broker of c by the
// address it was started on, none of them loopback: on a namespaced
// cluster, each broker's own address (advertised.listeners, or listeners).
func checkAdvertised(t *testing.T, ctx context.Context, adm *kadm.Client, c *brokertest.Cluster) {
	t.Helper()
	md, err := adm.BrokerMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, b := range md.Brokers {
		got = append(got, fmt.Sprintf("%d@%s:%d", b.NodeID, b.Host, b.Port))
	}
	for _, b := range c.Brokers {
		want = append(want, fmt.Sprintf("%d@%s", b.NodeID, b.Addr))
		if strings.HasPrefix(b.Addr, "127.") || strings.HasPrefix(b.Addr, "localhost") {
			t.Fatalf("broker %d listens on loopback %s", b.NodeID, b.Addr)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Metadata brokers %v, want %v", got, want)
	}
}
