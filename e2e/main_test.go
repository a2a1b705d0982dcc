package e2e

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
)

func TestMain(m *testing.M) { brokertest.Main(m) }

// testContext returns a context that ends after d or with the test.
func testContext(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// startBroker starts a broker with extra server.properties.
func startBroker(t testing.TB, props map[string]string) *brokertest.Broker {
	t.Helper()
	return brokertest.Start(t, brokertest.Options{Props: props})
}

// admin returns a kadm client on b, closed by t.Cleanup. Its metadata is
// never older than 10ms (kgo caches it for 5s by default), so a test sees
// a topic's creation or deletion as soon as the broker does.
func admin(t testing.TB, b *brokertest.Broker) *kadm.Client {
	return kadm.NewClient(b.Client(t, kgo.MetadataMinAge(10*time.Millisecond)))
}

// createTopic creates topic with the given partitions (replication factor 1)
// and configs, failing the test on any error.
func createTopic(t testing.TB, adm *kadm.Client, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	ctx := testContext(t, 30*time.Second)
	resp, err := adm.CreateTopic(ctx, partitions, 1, configs, topic)
	if err != nil {
		t.Fatalf("CreateTopics %s (%d partitions, configs %v): %v (response %+v)", topic, partitions, configs, err, resp)
	}
}

// lookTool returns the path of an external client, failing (never
// skipping) the test if it is missing.
func lookTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not found on PATH: run make deps (%v)", name, err)
	}
	return p
}

// pythonWith returns a python interpreter that can import module. Debian's
// /usr/bin/python3 comes first: a pyenv python earlier on PATH does not see
// Debian's python3-kafka. $WEIR_PYTHON overrides.
func pythonWith(t testing.TB, module string) string {
	t.Helper()
	candidates := []string{os.Getenv("WEIR_PYTHON"), "/usr/bin/python3"}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	var tried []string
	for _, py := range candidates {
		if py == "" {
			continue
		}
		if err := exec.Command(py, "-c", "import "+module).Run(); err == nil {
			return py
		}
		tried = append(tried, py)
	}
	t.Fatalf("no python among %v can import %s: run make deps", tried, module)
	return ""
}

// endOffsets lists the end offset of every partition of topic.
func endOffsets(t testing.TB, adm *kadm.Client, topic string) map[int32]int64 {
	t.Helper()
	ctx := testContext(t, 30*time.Second)
	listed, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		t.Fatalf("ListEndOffsets %s: %v", topic, err)
	}
	out := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// consumeAll reads every partition of topic from its start to the end offset
// it has now, returning the records by partition in offset order.
func consumeAll(t testing.TB, b *brokertest.Broker, topic string) map[int32][]*kgo.Record {
	t.Helper()
	ends := endOffsets(t, admin(t, b), topic)
	parts := map[int32]kgo.Offset{}
	want := 0
	for p, end := range ends {
		if end > 0 {
			parts[p] = kgo.NewOffset().AtStart()
			want++
		}
	}
	out := map[int32][]*kgo.Record{}
	if want == 0 {
		return out
	}
	cl := b.Client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}))
	ctx := testContext(t, 60*time.Second)
	done := map[int32]bool{}
	for len(done) < want {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consume %s: %v; reached %v of end offsets %v", topic, ctx.Err(), lastOffsets(out), ends)
		}
		fetches.EachError(func(topic string, p int32, err error) {
			t.Errorf("consume %s/%d: %v", topic, p, err)
		})
		fetches.EachRecord(func(r *kgo.Record) {
			out[r.Partition] = append(out[r.Partition], r)
			if r.Offset >= ends[r.Partition]-1 {
				done[r.Partition] = true
			}
		})
	}
	return out
}

func lastOffsets(recs map[int32][]*kgo.Record) map[int32]int64 {
	out := map[int32]int64{}
	for p, rs := range recs {
		if len(rs) > 0 {
			out[p] = rs[len(rs)-1].Offset
		}
	}
	return out
}

// produceSync produces records and fails the test on the first error.
func produceSync(t testing.TB, cl *kgo.Client, recs ...*kgo.Record) {
	t.Helper()
	ctx := testContext(t, 60*time.Second)
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce %d records: %v", len(recs), err)
	}
}
