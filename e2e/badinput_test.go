package e2e

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/brokertest"
)

// TestBadInput sends what no well-behaved client sends: oversized frames,
// garbage, unknown API keys and versions, corrupt and oversized batches.
// The broker answers what the protocol says it answers, closes connections
// it cannot parse, and keeps serving everyone else.
func TestBadInput(t *testing.T) {
	t.Parallel()
	b := startBroker(t, map[string]string{
		"socket.request.max.bytes":  "1048576",
		"auto.create.topics.enable": "false",
	})
	adm := admin(t, b)
	createTopic(t, adm, "bad-input", 1, nil)
	createTopic(t, adm, "small-messages", 1, map[string]*string{"max.message.bytes": strPtr("1024")})

	closes := []struct {
		name  string
		frame []byte
	}{
		{"frame over socket.request.max.bytes", append(be32(1<<30), header(18, 0, 1, "e2e")...)},
		{"negative frame size", append(be32(0xffffffff), header(18, 0, 1, "e2e")...)},
		{"http request", []byte("GET /metrics HTTP/1.1\r\nHost: weir\r\n\r\n")},
		{"header shorter than its fixed fields", frame([]byte{0, 18, 0})},
		{"client id longer than the frame", frame(append(header(18, 0, 1, "")[:8], 0x03, 0xe8))},
		{"unknown api key 9999", frame(header(9999, 0, 1, "e2e"))},
		{"produce v3 with a truncated body", frame(append(header(0, 3, 1, "e2e"), 0xff, 0xff, 0, 1))},
	}
	for _, c := range closes {
		t.Run(c.name, func(t *testing.T) {
			conn := dial(t, b.Addr)
			if _, err := conn.Write(c.frame); err != nil {
				t.Fatalf("write: %v", err)
			}
			expectClosed(t, conn)
			stillServes(t, b)
		})
	}

	t.Run("ApiVersions v3 with a v2 request header", func(t *testing.T) {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version = 3
		req.ClientSoftwareName, req.ClientSoftwareVersion = "weir-e2e", "1.0"
		resp := kmsg.NewPtrApiVersionsResponse()
		resp.Version = 3
		roundTrip(t, dial(t, b.Addr), req, resp)
		if resp.ErrorCode != 0 {
			t.Fatalf("error code %d", resp.ErrorCode)
		}
	})

	t.Run("ApiVersions v4 with a v2 request header", func(t *testing.T) {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version = 4
		req.ClientSoftwareName, req.ClientSoftwareVersion = "weir-e2e", "1.0"
		resp := kmsg.NewPtrApiVersionsResponse()
		resp.Version = 4
		roundTrip(t, dial(t, b.Addr), req, resp)
		if resp.ErrorCode != 0 {
			t.Fatalf("error code %d; the broker advertises ApiVersions %s", resp.ErrorCode, apiVersionsRange(t, b))
		}
		if !hasKey(resp.ApiKeys, 18, 4) || !hasKey(resp.ApiKeys, 0, 3) || !hasKey(resp.ApiKeys, 1, 4) {
			t.Errorf("ApiKeys %+v lack ApiVersions v4, Produce v3 or Fetch v4", resp.ApiKeys)
		}
	})

	t.Run("ApiVersions v127", func(t *testing.T) {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version = 127
		req.ClientSoftwareName, req.ClientSoftwareVersion = "weir-e2e", "1.0"
		// KIP-511: a version the broker does not know gets UNSUPPORTED_VERSION
		// in a v0 response that still lists the supported versions.
		resp := kmsg.NewPtrApiVersionsResponse()
		resp.Version = 0
		roundTrip(t, dial(t, b.Addr), req, resp)
		if resp.ErrorCode != kerr.UnsupportedVersion.Code {
			t.Errorf("error code %d, want %d UNSUPPORTED_VERSION", resp.ErrorCode, kerr.UnsupportedVersion.Code)
		}
		if !hasKey(resp.ApiKeys, 18, 3) {
			t.Errorf("ApiKeys %+v lack ApiVersions v3+", resp.ApiKeys)
		}
	})

	t.Run("produce", func(t *testing.T) {
		conn := dial(t, b.Addr)
		ok := recordBatch([]byte("fine"))
		if code := produceRaw(t, conn, "bad-input", ok); code != 0 {
			t.Fatalf("a well-formed batch got error code %d (the test's batch builder or the broker is wrong)", code)
		}

		corrupt := append([]byte(nil), ok...)
		corrupt[len(corrupt)-3] ^= 0xff // inside the record, under the CRC
		if code := produceRaw(t, conn, "bad-input", corrupt); code != kerr.CorruptMessage.Code {
			t.Errorf("batch with a bad CRC: error code %d, want %d CORRUPT_MESSAGE", code, kerr.CorruptMessage.Code)
		}

		big := recordBatch([]byte(strings.Repeat("x", 4096)))
		if code := produceRaw(t, conn, "small-messages", big); code != kerr.MessageTooLarge.Code {
			t.Errorf("%d-byte batch to a topic with max.message.bytes=1024: error code %d, want %d MESSAGE_TOO_LARGE",
				len(big), code, kerr.MessageTooLarge.Code)
		}

		if code := produceRaw(t, conn, "no-such-topic", ok); code != kerr.UnknownTopicOrPartition.Code {
			t.Errorf("produce to an unknown topic (auto.create.topics.enable=false): error code %d, want %d UNKNOWN_TOPIC_OR_PARTITION",
				code, kerr.UnknownTopicOrPartition.Code)
		}
		topics, err := adm.ListTopics(testContext(t, 10*time.Second))
		if err != nil {
			t.Fatalf("ListTopics: %v", err)
		}
		if topics.Has("no-such-topic") {
			t.Errorf("producing to no-such-topic created it with auto.create.topics.enable=false")
		}

		if recs := consumeAll(t, b, "bad-input")[0]; len(recs) != 1 || string(recs[0].Value) != "fine" {
			t.Errorf("bad-input holds %d records, want only the well-formed one", len(recs))
		}
	})
}

