package e2e

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/collector/ccclient"
	"github.com/weirhq/weir/internal/await"
)

// TestNetworkDocConfig runs docs/NETWORK.md's three server.properties, as
// written but for the subnet (10.0.0. becomes the test net's) and log.dirs,
// each broker in its own namespace: a client in the root namespace creates
// an RF=3 topic, produces with acks=all, reads back, and Metadata names the
// three advertised addresses; so does kcat in a namespace of its own. Then an agent per broker and a collector,
// in the root namespace, reach the brokers by those addresses only: the
// agents sample into __weir_metrics and the collector builds a model
// from the samples and proposes from it.
func TestNetworkDocConfig(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/NETWORK.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```properties\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) != 3 {
		t.Fatalf("docs/NETWORK.md has %d properties blocks, want one per host (3)", len(blocks))
	}
	nt := brokertest.NewNet(t)
	var props []map[string]string
	for _, b := range blocks {
		p := map[string]string{}
		for _, line := range strings.Split(strings.ReplaceAll(b[1], "10.0.0.", nt.Subnet+"."), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("docs/NETWORK.md: not a property: %q", line)
			}
			p[k] = v
		}
		props = append(props, p)
	}
	c := brokertest.StartNetBrokers(t, nt, props)

	cl := c.Client(t, kgo.MetadataMinAge(10*time.Millisecond), kgo.DefaultProduceTopic("doc"),
		kgo.RequiredAcks(kgo.AllISRAcks()))
	adm := kadm.NewClient(cl)
	ctx := testContext(t, time.Minute)
	if _, err := adm.CreateTopic(ctx, 3, -1, nil, "doc"); err != nil { // RF from default.replication.factor
		t.Fatal(err)
	}
	want := fmt.Sprintf("%[1]s.11:9092 %[1]s.12:9092 %[1]s.13:9092", nt.Subnet)
	if got := strings.Join(c.Bootstrap(), " "); got != want {
		t.Fatalf("the brokers' advertised addresses are %s, want %s", got, want)
	}
	checkAdvertised(t, ctx, c.Cluster)
	md, err := adm.Metadata(ctx, "doc")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range md.Topics["doc"].Partitions {
		if len(p.Replicas) != 3 {
			t.Fatalf("partition %d replicas %v, want 3 (default.replication.factor=3)", p.Partition, p.Replicas)
		}
	}
	var recs []*kgo.Record
	for i := range 30 {
		recs = append(recs, &kgo.Record{Value: []byte(fmt.Sprint(i))})
	}
	produceSync(t, cl, recs...)
	n := 0
	for _, rs := range consumeAllSeeds(t, c.Bootstrap(), "doc") {
		n += len(rs)
	}
	if n != len(recs) {
		t.Fatalf("read %d records back, produced %d", n, len(recs))
	}

	// A client on a host of its own: kcat in a fourth namespace.
	kcat := lookTool(t, "kcat")
	client := nt.AddHost("client")
	out, err := client.Command(kcat, "-b", c.Brokers[0].Addr, "-L", "-t", "doc").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "3 brokers:") {
		t.Fatalf("kcat -L from namespace %s (%s): %v\n%s", client.NS, client.IP, err, out)
	}

	createWithAssignment(t, cl, "__weir_metrics", [][]int32{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}})
	for _, b := range c.Brokers {
		startAgent(t, "cluster_name: netns\nbroker_id: %d\nbrokers: [%s]\nbroker_admin_url: http://%s\nlog_dirs: [%s]\nsamples: {}\n",
			b.NodeID, strings.Join(c.Bootstrap(), ", "), b.AdminAddr, b.DataDir)
	}
	col := startCollector(t, c.Cluster)
	api := ccclient.New(col.addr)
	await.For(t, 90*time.Second, "the collector's first proposal from the agents' samples", func() error {
		var o ccclient.Optimization
		return api.Do(context.Background(), "GET", "proposals", nil, &o)
	})
}
