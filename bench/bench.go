// Package bench is Weir's load generator: it produces and consumes a
// synthetic workload against any Kafka cluster through franz-go and reports
// throughput and per-record acknowledgement latency. `weir bench` wires its
// flags to Options; `weir bench compare` (see Compare) runs the same
// workload against a Weir broker and against franz-go's kfake, each in its
// own process, so that the two are measured the same way.
package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Options describe a produce workload. The zero value of a field takes the
// default that ProduceOptions' comments name.
type Options struct {
	Brokers           []string      // seed brokers
	Topic             string        // topic to produce to
	Partitions        int32         // partitions if the topic is created (-1 or 0: broker default)
	ReplicationFactor int16         // replication factor if the topic is created (-1 or 0: broker default)
	RecordSize        int           // value bytes per record
	Records           int64         // records to produce; 0: run for Duration
	Duration          time.Duration // how long to produce when Records is 0
	Acks              string        // "all", "1" or "0"
	Idempotent        bool          // idempotent producer (needs Acks "all")
	Linger            time.Duration // producer linger
	BatchMaxBytes     int32         // producer batch size cap (0: franz-go's default)
	Compression       string        // none, gzip, snappy, lz4, zstd
	Clients           int           // producer clients, each with its own connections (0: 1)
	Security          []kgo.Opt     // TLS and SASL options for every client (see RunTLS)
}

// Result is what a produce run measured.
type Result struct {
	Records       int64         `json:"records"`
	Bytes         int64         `json:"bytes"`
	Elapsed       time.Duration `json:"elapsed_ns"`
	RecordsPerSec float64       `json:"records_per_sec"`
	MBPerSec      float64       `json:"mb_per_sec"`
	Latency       Latency       `json:"latency"`
}

// throughput returns records/s and MB/s (10^6 bytes) over elapsed.
func throughput(records, bytes int64, elapsed time.Duration) (perSec, mbPerSec float64) {
	secs := elapsed.Seconds()
	if secs <= 0 {
		return 0, 0
	}
	return float64(records) / secs, float64(bytes) / secs / 1e6
}

// String is the one-line report the CLI prints.
func (r Result) String() string {
	return fmt.Sprintf("%d records (%s) in %s: %.0f records/s, %.2f MB/s, latency p50 %s p99 %s p99.9 %s max %s",
		r.Records, byteSize(r.Bytes), r.Elapsed.Round(time.Millisecond), r.RecordsPerSec, r.MBPerSec,
		fmtLatency(r.Latency.P50), fmtLatency(r.Latency.P99), fmtLatency(r.Latency.P999), fmtLatency(r.Latency.Max))
}

// validate checks o and fills its defaults.
func (o *Options) validate() error {
	if len(o.Brokers) == 0 {
		return errors.New("no brokers given")
	}
	if o.Topic == "" {
		return errors.New("no topic given")
	}
	if o.RecordSize < 0 {
		return fmt.Errorf("record size %d is negative", o.RecordSize)
	}
	if o.Records <= 0 && o.Duration <= 0 {
		return errors.New("neither a record count nor a duration given")
	}
	if o.Clients <= 0 {
		o.Clients = 1
	}
	if o.Idempotent && o.Acks != "all" && o.Acks != "" {
		return fmt.Errorf("idempotent writes need acks=all, not acks=%s", o.Acks)
	}
	return nil
}

// producerOpts returns the kgo options o asks for.
func (o *Options) producerOpts() ([]kgo.Opt, error) {
	acks, err := ParseAcks(o.Acks)
	if err != nil {
		return nil, err
	}
	codec, err := ParseCompression(o.Compression)
	if err != nil {
		return nil, err
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(o.Brokers...),
		kgo.RequiredAcks(acks),
		kgo.ProducerLinger(o.Linger),
		kgo.ProducerBatchCompression(codec),
		kgo.DefaultProduceTopic(o.Topic),
	}
	opts = append(opts, o.Security...)
	if !o.Idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	if o.BatchMaxBytes > 0 {
		opts = append(opts, kgo.ProducerBatchMaxBytes(o.BatchMaxBytes))
	}
	return opts, nil
}

// ParseAcks maps "all", "-1", "1" and "0" to kgo's acks.
func ParseAcks(s string) (kgo.Acks, error) {
	switch s {
	case "all", "-1", "":
		return kgo.AllISRAcks(), nil
	case "1":
		return kgo.LeaderAck(), nil
	case "0":
		return kgo.NoAck(), nil
	}
	return kgo.Acks{}, fmt.Errorf("acks %q is not one of all, 1, 0", s)
}

// ParseCompression maps a Kafka compression.type name to a kgo codec.
func ParseCompression(s string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(s) {
	case "none", "":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("compression %q is not one of none, gzip, snappy, lz4, zstd", s)
}

// EnsureTopic creates topic with the given partitions and replication factor
// unless it exists already; sec are TLS and SASL options, if any.
func EnsureTopic(ctx context.Context, brokers []string, topic string, partitions int32, rf int16, sec ...kgo.Opt) error {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, sec...)...)
	if err != nil {
		return fmt.Errorf("creating admin client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if partitions == 0 {
		partitions = -1
	}
	if rf == 0 {
		rf = -1
	}
	_, err = adm.CreateTopic(ctx, partitions, rf, nil, topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("creating topic %s: %w", topic, err)
	}
	return nil
}

// DeleteTopic deletes topic, so that a broker that keeps records in memory
// gives the memory back between runs, and one that writes them to files
// leaves no dirty pages for the kernel to write back during the next run.
func DeleteTopic(ctx context.Context, brokers []string, topic string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return fmt.Errorf("creating admin client: %w", err)
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).DeleteTopic(ctx, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("deleting topic %s: %w", topic, err)
	}
	return nil
}

// randomValue returns size random bytes, shared read-only by every record.
func randomValue(size int) []byte {
	b := make([]byte, size)
	_, _ = rand.Read(b)
	return b
}

// byteSize formats n bytes with a binary unit.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// fmtLatency prints a latency with three significant digits.
func fmtLatency(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}