// produceRaw sends one batch to partition 0 of topic with Produce v9 (acks=all)
// and returns the partition's error code.
func produceRaw(t *testing.T, conn net.Conn, topic string, batch []byte) int16 {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Version = 9
	req.Acks = -1
	req.TimeoutMillis = 10000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition = 0
	rp.Records = batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp := kmsg.NewPtrProduceResponse()
	resp.Version = req.Version
	roundTrip(t, conn, req, resp)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("produce to %s: response %+v does not hold the one partition asked for", topic, resp)
	}
	return resp.Topics[0].Partitions[0].ErrorCode
}

// recordBatch builds an uncompressed v2 record batch with one record per
// value, with a correct CRC-32C.
func recordBatch(values ...[]byte) []byte {
	now := time.Now().UnixMilli()
	var recs []byte
	for i, v := range values {
		var body []byte
		body = append(body, 0)                        // attributes
		body = kbin.AppendVarlong(body, 0)            // timestamp delta
		body = kbin.AppendVarint(body, int32(i))      // offset delta
		body = kbin.AppendVarint(body, -1)            // null key
		body = kbin.AppendVarint(body, int32(len(v))) // value
		body = append(body, v...)
		body = kbin.AppendVarint(body, 0) // no headers
		recs = kbin.AppendVarint(recs, int32(len(body)))
		recs = append(recs, body...)
	}
	batch := kmsg.RecordBatch{
		FirstOffset:          0,
		Length:               int32(49 + len(recs)),
		PartitionLeaderEpoch: -1,
		Magic:                2,
		LastOffsetDelta:      int32(len(values) - 1),
		FirstTimestamp:       now,
		MaxTimestamp:         now,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		FirstSequence:        -1,
		NumRecords:           int32(len(values)),
		Records:              recs,
	}
	raw := batch.AppendTo(nil)
	crc := crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli))
	binary.BigEndian.PutUint32(raw[17:], crc)
	return raw
}

