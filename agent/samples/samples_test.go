package samples

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/agent/pipeline"
	"github.com/weirhq/weir/agent/snapshot"
	"github.com/weirhq/weir/agent/source/brokeradmin"
	"github.com/weirhq/weir/internal/await"
)

var testTime = time.UnixMilli(1_700_000_000_123).UTC()

const brokerPage = `# TYPE kafka_log_log_size gauge
kafka_log_log_size{partition="0",topic="orders"} 1000
kafka_log_log_size{partition="1",topic="orders"} 3000
kafka_log_log_size{partition="2",topic="orders"} 5000
`

// testSnapshot is broker 1's agent: it leads orders-0 and orders-1 (not
// orders-2) and idle-0; the broker took 400 B/s into orders and nothing
// into idle.
func testSnapshot(t *testing.T) *snapshot.Snapshot {
	fams, err := brokeradmin.Parse(strings.NewReader(brokerPage))
	if err != nil {
		t.Fatal(err)
	}
	var rates brokeradmin.Rates
	br := rates.Convert(fams, testTime)
	br.BytesInPerSec, br.BytesOutPerSec, br.MessagesInPerSec, br.PartitionCount, br.LeaderCount = 400, 800, 40, 4, 3
	br.Topics = []snapshot.TopicRates{{Topic: "orders", BytesInPerSec: 400, BytesOutPerSec: 800, MessagesInPerSec: 40}}
	return &snapshot.Snapshot{Time: testTime, ClusterName: "east", BrokerID: 1, Broker: br,
		Host: &snapshot.Host{CPU: snapshot.CPUPercent{Valid: true, Idle: 75, User: 25}, CPUCores: 2.5,
			Disks: []snapshot.Disk{{TotalBytes: 1 << 30, UsedBytes: 1 << 20}},
			Network: []snapshot.NetDevice{{Device: "eth0", SpeedBytesPerSec: 1.25e9, Listener: true},
				{Device: "eth1", SpeedBytesPerSec: 125e6}}},
		Cluster: &snapshot.Cluster{Brokers: []snapshot.BrokerMeta{{ID: 1, Rack: "us-east-1a"}, {ID: 2}}, Topics: []snapshot.Topic{
			{Name: "idle", Partitions: []snapshot.Partition{{Partition: 0, Leader: 1, Replicas: []int32{1}}}},
			{Name: "orders", Partitions: []snapshot.Partition{
				{Partition: 0, Leader: 1, Replicas: []int32{1, 2}, ProduceRate: 10},
				{Partition: 1, Leader: 1, Replicas: []int32{1, 2}, ProduceRate: 30},
				{Partition: 2, Leader: 2, Replicas: []int32{2, 1}, ProduceRate: 50},
			}},
		}},
	}
}

