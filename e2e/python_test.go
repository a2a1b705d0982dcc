package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// TestKafkaPythonRoundTrip runs the Python clients in testdata against a
// broker: each produces records with acks=all, reads them back without a
// consumer group, and prints what it got; the test checks every acknowledged
// record came back once, at the offset the producer was told.
func TestKafkaPythonRoundTrip(t *testing.T) {
	t.Parallel()
	b := startBroker(t, nil)
	adm := admin(t, b)
	for _, c := range []struct{ name, module, script string }{
		{"kafka-python", "kafka", "testdata/kafka_python_roundtrip.py"},
		{"confluent-kafka", "confluent_kafka", "testdata/confluent_kafka_roundtrip.py"},
	} {
		t.Run(c.name, func(t *testing.T) {
			py := pythonWith(t, c.module)
			const partitions, count = 3, 500
			topic := "python-" + c.name
			createTopic(t, adm, topic, partitions, nil)
			ctx := testContext(t, 2*time.Minute)
			cmd := exec.CommandContext(ctx, py, c.script, b.Addr, topic,
				strconv.Itoa(partitions), strconv.Itoa(count))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s %s: %v\nstderr:\n%s", py, c.script, err, stderr.String())
			}
			var got pythonResult
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatalf("decode %s output %q: %v\nstderr:\n%s", c.script, stdout.String(), err, stderr.String())
			}
			got.check(t, partitions, count)
		})
	}
}

type pythonResult struct {
	Produced [][3]int64 `json:"produced"` // partition, offset, i
	Consumed [][4]any   `json:"consumed"` // partition, offset, key, value
	Errors   []string   `json:"errors"`
}

func (r pythonResult) check(t *testing.T, partitions, count int) {
	t.Helper()
	for _, e := range r.Errors {
		t.Errorf("client reported: %s", e)
	}
	if len(r.Produced) != count {
		t.Errorf("%d records acknowledged, produced %d", len(r.Produced), count)
	}
	type at struct{ p, off int64 }
	acked := map[at]int64{}
	for _, p := range r.Produced {
		if p[0] != p[2]%int64(partitions) {
			t.Errorf("record %d acknowledged on partition %d, sent to %d", p[2], p[0], p[2]%int64(partitions))
		}
		if p[1] != p[2]/int64(partitions) {
			t.Errorf("record %d acknowledged at offset %d, want %d (the %dth record of partition %d)",
				p[2], p[1], p[2]/int64(partitions), p[2]/int64(partitions), p[0])
		}
		acked[at{p[0], p[1]}] = p[2]
	}
	seen := map[at]bool{}
	for _, c := range r.Consumed {
		part, off := int64(c[0].(float64)), int64(c[1].(float64))
		key, value := c[2].(string), c[3].(string)
		k := at{part, off}
		if seen[k] {
			t.Errorf("partition %d offset %d consumed twice", part, off)
		}
		seen[k] = true
		i, ok := acked[k]
		if !ok {
			t.Errorf("consumed partition %d offset %d (%s=%s) that no ack reported", part, off, key, value)
			continue
		}
		if want := fmt.Sprintf("k%d", i); key != want || value != fmt.Sprintf("v%d", i) {
			t.Errorf("partition %d offset %d holds %s=%s, want %s=v%d", part, off, key, value, want, i)
		}
	}
	if len(seen) != len(acked) {
		t.Errorf("consumed %d records, %d were acknowledged", len(seen), len(acked))
	}
}
