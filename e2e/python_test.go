package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
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

// TestKafkaPythonOldProtocols pins kafka-python to old Kafka releases, so it
// sends their request versions: 0.10.1 (Produce v2 and Fetch v3, message
// format v1, JoinGroup v1), 0.9 (Produce and Fetch v1, message format v0,
// ListOffsets and Metadata v0, JoinGroup v0), 0.8.2 (Produce and Fetch v0,
// FindCoordinator v0, OffsetCommit/OffsetFetch v1, no group membership)
// and 0.8.1 (OffsetCommit/OffsetFetch v0). Each produces (some
// compressed, in message-set wrappers), consumes in a group, commits, and
// reads the commits back; franz-go then sees the same committed offsets.
func TestKafkaPythonOldProtocols(t *testing.T) {
	t.Parallel()
	b := startBroker(t, map[string]string{"group.initial.rebalance.delay.ms": "0"})
	adm := admin(t, b)
	py := pythonWith(t, "kafka")
	for _, c := range []struct{ api, compression string }{
		{"0.10.1", "gzip"}, {"0.10.1", "none"}, {"0.9", "gzip"}, {"0.8.2", "none"}, {"0.8.1", "gzip"},
	} {
		t.Run(c.api+" "+c.compression, func(t *testing.T) {
			const partitions, count = 2, 200
			name := "py-old-" + strings.ReplaceAll(c.api, ".", "") + "-" + c.compression
			createTopic(t, adm, name, partitions, nil)
			ctx := testContext(t, 2*time.Minute)
			cmd := exec.CommandContext(ctx, py, "testdata/kafka_python_old.py", b.Addr, name,
				strconv.Itoa(partitions), strconv.Itoa(count), c.api, name, c.compression)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("kafka_python_old.py: %v\nstderr:\n%s", err, stderr.String())
			}
			var got struct {
				pythonResult
				Committed map[string]int64 `json:"committed"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatalf("decode output %q: %v\nstderr:\n%s", stdout.String(), err, stderr.String())
			}
			got.check(t, partitions, count)
			offs, err := adm.FetchOffsets(ctx, name)
			if err != nil {
				t.Fatalf("franz-go fetching the group's offsets: %v", err)
			}
			for p := int32(0); p < partitions; p++ {
				want := int64(count / partitions)
				if c := got.Committed[strconv.Itoa(int(p))]; c != want {
					t.Errorf("kafka-python reads partition %d committed at %d, want %d", p, c, want)
				}
				if o, ok := offs.Lookup(name, p); !ok || o.At != want {
					t.Errorf("franz-go reads partition %d committed at %+v, want %d", p, o, want)
				}
			}
			if t.Failed() {
				t.Logf("kafka-python's stderr:\n%s", stderr.String())
			}
		})
	}
	// The old versions were the ones spoken.
	wantServed(t, b, map[string][]int{
		"Produce": {0, 1, 2}, "Fetch": {0, 1, 3}, "ListOffsets": {0, 1}, "Metadata": {0},
		"OffsetCommit": {0, 1, 2}, "OffsetFetch": {0, 1}, "FindCoordinator": {0}, "JoinGroup": {0, 1},
		"SyncGroup": {0},
	})
}