func TestLoads(t *testing.T) {
	b, parts := Loads(testSnapshot(t), time.Minute)
	if b == nil || b.BytesInPerSec != 400 || *b.CPUPercent != 25 || b.DiskCapacityBytes != 1<<30 || b.DiskUsedBytes != 1<<20 ||
		b.LeaderCount != 3 || b.ReplicationBytesInPerSec != nil || b.Interval != time.Minute {
		t.Fatalf("broker load %+v", b)
	}
	// Capacity: eth0 carries the listener (10 Gbit/s), eth1 does not count.
	if b.CPUCores != 2.5 || *b.NetworkCapacityBytesPerSec != 1.25e9 || *b.Rack != "us-east-1a" || b.ProvisionedStorageBytes != nil {
		t.Fatalf("broker capacity %+v", b)
	}
	if len(parts) != 3 {
		t.Fatalf("%d partition loads, want idle-0, orders-0, orders-1", len(parts))
	}
	// A broker that counts replication bytes fills them.
	rs := testSnapshot(t)
	rs.Broker.ReplicationBytesInPerSec, rs.Broker.ReplicationBytesOutPerSec, rs.Broker.ReplicationValid = 300, 700, true
	if b, _ := Loads(rs, time.Minute); b.ReplicationBytesInPerSec == nil || *b.ReplicationBytesInPerSec != 300 || *b.ReplicationBytesOutPerSec != 700 {
		t.Fatalf("replication bytes %v %v", b.ReplicationBytesInPerSec, b.ReplicationBytesOutPerSec)
	}
	idle, o0, o1 := parts[0], parts[1], parts[2]
	if *idle.BytesInPerSec != 0 || idle.BytesApportioned || idle.SizeBytes != nil {
		t.Errorf("idle-0 %+v", idle)
	}
	// orders-0 and -1 grew 10 and 30 records/s: a quarter and three quarters.
	if *o0.BytesInPerSec != 100 || *o1.BytesInPerSec != 300 || *o1.BytesOutPerSec != 600 || !o0.BytesApportioned ||
		o1.MessagesInPerSec != 30 || *o1.SizeBytes != 3000 {
		t.Errorf("orders-0 %+v, orders-1 %+v", o0, o1)
	}
	// A cluster-wide agent reports every partition, without byte rates.
	s := testSnapshot(t)
	s.BrokerID, s.Broker = -1, nil
	b, parts = Loads(s, time.Minute)
	if b != nil || len(parts) != 4 || parts[3].BytesInPerSec != nil || parts[3].MessagesInPerSec != 50 {
		t.Fatalf("cluster-wide: %+v %+v", b, parts)
	}
}

