package server

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestHighWatermarkCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	b := startBrokerIn(t, dir, nil)
	createTopic(t, b, "hwc", 2, nil)
	cl := b.client(t, kgo.DefaultProduceTopic("hwc"))
	for i := 0; i < 7; i++ {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: []byte("v"), Partition: int32(i % 2)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	stopBroker(t, b)
	got := map[topicPartition]int64{}
	data, err := os.ReadFile(filepath.Join(dir, "data", hwCheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := parseHWCheckpoint(data, got); err != nil {
		t.Fatal(err)
	}
	if got[topicPartition{"hwc", 0}]+got[topicPartition{"hwc", 1}] != 7 {
		t.Fatalf("checkpointed high watermarks %v, want 7 in all", got)
	}
	b2 := startBrokerIn(t, dir, nil)
	if hw := b2.hwStart[topicPartition{"hwc", 0}]; hw != got[topicPartition{"hwc", 0}] {
		t.Fatalf("restarted broker read %d for hwc-0, want %d", hw, got[topicPartition{"hwc", 0}])
	}
}

func TestParseHWCheckpointRejectsDamage(t *testing.T) {
	for _, bad := range []string{"", "1\n0\n", "0\n2\nt 0 5\n", "0\n1\nt x 5\n", "0\n1\nt 0\n"} {
		if err := parseHWCheckpoint([]byte(bad), map[topicPartition]int64{}); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
