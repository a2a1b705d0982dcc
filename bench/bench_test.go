package bench

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func newCluster(t *testing.T) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatalf("starting kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

func TestProduceThenConsume(t *testing.T) {
	brokers := newCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Produce(ctx, Options{
		Brokers: brokers, Topic: "t", Partitions: 3, RecordSize: 100, Records: 2000,
		Acks: "all", Idempotent: true, Clients: 2, Linger: time.Millisecond, Compression: "lz4",
	})
	if err != nil {
		t.Fatalf("Produce: %v", err)
	}
	if res.Records != 2000 || res.Bytes != 2000*100 {
		t.Errorf("produced %d records, %d bytes; want 2000, 200000", res.Records, res.Bytes)
	}
	if res.RecordsPerSec <= 0 || res.Latency.P50 <= 0 || res.Latency.P50 > res.Latency.P99 || res.Latency.P99 > res.Latency.Max {
		t.Errorf("implausible result: %+v", res)
	}
	cres, err := Consume(ctx, ConsumeOptions{Brokers: brokers, Topic: "t"})
	if err != nil {
		t.Fatalf("Consume: %v", err)
	}
	// Each client's warm-up record is in the topic too.
	if cres.Records != 2002 || cres.Bytes != 2002*100 {
		t.Errorf("consumed %d records, %d bytes; want 2002, 200200", cres.Records, cres.Bytes)
	}
	if err := DeleteTopic(ctx, brokers, "t"); err != nil {
		t.Errorf("DeleteTopic: %v", err)
	}
}

func TestProduceForDuration(t *testing.T) {
	brokers := newCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	res, err := Produce(ctx, Options{Brokers: brokers, Topic: "d", RecordSize: 10, Duration: 200 * time.Millisecond, Acks: "1"})
	if err != nil {
		t.Fatalf("Produce: %v", err)
	}
	if res.Records == 0 || time.Since(start) > 10*time.Second {
		t.Errorf("produced %d records in %v", res.Records, time.Since(start))
	}
}

func TestConsumeEmptyTopic(t *testing.T) {
	brokers := newCluster(t)
	ctx := context.Background()
	if err := EnsureTopic(ctx, brokers, "empty", 2, 1); err != nil {
		t.Fatal(err)
	}
	if err := EnsureTopic(ctx, brokers, "empty", 2, 1); err != nil {
		t.Fatalf("EnsureTopic on an existing topic: %v", err)
	}
	res, err := Consume(ctx, ConsumeOptions{Brokers: brokers, Topic: "empty"})
	if err != nil || res.Records != 0 {
		t.Fatalf("Consume of an empty topic: %+v, %v", res, err)
	}
}

func TestOptionErrors(t *testing.T) {
	base := Options{Brokers: []string{"127.0.0.1:1"}, Topic: "t", Records: 1, Acks: "all"}
	tests := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"idempotent acks 1", func(o *Options) { o.Acks, o.Idempotent = "1", true }, "idempotent writes need acks=all"},
		{"bad acks", func(o *Options) { o.Acks = "2" }, `acks "2" is not one of`},
		{"bad compression", func(o *Options) { o.Compression = "brotli" }, `compression "brotli"`},
		{"no amount", func(o *Options) { o.Records = 0 }, "neither a record count nor a duration"},
		{"no brokers", func(o *Options) { o.Brokers = nil }, "no brokers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.edit(&o)
			_, err := Produce(context.Background(), o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestWriteTable(t *testing.T) {
	lat := Latency{P50: time.Millisecond, P99: 4 * time.Millisecond, P999: 5 * time.Millisecond}
	rep := &CompareReport{
		Candidate: "weir", Baseline: "kfake",
		Runs: []Run{
			{Workload: "1KiB", System: "weir", Produce: Result{RecordsPerSec: 200, MBPerSec: 2, Latency: lat}, Consume: ConsumeResult{RecordsPerSec: 300}},
			{Workload: "1KiB", System: "kfake", Produce: Result{RecordsPerSec: 100, MBPerSec: 1, Latency: lat}, Consume: ConsumeResult{RecordsPerSec: 600}},
		},
		Memory: &MemoryRun{System: "weir", Produce: Result{Bytes: 2 << 30}, After: Memory{RSSBytes: 300 << 20, HWMBytes: 400 << 20}},
	}
	var buf bytes.Buffer
	if err := rep.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"records/s", "weir/kfake", "2.00x", "0.50x", "VmRSS 300.0 MiB", "VmHWM 400.0 MiB", "2.0 GiB"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestReadMemory(t *testing.T) {
	m, err := ReadMemory(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if m.RSSBytes <= 0 || m.HWMBytes < m.RSSBytes {
		t.Errorf("implausible memory %+v", m)
	}
}

func TestStartServerThatExits(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	log := t.TempDir() + "/server.log"
	_, err = StartServer(context.Background(), "broken", "127.0.0.1:"+strconv.Itoa(port), log,
		[]string{"sh", "-c", "echo config is wrong >&2; exit 3"}, 30*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "config is wrong") {
		t.Fatalf("err = %v, want the exit and the log tail", err)
	}
}
