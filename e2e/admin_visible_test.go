package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/brokertest"
)

// TestAdminChangesVisibleOnEveryBroker: once CreateTopics, CreatePartitions
// or DeleteTopics answers, every broker's next Metadata answer agrees, so a
// client that asks any broker at once (segmentio/kafka-go's writer,
// librdkafka's list_topics) never caches a miss (issue 13). Before, the
// other brokers learned of the change at their next raft round: on a loaded
// machine 84 of 174 Metadata answers right after a create missed the topic.
// Twenty rounds, each asking every broker straight after the answer.
func TestAdminChangesVisibleOnEveryBroker(t *testing.T) {
	t.Parallel()
	c := brokertest.StartCluster(t, 3, brokertest.Options{})
	adm := clusterAdmin(t, c)
	cl := c.Client(t)
	ctx := context.Background()
	ask := func(id int32, topic string) (kmsg.MetadataResponseTopic, error) {
		req := kmsg.NewPtrMetadataRequest()
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = &topic
		req.Topics = append(req.Topics, rt)
		raw, err := cl.Broker(int(id)).Request(ctx, req)
		if err != nil {
			return kmsg.MetadataResponseTopic{}, err
		}
		resp := raw.(*kmsg.MetadataResponse)
		if len(resp.Topics) != 1 {
			return kmsg.MetadataResponseTopic{}, fmt.Errorf("%d topics in the answer", len(resp.Topics))
		}
		return resp.Topics[0], nil
	}
	for i := range 20 {
		topic := fmt.Sprintf("visible-%d", i)
		if r, err := adm.CreateTopic(ctx, 2, 3, nil, topic); err != nil || r.Err != nil {
			t.Fatalf("create %s: %v %v", topic, err, r.Err)
		}
		for _, b := range c.Brokers {
			mt, err := ask(b.NodeID, topic)
			if err != nil || mt.ErrorCode != 0 || len(mt.Partitions) != 2 {
				t.Fatalf("round %d: broker %d right after the create: %v, %s, %d partitions", i, b.NodeID, err, kerr.ErrorForCode(mt.ErrorCode), len(mt.Partitions))
			}
		}
		if _, err := adm.CreatePartitions(ctx, 1, topic); err != nil {
			t.Fatalf("create partitions of %s: %v", topic, err)
		}
		for _, b := range c.Brokers {
			if mt, err := ask(b.NodeID, topic); err != nil || len(mt.Partitions) != 3 {
				t.Fatalf("round %d: broker %d right after CreatePartitions: %v, %d partitions, want 3", i, b.NodeID, err, len(mt.Partitions))
			}
		}
		if _, err := adm.DeleteTopics(ctx, topic); err != nil {
			t.Fatalf("delete %s: %v", topic, err)
		}
		for _, b := range c.Brokers {
			if mt, err := ask(b.NodeID, topic); err != nil || mt.ErrorCode != kerr.UnknownTopicOrPartition.Code {
				t.Fatalf("round %d: broker %d right after the delete: %v, %s", i, b.NodeID, err, kerr.ErrorForCode(mt.ErrorCode))
			}
		}
	}
}

// TestLibrdkafkaCreatesAndUsesAtOnce: the client proof. librdkafka
// (confluent-kafka-python) creates a topic through one broker, and a fresh
// client bootstrapped from another lists it and produces to it at once,
// twenty times in a row: the topic is never missing.
func TestLibrdkafkaCreatesAndUsesAtOnce(t *testing.T) {
	t.Parallel()
	py := pythonWith(t, "confluent_kafka")
	c := brokertest.StartCluster(t, 3, brokertest.Options{})
	var addrs []string
	for _, b := range c.Brokers {
		addrs = append(addrs, b.Addr)
	}
	ctx := testContext(t, 3*time.Minute)
	cmd := exec.CommandContext(ctx, py, "testdata/confluent_kafka_create_use.py", strings.Join(addrs, ","), "rdk-use", "20")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s", cmd, err, stderr.String())
	}
	var got struct {
		Rounds  int              `json:"rounds"`
		Missing []map[string]any `json:"missing"`
		Errors  []map[string]any `json:"errors"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("decode %q: %v\nstderr:\n%s", stdout.String(), err, stderr.String())
	}
	if got.Rounds != 20 || len(got.Missing) > 0 || len(got.Errors) > 0 {
		t.Fatalf("%d rounds; topic missing right after the create: %v; produce errors: %v", got.Rounds, got.Missing, got.Errors)
	}
}
