// Package samples produces the agent's load samples for the collector and
// decodes them: every sampling interval, Avro records (goavro) with one
// broker's load and the load of each partition it leads, to the
// __weir_metrics topic (ARCHITECTURE.md decision 7, Cruise Control's metrics
// topic), which the collector reads to build its load model.
//
// A record's value is one schema-id byte and the Avro binary encoding of
// that schema (schema/*.avsc, embedded here and published in the
// repository; docs/AGENT.md has the table). A record also carries the
// header weir.schema with the schema's file name. A new field or type gets
// a new schema file and id; ids are never reused, so a collector can read a
// topic that holds several versions.
package samples

import (
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/linkedin/goavro/v2"
)

// Schema ids: the first byte of every sample.
const (
	SchemaBrokerLoadV1    byte = 1 // read only: agents produce v2
	SchemaPartitionLoadV1 byte = 2
	SchemaBrokerLoadV2    byte = 3 // v1 and the host's capacity
)

// SchemaFiles names each id's schema file under schema/.
var SchemaFiles = map[byte]string{
	SchemaBrokerLoadV1:    "broker_load_v1.avsc",
	SchemaPartitionLoadV1: "partition_load_v1.avsc",
	SchemaBrokerLoadV2:    "broker_load_v2.avsc",
}

//go:embed schema/*.avsc
var schemaFS embed.FS

// Bounds on what a decoded sample may claim. goavro sizes an array's
// backing store by the block count the bytes announce, so a corrupt record
// could ask for gigabytes (found by FuzzDecode); no sample has more than a
// few replicas or a string over Kafka's 249-character names. goavro's
// bounds are process-wide: the agent and the collector use goavro only
// through this package.
const (
	maxBlockCount = 1 << 16
	maxBlockSize  = 1 << 20
)

// codecs are built once from the embedded schema files.
var codecs = func() map[byte]*goavro.Codec {
	goavro.MaxBlockCount, goavro.MaxBlockSize = maxBlockCount, maxBlockSize
	out := map[byte]*goavro.Codec{}
	for id, file := range SchemaFiles {
		data, err := schemaFS.ReadFile("schema/" + file)
		if err != nil {
			panic(fmt.Sprintf("embedded schema %s: %v", file, err)) // broken build
		}
		c, err := goavro.NewCodec(string(data))
		if err != nil {
			panic(fmt.Sprintf("schema %s: %v", file, err)) // broken build
		}
		out[id] = c
	}
	return out
}()

// BrokerLoad is broker_load_v2; decoded from v1, its v2 fields are zero
// and nil.
type BrokerLoad struct {
	Time                      time.Time
	ClusterName               string
	BrokerID                  int32
	Interval                  time.Duration
	BytesInPerSec             float64
	BytesOutPerSec            float64
	ReplicationBytesInPerSec  *float64 // nil: not exposed by the broker (Weir's before the replication counters)
	ReplicationBytesOutPerSec *float64
	MessagesInPerSec          float64
	CPUPercent                *float64 // nil: not measured yet
	DiskCapacityBytes         int64
	DiskUsedBytes             int64
	PartitionCount            int32
	LeaderCount               int32

	// Since v2: the host's capacity.
	CPUCores                   float64  // 0 in a v1 sample
	NetworkCapacityBytesPerSec *float64 // nil: unknown (loopback, virtual devices)
	Rack                       *string  // nil: none or unknown
	ProvisionedStorageBytes    *int64   // nil: unknown
}

// PartitionLoad is partition_load_v1.
type PartitionLoad struct {
	Time             time.Time
	ClusterName      string
	BrokerID         int32
	Topic            string
	Partition        int32
	Leader           int32
	Replicas         []int32
	BytesInPerSec    *float64 // nil: unknown
	BytesOutPerSec   *float64
	BytesApportioned bool
	MessagesInPerSec float64
	SizeBytes        *int64 // nil: unknown
}

// Sample is one decoded record: exactly one of the pointers is set.
type Sample struct {
	SchemaID  byte
	Broker    *BrokerLoad
	Partition *PartitionLoad
}

// EncodeBroker returns the record value of a broker sample, in
// broker_load_v2.
func EncodeBroker(b *BrokerLoad) ([]byte, error) {
	native := brokerV1Native(b)
	native["cpu_cores"] = b.CPUCores
	native["network_capacity_bytes_per_sec"] = optional("double", b.NetworkCapacityBytesPerSec)
	native["rack"] = optional("string", b.Rack)
	native["provisioned_storage_bytes"] = optional("long", b.ProvisionedStorageBytes)
	return encode(SchemaBrokerLoadV2, native)
}

// brokerV1Native is goavro's form of b's broker_load_v1 fields.
func brokerV1Native(b *BrokerLoad) map[string]any {
	return map[string]any{
		"time": b.Time, "cluster_name": b.ClusterName, "broker_id": b.BrokerID, "interval_ms": b.Interval.Milliseconds(),
		"bytes_in_per_sec": b.BytesInPerSec, "bytes_out_per_sec": b.BytesOutPerSec,
		"replication_bytes_in_per_sec":  optional("double", b.ReplicationBytesInPerSec),
		"replication_bytes_out_per_sec": optional("double", b.ReplicationBytesOutPerSec),
		"messages_in_per_sec":           b.MessagesInPerSec, "cpu_percent": optional("double", b.CPUPercent),
		"disk_capacity_bytes": b.DiskCapacityBytes, "disk_used_bytes": b.DiskUsedBytes,
		"partition_count": b.PartitionCount, "leader_count": b.LeaderCount,
	}
}

