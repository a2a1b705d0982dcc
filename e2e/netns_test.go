package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
)

// TestNetnsCluster runs three brokers each in its own network namespace
// with its own address: a client in the root namespace creates an RF=3
// topic, produces and reads back, and Metadata names each broker by its
// own address (advertised.listeners from listeners), not by loopback.
func TestNetnsCluster(t *testing.T) {
	t.Parallel()
	c := brokertest.StartNetCluster(t, 3, brokertest.Options{})
	cl := c.Client(t, kgo.MetadataMinAge(10*time.Millisecond), kgo.DefaultProduceTopic("hosts"))
	adm := kadm.NewClient(cl)
	ctx := testContext(t, time.Minute)
	if _, err := adm.CreateTopic(ctx, 3, 3, nil, "hosts"); err != nil {
		t.Fatal(err)
	}
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
		if strings.HasPrefix(b.Addr, "127.") {
			t.Fatalf("broker %d listens on loopback %s", b.NodeID, b.Addr)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Metadata brokers %v, want %v", got, want)
	}
	var recs []*kgo.Record
	for i := range 30 {
		recs = append(recs, &kgo.Record{Value: []byte(fmt.Sprint(i))})
	}
	produceSync(t, cl, recs...)
	n := 0
	for _, rs := range consumeAll(t, c.Brokers[1], "hosts") {
		n += len(rs)
	}
	if n != len(recs) {
		t.Fatalf("read %d records back, produced %d", n, len(recs))
	}
}
