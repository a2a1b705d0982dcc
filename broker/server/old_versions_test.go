package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/log/codec"
	"github.com/weirhq/weir/broker/msgset"
	"github.com/weirhq/weir/broker/protocol"
)

// send writes req at its version over a fresh connection and decodes the
// answer at the same version. The decoded answer must re-encode to the
// bytes received: no field was left unread or read at the wrong width.
func send[R kmsg.Response](t *testing.T, b *testBroker, req kmsg.Request) R {
	t.Helper()
	body := rawRequest(t, b.Addr().String(), req.Key(), req.GetVersion(), req.AppendTo(nil), req.IsFlexible())
	if req.IsFlexible() && req.Key() != 18 {
		body = body[1:] // the v1 response header's empty tagged fields
	}
	resp := req.ResponseKind()
	if err := resp.ReadFrom(body); err != nil {
		t.Fatalf("%s v%d: decoding the answer: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	if again := resp.AppendTo(nil); !bytes.Equal(again, body) {
		t.Fatalf("%s v%d: the answer (%d bytes) re-encodes to %d bytes", kmsg.NameForKey(req.Key()), req.GetVersion(), len(body), len(again))
	}
	return resp.(R)
}

func listOffsetsV0(topic string, ts int64, maxNum int32) *kmsg.ListOffsetsRequest {
	req := kmsg.NewPtrListOffsetsRequest()
	req.SetVersion(0)
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.Timestamp, rp.MaxNumOffsets = 0, ts, maxNum
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// TestListOffsetsV0OldStyleOffsets: v0 (Sarama's and Burrow's) answers an
// array of offsets, newest first, as many as asked for, at segment
// granularity (log.TestLegacyOffsetsBefore has the segment times).
func TestListOffsetsV0OldStyleOffsets(t *testing.T) {
	b := startBroker(t, nil)
	createTopic(t, b, "v0", 1, nil)
	cl := b.client(t, kgo.DefaultProduceTopic("v0"))
	var recs []*kgo.Record
	for i := 0; i < 10; i++ {
		recs = append(recs, &kgo.Record{Value: []byte{byte(i)}})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	del := kmsg.NewPtrDeleteRecordsRequest()
	dt := kmsg.NewDeleteRecordsRequestTopic()
	dt.Topic = "v0"
	dp := kmsg.NewDeleteRecordsRequestTopicPartition()
	dp.Partition, dp.Offset = 0, 3
	dt.Partitions = append(dt.Partitions, dp)
	del.Topics = append(del.Topics, dt)
	if _, err := del.RequestWith(context.Background(), cl); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		ts     int64
		maxNum int32
		want   []int64
		code   int16
	}{
		{"latest, one", listLatest, 1, []int64{10}, 0},
		{"latest, several", listLatest, 5, []int64{10, 3}, 0},
		{"earliest", listEarliest, 1, []int64{3}, 0},
		{"earliest, several", listEarliest, 5, []int64{3}, 0},
		{"none asked for", listLatest, 0, []int64{}, 0},
		{"a timestamp before the segment was written", 1, 1, []int64{}, 0}, // Kafka 3.9: segment times, not record times
		{"a timestamp after every record", 1 << 62, 2, []int64{10, 3}, 0},
		{"an unknown negative timestamp", -7, 1, []int64{}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := send[*kmsg.ListOffsetsResponse](t, b, listOffsetsV0("v0", c.ts, c.maxNum))
			p := resp.Topics[0].Partitions[0]
			if p.ErrorCode != c.code || !slices.Equal(p.OldStyleOffsets, c.want) {
				t.Fatalf("error %d offsets %v, want %d %v", p.ErrorCode, p.OldStyleOffsets, c.code, c.want)
			}
		})
	}
	resp := send[*kmsg.ListOffsetsResponse](t, b, listOffsetsV0("absent", listLatest, 1))
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode == 0 || len(p.OldStyleOffsets) != 0 {
		t.Fatalf("unknown topic: %+v", p)
	}
}

// TestEveryAdvertisedVersionIsServed walks every version of every API in
// the ApiVersions answer: each gets an answer (the connection stays open)
// that decodes at that version and re-encodes to the same bytes. The
// requests are kmsg's defaults, so empty; old-version semantics have
// tests of their own.
func TestEveryAdvertisedVersionIsServed(t *testing.T) {
	b := startBroker(t, nil)
	for _, r := range protocol.Ranges() {
		for v := r.Min; v <= r.Max; v++ {
			req := kmsg.RequestForKey(r.Key)
			req.SetVersion(v)
			switch req := req.(type) {
			case *kmsg.ProduceRequest:
				req.Acks = -1 // acks=0 is never answered
			case *kmsg.UnregisterBrokerRequest:
				req.BrokerID = 999 // not this broker
			}
			send[kmsg.Response](t, b, req)
		}
	}
}

// message appends one message of magic 0 or 1 (Kafka's LegacyRecord) to
// a message set, laid out by hand.
func message(set []byte, magic int8, ts int64, value string) []byte {
	var body []byte
	body = append(body, byte(magic), 0)
	if magic == 1 {
		body = binary.BigEndian.AppendUint64(body, uint64(ts))
	}
	body = binary.BigEndian.AppendUint32(body, 0xffffffff) // null key
	body = binary.BigEndian.AppendUint32(body, uint32(len(value)))
	body = append(body, value...)
	set = binary.BigEndian.AppendUint64(set, 0)
	set = binary.BigEndian.AppendUint32(set, uint32(len(body)+4))
	set = binary.BigEndian.AppendUint32(set, crc32.ChecksumIEEE(body))
	return append(set, body...)
}

func produceV(version int16, topic string, set []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(version)
	req.Acks, req.TimeoutMillis = -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = set
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func fetchV(version int16, topic string, offset int64) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(version)
	req.ReplicaID, req.MaxBytes = -1, 1<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset, rp.PartitionMaxBytes = offset, 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// TestOldMessageFormats: message sets produced with Produce v0–v2 are
// stored as v2 batches (a current client reads them), and Fetch v0–v3
// read stored batches back as message sets of magic 0 (v0–v1) or 1
// (v2–v3), from the fetch offset on; both directions are counted as
// conversions.
func TestOldMessageFormats(t *testing.T) {
	b := startBroker(t, nil)
	createTopic(t, b, "old", 1, nil)
	now := time.Now().UnixMilli()
	for i, c := range []struct {
		version int16
		set     []byte
	}{
		{0, message(message(nil, 0, 0, "v0-a"), 0, 0, "v0-b")},
		{1, message(nil, 0, 0, "v1")},
		{2, message(nil, 1, now, "v2")},
	} {
		resp := send[*kmsg.ProduceResponse](t, b, produceV(c.version, "old", c.set))
		p := resp.Topics[0].Partitions[0]
		if want := []int64{0, 2, 3}[i]; p.ErrorCode != 0 || p.BaseOffset != want {
			t.Fatalf("produce v%d: error %d, base offset %d, want %d", c.version, p.ErrorCode, p.BaseOffset, want)
		}
	}
	bad := message(nil, 1, now, "x")
	bad[len(bad)-1] ^= 1
	if p := send[*kmsg.ProduceResponse](t, b, produceV(2, "old", bad)).Topics[0].Partitions[0]; p.ErrorCode != kerr.CorruptMessage.Code {
		t.Fatalf("a message failing its CRC: error %d, want CORRUPT_MESSAGE", p.ErrorCode)
	}

	cl := b.client(t, kgo.ConsumeTopics("old"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []string
	for len(got) < 4 {
		fs := cl.PollFetches(context.Background())
		fs.EachRecord(func(r *kgo.Record) {
			got = append(got, string(r.Value))
			if wantTs := r.Value[1] == '2'; wantTs != (r.Timestamp.UnixMilli() == now) {
				t.Errorf("record %q: timestamp %v", r.Value, r.Timestamp)
			}
		})
	}
	if !slices.Equal(got, []string{"v0-a", "v0-b", "v1", "v2"}) {
		t.Fatalf("a v2 consumer read %q", got)
	}

	for _, c := range []struct {
		version int16
		magic   int8
	}{{0, 0}, {1, 0}, {2, 1}, {3, 1}} {
		resp := send[*kmsg.FetchResponse](t, b, fetchV(c.version, "old", 1))
		p := resp.Topics[0].Partitions[0]
		if p.ErrorCode != 0 || p.HighWatermark != 4 {
			t.Fatalf("fetch v%d: error %d, high watermark %d", c.version, p.ErrorCode, p.HighWatermark)
		}
		var offsets []int64
		var values []string
		for set := p.RecordBatches; len(set) > 0; {
			size := int(binary.BigEndian.Uint32(set[8:]))
			if m := int8(set[16]); m != c.magic {
				t.Fatalf("fetch v%d: magic %d, want %d", c.version, m, c.magic)
			}
			var m kmsg.MessageV1
			if c.magic == 1 {
				if err := m.ReadFrom(set[:12+size]); err != nil {
					t.Fatal(err)
				}
			} else {
				var m0 kmsg.MessageV0
				if err := m0.ReadFrom(set[:12+size]); err != nil {
					t.Fatal(err)
				}
				m.Offset, m.Value = m0.Offset, m0.Value
			}
			offsets, values = append(offsets, m.Offset), append(values, string(m.Value))
			set = set[12+size:]
		}
		if !slices.Equal(offsets, []int64{1, 2, 3}) || !slices.Equal(values, []string{"v0-b", "v1", "v2"}) {
			t.Fatalf("fetch v%d from offset 1: offsets %v values %q", c.version, offsets, values)
		}
	}

	fams, err := b.gather.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{
		"kafka_server_brokertopicmetrics_producemessageconversions_total": 4,
		"kafka_server_brokertopicmetrics_fetchmessageconversions_total":   12,
	} {
		if got := topicCounterValue(fams, name, "old"); got != want {
			t.Errorf("%s{topic=old} = %v, want %v", name, got, want)
		}
	}

	createTopic(t, b, "no-downconversion", 1, map[string]*string{"message.downconversion.enable": kadm.StringPtr("false")})
	for v, want := range map[int16]int16{3: kerr.UnsupportedVersion.Code, 4: 0} {
		if p := send[*kmsg.FetchResponse](t, b, fetchV(v, "no-downconversion", 0)).Topics[0].Partitions[0]; p.ErrorCode != want {
			t.Errorf("fetch v%d with message.downconversion.enable=false: error %d, want %d", v, p.ErrorCode, want)
		}
	}
}

func topicCounterValue(fams []*dto.MetricFamily, name, topic string) float64 {
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "topic" && l.GetValue() == topic {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return -1
}

// TestOldAdminVersions: DescribeConfigs v0 says which values are defaults
// (it has no config source); ListOffsets answers v8's earliest-local and
// v9's latest-tiered timestamps as Kafka does without tiered storage.
func TestOldAdminVersions(t *testing.T) {
	b := startBroker(t, nil)
	createTopic(t, b, "cfg", 1, map[string]*string{"retention.ms": kadm.StringPtr("1000")})

	dc := kmsg.NewPtrDescribeConfigsRequest()
	dc.SetVersion(0)
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, "cfg"
	dc.Resources = append(dc.Resources, res)
	defaults := map[string]bool{}
	for _, c := range send[*kmsg.DescribeConfigsResponse](t, b, dc).Resources[0].Configs {
		defaults[c.Name] = c.IsDefault
	}
	if d, ok := defaults["retention.ms"]; !ok || d {
		t.Errorf("retention.ms (set on the topic): present %v, default %v", ok, d)
	}
	if d, ok := defaults["segment.bytes"]; !ok || !d {
		t.Errorf("segment.bytes (not set): present %v, default %v", ok, d)
	}

	for _, c := range []struct {
		version       int16
		ts            int64
		offset, epoch int64
	}{{8, listEarliestLocal, 0, 0}, {9, listLatestTiered, -1, -1}} {
		req := kmsg.NewPtrListOffsetsRequest()
		req.SetVersion(c.version)
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "cfg"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = c.ts
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		p := send[*kmsg.ListOffsetsResponse](t, b, req).Topics[0].Partitions[0]
		if p.ErrorCode != 0 || p.Offset != c.offset || int64(p.LeaderEpoch) != c.epoch {
			t.Errorf("ListOffsets v%d timestamp %d: error %d offset %d epoch %d, want offset %d epoch %d",
				c.version, c.ts, p.ErrorCode, p.Offset, p.LeaderEpoch, c.offset, c.epoch)
		}
	}
}

// TestProduceV3RecordsRules: as Kafka's ProduceRequest.validateRecords,
// v3+ carries exactly one v2 batch per partition (INVALID_RECORD) and zstd
// only from v7 (UNSUPPORTED_COMPRESSION_TYPE); v0–v2 take a v2 batch as
// it is.
func TestProduceV3RecordsRules(t *testing.T) {
	b := startBroker(t, nil)
	createTopic(t, b, "rules", 1, nil)
	batch, _, err := msgset.Up(message(nil, 1, time.Now().UnixMilli(), "x"), legacyDecompressor)
	if err != nil {
		t.Fatal(err)
	}
	zstd := slices.Clone(batch)
	zstd[22] |= byte(codec.Zstd) // attributes' low byte: the codec
	for _, c := range []struct {
		name    string
		version int16
		records []byte
		code    int16
	}{
		{"one batch", 3, batch, 0},
		{"two batches", 3, append(slices.Clone(batch), batch...), kerr.InvalidRecord.Code},
		{"a message set", 3, message(nil, 1, 0, "x"), kerr.InvalidRecord.Code},
		{"zstd before v7", 6, zstd, kerr.UnsupportedCompressionType.Code},
		{"a v2 batch in v2", 2, batch, 0},
	} {
		p := send[*kmsg.ProduceResponse](t, b, produceV(c.version, "rules", c.records)).Topics[0].Partitions[0]
		if p.ErrorCode != c.code {
			t.Errorf("%s (v%d): error %d, want %d", c.name, c.version, p.ErrorCode, c.code)
		}
	}
}

// TestProduceAndFetchAtEveryVersion produces one record at every Produce
// version (a message set below v3, a batch from v3) and reads the whole
// partition back at every Fetch version (message sets below v4, batches
// from v4, by topic id from v13): every record comes back at every
// version.
func TestProduceAndFetchAtEveryVersion(t *testing.T) {
	b := startBroker(t, nil)
	createTopic(t, b, "every", 1, nil)
	pr, _ := protocol.VersionRange(0)
	var want []string
	for v := pr.Min; v <= pr.Max; v++ {
		value := fmt.Sprintf("produce-v%d", v)
		set := message(nil, 1, time.Now().UnixMilli(), value)
		if v >= 3 {
			set, _, _ = msgset.Up(set, legacyDecompressor)
		}
		p := send[*kmsg.ProduceResponse](t, b, produceV(v, "every", set)).Topics[0].Partitions[0]
		if p.ErrorCode != 0 || p.BaseOffset != int64(len(want)) {
			t.Fatalf("produce v%d: error %d at offset %d", v, p.ErrorCode, p.BaseOffset)
		}
		want = append(want, value)
	}
	id := b.topic("every").id
	fr, _ := protocol.VersionRange(1)
	for v := fr.Min; v <= fr.Max; v++ {
		req := fetchV(v, "every", 0)
		req.Topics[0].TopicID = id
		p := send[*kmsg.FetchResponse](t, b, req).Topics[0].Partitions[0]
		if p.ErrorCode != 0 {
			t.Fatalf("fetch v%d: error %d", v, p.ErrorCode)
		}
		var got []string
		if v < 4 {
			batch, _, err := msgset.Up(p.RecordBatches, legacyDecompressor)
			if err != nil {
				t.Fatalf("fetch v%d: the answer is not a message set: %v", v, err)
			}
			got = batchValues(t, batch)
		} else {
			got = batchValues(t, p.RecordBatches)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("fetch v%d read %q, want %q", v, got, want)
		}
	}
}

// batchValues decodes the values of v2 batches with kmsg.
func batchValues(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for len(b) > 0 {
		var rb kmsg.RecordBatch
		if err := rb.ReadFrom(b); err != nil {
			t.Fatalf("reading a batch: %v", err)
		}
		for raw := rb.Records; len(raw) > 0; { // uncompressed here
			var r kmsg.Record
			if err := r.ReadFrom(raw); err != nil {
				t.Fatalf("reading a record: %v", err)
			}
			out = append(out, string(r.Value))
			_, n := binary.Varint(raw)
			raw = raw[n+int(r.Length):]
		}
		b = b[12+int(rb.Length):]
	}
	return out
}

// TestOldFetchOfZstd: message formats v0/v1 cannot carry zstd, so an old
// fetch reaching a zstd batch gets UNSUPPORTED_COMPRESSION_TYPE, as from
// Kafka's down-conversion; a v4+ fetch reads it as stored.
func TestOldFetchOfZstd(t *testing.T) {
	b := startBroker(t, nil)
	createTopic(t, b, "zstd", 1, nil)
	cl := b.client(t, kgo.DefaultProduceTopic("zstd"), kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Value: bytes.Repeat([]byte("z"), 100)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	for v, want := range map[int16]int16{1: kerr.UnsupportedCompressionType.Code, 3: kerr.UnsupportedCompressionType.Code, 4: 0} {
		if p := send[*kmsg.FetchResponse](t, b, fetchV(v, "zstd", 0)).Topics[0].Partitions[0]; p.ErrorCode != want {
			t.Errorf("fetch v%d of a zstd batch: error %d, want %d", v, p.ErrorCode, want)
		}
	}
}
