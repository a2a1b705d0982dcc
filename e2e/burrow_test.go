package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// TestBurrowReportsGroupLag runs Debian's Burrow (LinkedIn's lag monitor,
// on Sarama) against a broker, with the Kafka version its packaged config
// names (0.10.0) and a newer one (2.1.0). Burrow's cluster module lists
// topics (Metadata) and partition ends (ListOffsets v0 below 0.10.1, the
// request that used to get its connection closed); its consumer module
// reads __consumer_offsets (Fetch v2, message format v1, at 0.10.0) and
// decodes Kafka's offset-commit records. The group's commits must show up
// in Burrow's HTTP API with the lag the test made.
func TestBurrowReportsGroupLag(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		version string
		spoken  map[string][]int // API → versions Sarama sends for it
	}{
		{"0.10.0", map[string][]int{"ListOffsets": {0}, "Fetch": {2}}},
		{"2.1.0", map[string][]int{"ListOffsets": {1}, "Fetch": {4}}},
	} {
		t.Run("kafka-version "+c.version, func(t *testing.T) {
			t.Parallel()
			b := burrowLag(t, c.version)
			wantServed(t, b, c.spoken)
		})
	}
}

func burrowLag(t *testing.T, kafkaVersion string) *brokertest.Broker {
	burrow := lookTool(t, "Burrow")
	b := startBroker(t, nil)
	adm := admin(t, b)
	const topic, group = "burrow-lag", "burrow-group"
	createTopic(t, adm, topic, 2, nil)
	cl := b.Client(t, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	for i := 0; i < 100; i++ {
		recs = append(recs, &kgo.Record{Partition: int32(i % 2), Value: []byte(fmt.Sprint(i))})
	}
	produceSync(t, cl, recs...)

	api := startBurrow(t, burrow, b.Addr, kafkaVersion)
	// Burrow drops commits for partitions its cluster module has not seen
	// yet: commit once it lists the topic's ends.
	await.For(t, 20*time.Second, "Burrow lists the topic's offsets", func() error {
		var got struct {
			Offsets []int64 `json:"offsets"`
		}
		if err := burrowGet(api+"/v3/kafka/weir/topic/"+topic, &got); err != nil {
			return err
		}
		if len(got.Offsets) != 2 || got.Offsets[0] != 50 || got.Offsets[1] != 50 {
			return fmt.Errorf("topic offsets %v, want [50 50]", got.Offsets)
		}
		return nil
	})
	commit := kadm.Offsets{}
	commit.Add(kadm.Offset{Topic: topic, Partition: 0, At: 20, LeaderEpoch: -1})
	commit.Add(kadm.Offset{Topic: topic, Partition: 1, At: 45, LeaderEpoch: -1})
	await.For(t, 10*time.Second, "the group's commit", func() error {
		return adm.CommitAllOffsets(testContext(t, 5*time.Second), group, commit) // NOT_COORDINATOR while __consumer_offsets loads
	})

	await.For(t, 20*time.Second, "Burrow lists the group", func() error {
		var got struct {
			Consumers []string `json:"consumers"`
		}
		if err := burrowGet(api+"/v3/kafka/weir/consumer", &got); err != nil {
			return err
		}
		for _, c := range got.Consumers {
			if c == group {
				return nil
			}
		}
		return fmt.Errorf("consumers %v", got.Consumers)
	})
	await.For(t, 20*time.Second, "Burrow reports the group's lag", func() error {
		var got struct {
			Status struct {
				TotalLag   int64 `json:"totallag"`
				Partitions []struct {
					Partition  int32 `json:"partition"`
					CurrentLag int64 `json:"current_lag"`
				} `json:"partitions"`
			} `json:"status"`
		}
		if err := burrowGet(api+"/v3/kafka/weir/consumer/"+group+"/lag", &got); err != nil {
			return err
		}
		lag := map[int32]int64{}
		for _, p := range got.Status.Partitions {
			lag[p.Partition] = p.CurrentLag
		}
		if got.Status.TotalLag != 35 || lag[0] != 30 || lag[1] != 5 {
			return fmt.Errorf("total lag %d, per partition %v; want 35, {0:30 1:5}", got.Status.TotalLag, lag)
		}
		return nil
	})
	return b
}

// startBurrow runs Burrow with a small config against the broker at addr
// and returns the base URL of its HTTP API once it answers.
func startBurrow(t *testing.T, burrow, addr, kafkaVersion string) string {
	t.Helper()
	dir := t.TempDir()
	zk := startFakeZooKeeper(t)
	httpAddr := freePort(t)
	cfg := fmt.Sprintf(`[general]
pidfile=%q

[zookeeper]
servers=[%q]
timeout=6
root-path="/burrow"

[client-profile.weir]
client-id="burrow-e2e"
kafka-version=%q

[cluster.weir]
class-name="kafka"
servers=[%q]
client-profile="weir"
topic-refresh=1
offset-refresh=1

[consumer.weir]
class-name="kafka"
cluster="weir"
servers=[%q]
client-profile="weir"

[httpserver.default]
address=%q

[storage.default]
class-name="inmemory"
workers=2
intervals=10
expire-group=604800
min-distance=1

[evaluator.default]
class-name="caching"
expire-cache=1
`, filepath.Join(dir, "burrow.pid"), zk, kafkaVersion, addr, addr, httpAddr)
	if err := os.WriteFile(filepath.Join(dir, "burrow.toml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, burrow, "--config-dir", dir)
	// Killed at the end (CommandContext's default): it keeps nothing, and
	// after SIGTERM it lingers for seconds.
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Burrow: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("Burrow's output:\n%s", out.String())
		}
	})
	api := "http://" + httpAddr
	await.For(t, 10*time.Second, "Burrow's HTTP API", func() error {
		select {
		case <-exited:
			t.Fatalf("Burrow exited:\n%s", out.String())
		default:
		}
		return burrowGet(api+"/burrow/admin", nil)
	})
	return api
}

// burrowGet fetches a Burrow API path and decodes its JSON into v (when
// not nil); Burrow's own error answers are errors.
func burrowGet(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body.String())
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(body.Bytes(), v)
}