// publishedCodec parses a schema file from the repository, independently of
// the package's embedded copy.
func publishedCodec(t *testing.T, id byte) *goavro.Codec {
	t.Helper()
	data, err := os.ReadFile("schema/" + SchemaFiles[id])
	if err != nil {
		t.Fatal(err)
	}
	c, err := goavro.NewCodec(string(data))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRecordsDecodeWithThePublishedSchemas(t *testing.T) {
	p := NewProducer(nil, Options{Interval: time.Minute})
	recs, err := p.Records(testSnapshot(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || string(recs[0].Key) != "1" || string(recs[2].Key) != "orders-0" {
		t.Fatalf("%d records, keys %q %q", len(recs), recs[0].Key, recs[2].Key)
	}
	checkRecords(t, recs)
}

// checkRecords decodes the records of testSnapshot with the schema files and
// with Decode, and checks both.
func checkRecords(t *testing.T, recs []*kgo.Record) {
	t.Helper()
	for _, r := range recs {
		id := r.Value[0]
		native, rest, err := publishedCodec(t, id).NativeFromBinary(r.Value[1:])
		if err != nil || len(rest) != 0 {
			t.Fatalf("%s: the published schema does not decode it: %v, %d bytes left", r.Key, err, len(rest))
		}
		if string(r.Headers[0].Value) != SchemaFiles[id] {
			t.Errorf("%s: header %s", r.Key, r.Headers[0].Value)
		}
		s, err := Decode(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		m := native.(map[string]any)
		if !m["time"].(time.Time).Equal(testTime) || m["cluster_name"] != "east" {
			t.Errorf("%s: %v", r.Key, m)
		}
		switch string(r.Key) {
		case "1":
			if s.SchemaID != SchemaBrokerLoadV2 || s.Broker == nil || s.Broker.BytesOutPerSec != 800 || *s.Broker.CPUPercent != 25 ||
				!s.Broker.Time.Equal(testTime) || s.Broker.CPUCores != 2.5 || *s.Broker.NetworkCapacityBytesPerSec != 1.25e9 ||
				*s.Broker.Rack != "us-east-1a" || s.Broker.ProvisionedStorageBytes != nil {
				t.Errorf("broker sample %+v", s.Broker)
			}
			if u := m["rack"].(map[string]any); u["string"] != "us-east-1a" || m["provisioned_storage_bytes"] != nil {
				t.Errorf("broker rack in Avro: %v, provisioned storage %v", u, m["provisioned_storage_bytes"])
			}
		case "orders-1":
			pl := s.Partition
			if pl == nil || *pl.BytesInPerSec != 300 || *pl.SizeBytes != 3000 || pl.Leader != 1 || len(pl.Replicas) != 2 || !pl.BytesApportioned {
				t.Errorf("orders-1 sample %+v", pl)
			}
			if u := m["size_bytes"].(map[string]any); u["long"] != int64(3000) {
				t.Errorf("orders-1 size_bytes in Avro: %v", u)
			}
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, v := range [][]byte{nil, {9, 0}, {SchemaBrokerLoadV1}, {SchemaBrokerLoadV2}, {SchemaPartitionLoadV1, 0xff}} {
		if _, err := Decode(v); err == nil {
			t.Errorf("Decode(%x) accepted", v)
		}
	}
	good, _ := EncodeBroker(&BrokerLoad{Time: testTime, BytesInPerSec: math.Pi})
	if _, err := Decode(append(good, 0)); err == nil {
		t.Error("trailing byte accepted")
	}
}

// TestDecodeV1: a collector keeps reading broker_load_v1 samples written
// by older agents; their v2 fields are zero and nil.
func TestDecodeV1(t *testing.T) {
	b, _ := Loads(testSnapshot(t), time.Minute)
	v1, err := encode(SchemaBrokerLoadV1, brokerV1Native(b))
	if err != nil {
		t.Fatal(err)
	}
	if _, rest, err := publishedCodec(t, SchemaBrokerLoadV1).NativeFromBinary(v1[1:]); err != nil || len(rest) != 0 {
		t.Fatalf("the published v1 schema does not decode it: %v", err)
	}
	s, err := Decode(v1)
	if err != nil {
		t.Fatal(err)
	}
	got := s.Broker
	if s.SchemaID != SchemaBrokerLoadV1 || got.BytesInPerSec != 400 || *got.CPUPercent != 25 || got.DiskCapacityBytes != 1<<30 ||
		got.CPUCores != 0 || got.NetworkCapacityBytesPerSec != nil || got.Rack != nil || got.ProvisionedStorageBytes != nil {
		t.Fatalf("v1 decoded to %+v", got)
	}
}

// TestV2Optionals round-trips every optional v2 field set and unset.
func TestV2Optionals(t *testing.T) {
	nw, rack, prov := 125e6, "r1", int64(1<<40)
	for _, in := range []BrokerLoad{
		{Time: testTime, CPUCores: 8},
		{Time: testTime, CPUCores: 0.5, NetworkCapacityBytesPerSec: &nw, Rack: &rack, ProvisionedStorageBytes: &prov},
	} {
		v, err := EncodeBroker(&in)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Decode(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Broker; got.CPUCores != in.CPUCores || (got.Rack == nil) != (in.Rack == nil) ||
			(in.Rack != nil && (*got.Rack != rack || *got.NetworkCapacityBytesPerSec != nw || *got.ProvisionedStorageBytes != prov)) {
			t.Errorf("%+v decoded to %+v", in, got)
		}
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := EncodeBroker(&BrokerLoad{Time: testTime})
	f.Add(good)
	nw, rack := 1e9, "a"
	full, _ := EncodeBroker(&BrokerLoad{Time: testTime, CPUCores: 4, NetworkCapacityBytesPerSec: &nw, Rack: &rack})
	f.Add(full)
	v1, _ := encode(SchemaBrokerLoadV1, brokerV1Native(&BrokerLoad{Time: testTime}))
	f.Add(v1)
	part, _ := EncodePartition(&PartitionLoad{Time: testTime, Topic: "t", Replicas: []int32{1, 2}})
	f.Add(part)
	f.Fuzz(func(t *testing.T, v []byte) {
		s, err := Decode(v)
		if err == nil && (s.Broker == nil) == (s.Partition == nil) {
			t.Fatalf("decoded %x to %+v", v, s)
		}
	})
}

// TestDeadClusterNeverBlocksCollection: with no broker reachable, publishing
// never waits and the samples sink's failures and drops are counted.
func TestDeadClusterNeverBlocksCollection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	p := pipeline.New([]snapshot.Exporter{NewProducer(cl, Options{})}, pipeline.Options{ExportTimeout: 100 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); p.Run(ctx) }()
	const n = 20
	for range n {
		start := time.Now()
		p.Publish(testSnapshot(t))
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Fatalf("Publish took %v", d)
		}
		time.Sleep(10 * time.Millisecond) // the collection interval, shortened
	}
	await.For(t, 10*time.Second, "every samples export failed or dropped", func() error {
		if h := p.Health()[0]; h.Errors+h.Dropped != n || h.Queued != 0 {
			return fmt.Errorf("samples health %+v", h)
		}
		return nil
	})
	if h := p.Health()[0]; h.Exported != 0 || h.Errors == 0 {
		t.Fatalf("samples health %+v", h)
	}
	cancel()
	wg.Wait()
}

// The broker process's CPU wins over the host's: brokers sharing a host
// must not each report the host's total.
func TestCPUPercent(t *testing.T) {
	host := &snapshot.Host{CPUCores: 4, CPU: snapshot.CPUPercent{Valid: true, Idle: 10}}
	for _, tc := range []struct {
		br   snapshot.Broker
		h    *snapshot.Host
		want float64 // -1: nil
	}{
		{snapshot.Broker{ProcessCPUCores: 1, ProcessCPUValid: true}, host, 25},
		{snapshot.Broker{ProcessCPUCores: 9, ProcessCPUValid: true}, host, 100},
		{snapshot.Broker{}, host, 90},
		{snapshot.Broker{}, &snapshot.Host{}, -1},
	} {
		got := cpuPercent(&tc.br, tc.h)
		if tc.want < 0 && got != nil || tc.want >= 0 && (got == nil || *got != tc.want) {
			t.Errorf("%+v: got %v, want %v", tc.br, got, tc.want)
		}
	}
}

// TestDiskFromProvisionedStorage: a broker that answers DescribeLogDirs
// with sizes gives the load sample its disk capacity and use (a Weir
// broker's provisioned storage), not the filesystem's; one answering −1
// (before Kafka 3.3) leaves the filesystem's; another broker's answer is
// not this broker's.
func TestDiskFromProvisionedStorage(t *testing.T) {
	for _, tc := range []struct {
		storage        []snapshot.BrokerStorage
		capacity, used int64
	}{
		{[]snapshot.BrokerStorage{{BrokerID: 1, LogDirs: []snapshot.LogDirStorage{{Dir: "/d", TotalBytes: 64 << 20, UsableBytes: 16 << 20}}}}, 64 << 20, 48 << 20},
		{[]snapshot.BrokerStorage{{BrokerID: 1, LogDirs: []snapshot.LogDirStorage{{Dir: "/d", TotalBytes: -1, UsableBytes: -1}}}}, 1 << 30, 1 << 20},
		{[]snapshot.BrokerStorage{{BrokerID: 2, LogDirs: []snapshot.LogDirStorage{{Dir: "/d", TotalBytes: 64 << 20, UsableBytes: 0}}}}, 1 << 30, 1 << 20},
	} {
		s := testSnapshot(t)
		s.Storage = tc.storage
		b, _ := Loads(s, time.Minute)
		if b.DiskCapacityBytes != tc.capacity || b.DiskUsedBytes != tc.used {
			t.Errorf("storage %+v: capacity %d used %d, want %d and %d", tc.storage, b.DiskCapacityBytes, b.DiskUsedBytes, tc.capacity, tc.used)
		}
	}
}
