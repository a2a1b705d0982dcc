package server

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

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
// array of offsets, newest first, as many as asked for.
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
		{"a timestamp before every record", 1, 1, []int64{3}, 0},
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
