package server

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/replication"
	"github.com/weirhq/weir/internal/vfs"
)

// A broker checkpoints its high watermarks at shutdown and starts from
// them after a restart (the format's own tests are in broker/replication).
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
	got := replication.ReadHWCheckpoints(vfs.Default, []string{filepath.Join(dir, "data")}, slog.New(slog.DiscardHandler))
	hw0, hw1 := got[replication.TopicPartition{Topic: "hwc", Partition: 0}], got[replication.TopicPartition{Topic: "hwc", Partition: 1}]
	if hw0+hw1 != 7 {
		t.Fatalf("checkpointed high watermarks %v, want 7 in all", got)
	}
	b2 := startBrokerIn(t, dir, nil)
	if hw := b2.hwStart[replication.TopicPartition{Topic: "hwc", Partition: 0}]; hw != hw0 {
		t.Fatalf("restarted broker read %d for hwc-0, want %d", hw, hw0)
	}
}