// EncodePartition returns the record value of a partition sample.
func EncodePartition(p *PartitionLoad) ([]byte, error) {
	replicas := make([]any, len(p.Replicas))
	for i, r := range p.Replicas {
		replicas[i] = r
	}
	native := map[string]any{
		"time": p.Time, "cluster_name": p.ClusterName, "broker_id": p.BrokerID, "topic": p.Topic,
		"partition": p.Partition, "leader": p.Leader, "replicas": replicas,
		"bytes_in_per_sec": optional("double", p.BytesInPerSec), "bytes_out_per_sec": optional("double", p.BytesOutPerSec),
		"bytes_apportioned": p.BytesApportioned, "messages_in_per_sec": p.MessagesInPerSec,
		"size_bytes": optional("long", p.SizeBytes),
	}
	return encode(SchemaPartitionLoadV1, native)
}

func encode(id byte, native map[string]any) ([]byte, error) {
	out, err := codecs[id].BinaryFromNative([]byte{id}, native)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", SchemaFiles[id], err)
	}
	return out, nil
}

// optional is goavro's form of a ["null", T] union value.
func optional[T any](typ string, v *T) any {
	if v == nil {
		return nil
	}
	return goavro.Union(typ, *v)
}

// Decode reads one record value.
func Decode(value []byte) (Sample, error) {
	if len(value) == 0 {
		return Sample{}, errors.New("decoding a load sample: empty value")
	}
	id := value[0]
	c, ok := codecs[id]
	if !ok {
		return Sample{}, fmt.Errorf("decoding a load sample: unknown schema id %d", id)
	}
	native, rest, err := c.NativeFromBinary(value[1:])
	if err != nil {
		return Sample{}, fmt.Errorf("decoding a load sample (%s): %w", SchemaFiles[id], err)
	}
	if len(rest) > 0 {
		return Sample{}, fmt.Errorf("decoding a load sample (%s): %d bytes after the record", SchemaFiles[id], len(rest))
	}
	m := native.(map[string]any)
	switch id {
	case SchemaBrokerLoadV1:
		return Sample{SchemaID: id, Broker: brokerFromNative(m)}, nil
	case SchemaBrokerLoadV2:
		b := brokerFromNative(m)
		b.CPUCores = m["cpu_cores"].(float64)
		b.NetworkCapacityBytesPerSec = fromUnion[float64](m["network_capacity_bytes_per_sec"], "double")
		b.Rack = fromUnion[string](m["rack"], "string")
		b.ProvisionedStorageBytes = fromUnion[int64](m["provisioned_storage_bytes"], "long")
		return Sample{SchemaID: id, Broker: b}, nil
	}
	return Sample{SchemaID: id, Partition: partitionFromNative(m)}, nil
}

func brokerFromNative(m map[string]any) *BrokerLoad {
	return &BrokerLoad{
		Time: m["time"].(time.Time).UTC(), ClusterName: m["cluster_name"].(string), BrokerID: m["broker_id"].(int32),
		Interval:      time.Duration(m["interval_ms"].(int64)) * time.Millisecond,
		BytesInPerSec: m["bytes_in_per_sec"].(float64), BytesOutPerSec: m["bytes_out_per_sec"].(float64),
		ReplicationBytesInPerSec:  fromUnion[float64](m["replication_bytes_in_per_sec"], "double"),
		ReplicationBytesOutPerSec: fromUnion[float64](m["replication_bytes_out_per_sec"], "double"),
		MessagesInPerSec:          m["messages_in_per_sec"].(float64), CPUPercent: fromUnion[float64](m["cpu_percent"], "double"),
		DiskCapacityBytes: m["disk_capacity_bytes"].(int64), DiskUsedBytes: m["disk_used_bytes"].(int64),
		PartitionCount: m["partition_count"].(int32), LeaderCount: m["leader_count"].(int32),
	}
}

func partitionFromNative(m map[string]any) *PartitionLoad {
	p := &PartitionLoad{
		Time: m["time"].(time.Time).UTC(), ClusterName: m["cluster_name"].(string), BrokerID: m["broker_id"].(int32),
		Topic: m["topic"].(string), Partition: m["partition"].(int32), Leader: m["leader"].(int32),
		BytesInPerSec:    fromUnion[float64](m["bytes_in_per_sec"], "double"),
		BytesOutPerSec:   fromUnion[float64](m["bytes_out_per_sec"], "double"),
		BytesApportioned: m["bytes_apportioned"].(bool), MessagesInPerSec: m["messages_in_per_sec"].(float64),
		SizeBytes: fromUnion[int64](m["size_bytes"], "long"),
	}
	for _, r := range m["replicas"].([]any) {
		p.Replicas = append(p.Replicas, r.(int32))
	}
	return p
}

// fromUnion reads goavro's decoded ["null", T] union.
func fromUnion[T any](v any, typ string) *T {
	u, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	x, ok := u[typ].(T)
	if !ok {
		return nil
	}
	return &x
}