// roundTrip writes req on conn and decodes the response into resp. Response
// headers are v0, plus a tag buffer for flexible versions except ApiVersions.
func roundTrip(t *testing.T, conn net.Conn, req kmsg.Request, resp kmsg.Response) {
	t.Helper()
	const correlationID = 7
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID("weir-e2e")).AppendRequest(nil, req, correlationID)
	if _, err := conn.Write(frame); err != nil {
		t.Fatalf("write %s v%d: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	body, err := brokertest.ReadResponse(conn, correlationID)
	if err != nil {
		t.Fatalf("%s v%d: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	if resp.IsFlexible() && req.Key() != 18 {
		var err error
		if body, err = skipTags(body); err != nil {
			t.Fatalf("%s v%d: response header tags: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
		}
	}
	if err := resp.ReadFrom(body); err != nil {
		t.Fatalf("decode %s v%d response (%d bytes): %v", kmsg.NameForKey(req.Key()), resp.GetVersion(), len(body), err)
	}
}

// skipTags skips a tagged-field section: a count, then (tag, size, data).
func skipTags(b []byte) ([]byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 {
		return nil, fmt.Errorf("bad tag count")
	}
	b = b[k:]
	for range n {
		if _, k = binary.Uvarint(b); k <= 0 {
			return nil, fmt.Errorf("bad tag")
		}
		b = b[k:]
		size, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < size {
			return nil, fmt.Errorf("bad tag size")
		}
		b = b[k+int(size):]
	}
	return b, nil
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// expectClosed reads from conn until the broker closes it; a response or a
// connection still open after 10 s fails the test.
func expectClosed(t *testing.T, conn net.Conn) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 256)
	n, err := conn.Read(buf)
	switch {
	case n > 0:
		t.Errorf("broker answered %d bytes (%x) instead of closing the connection", n, buf[:n])
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
	case err != nil && isTimeout(err):
		t.Errorf("broker kept the connection open for 10 s")
	default:
		t.Errorf("read: %v, want the broker to close the connection", err)
	}
}

// stillServes checks that a new connection gets an ApiVersions answer.
func stillServes(t *testing.T, b *brokertest.Broker) {
	t.Helper()
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	req.ClientSoftwareName, req.ClientSoftwareVersion = "weir-e2e", "1.0" // v3+: empty names are INVALID_REQUEST
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 3
	roundTrip(t, dial(t, b.Addr), req, resp)
	if resp.ErrorCode != 0 || !b.Running() {
		t.Fatalf("broker no longer serves: ApiVersions error %d, running %v", resp.ErrorCode, b.Running())
	}
}

// apiVersionsRange asks ApiVersions v0 for the broker's ApiVersions range.
func apiVersionsRange(t *testing.T, b *brokertest.Broker) string {
	req := kmsg.NewPtrApiVersionsRequest()
	resp := kmsg.NewPtrApiVersionsResponse()
	roundTrip(t, dial(t, b.Addr), req, resp)
	for _, k := range resp.ApiKeys {
		if k.ApiKey == 18 {
			return fmt.Sprintf("v%d-v%d", k.MinVersion, k.MaxVersion)
		}
	}
	return "not at all"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func hasKey(keys []kmsg.ApiVersionsResponseApiKey, key, minMax int16) bool {
	for _, k := range keys {
		if k.ApiKey == key && k.MaxVersion >= minMax {
			return true
		}
	}
	return false
}

// header is a v1 request header: api key, version, correlation id, client id.
func header(key, version int16, correlationID int32, clientID string) []byte {
	h := binary.BigEndian.AppendUint16(nil, uint16(key))
	h = binary.BigEndian.AppendUint16(h, uint16(version))
	h = binary.BigEndian.AppendUint32(h, uint32(correlationID))
	h = binary.BigEndian.AppendUint16(h, uint16(len(clientID)))
	return append(h, clientID...)
}

// frame prefixes payload with its size.
func frame(payload []byte) []byte { return append(be32(uint32(len(payload))), payload...) }

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func strPtr(s string) *string { return &s }
