package server

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	poll "github.com/weirhq/weir/internal/await"
)

// TestFetchSessionEpochsDecideFullFetches pins Kafka's rule for the
// fetch-session fields (FetchMetadata.isFull, FetchManager.newContext):
// a request is a full fetch when its epoch is INITIAL (0) or FINAL (-1),
// whatever session id it names (Kafka closes that session and answers
// the partitions); only an incremental request (epoch > 0) needs a
// session, and since this broker creates none, it gets
// FETCH_SESSION_ID_NOT_FOUND. segmentio/kafka-go's Client.Fetch sends
// session id -1 with epoch -1: it was answered FETCH_SESSION_ID_NOT_FOUND
// with no topics, which kafka-go reports as "topic not found".
func TestFetchSessionEpochsDecideFullFetches(t *testing.T) {
	b := startBroker(t, nil)
	ctx := context.Background()
	if _, err := kadm.NewClient(b.client(t)).CreateTopic(ctx, 1, 1, nil, "sessions"); err != nil {
		t.Fatal(err)
	}
	poll.True(t, 10*time.Second, "leadership of sessions-0", func() bool { p := b.lookup("sessions", 0); return p != nil && p.isLeader() })
	pr := b.client(t, kgo.DefaultProduceTopic("sessions"))
	if err := pr.ProduceSync(ctx, &kgo.Record{Value: []byte("full")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		id, epoch  int32
		wantErr    int16
		wantRecord bool
	}{
		{"sessionless (franz-go, Kafka's clients)", 0, -1, 0, true},
		{"a new session asked for", 0, 0, 0, true},
		{"kafka-go: session -1, final epoch", -1, -1, 0, true},
		{"closing an unknown session", 7, -1, 0, true},
		{"recreating an unknown session", 7, 0, 0, true},
		{"incremental on an unknown session", 7, 1, kerr.FetchSessionIDNotFound.Code, false},
		{"incremental naming no session", 0, 3, kerr.FetchSessionIDNotFound.Code, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := fetchV11(t, b, tc.id, tc.epoch)
			if resp.ErrorCode != tc.wantErr || resp.SessionID != 0 {
				t.Fatalf("error %d session %d, want error %d and session 0 (none created)", resp.ErrorCode, resp.SessionID, tc.wantErr)
			}
			got := len(resp.Topics) == 1 && len(resp.Topics[0].Partitions) == 1 && len(resp.Topics[0].Partitions[0].RecordBatches) > 0
			if got != tc.wantRecord {
				t.Fatalf("record batches answered: %v, want %v (topics %+v)", got, tc.wantRecord, resp.Topics)
			}
		})
	}
}

// fetchV11 sends the Fetch kafka-go's Client.Fetch sends (v11, by name,
// from offset 0) with the given session fields.
func fetchV11(t *testing.T, b *testBroker, sessionID, epoch int32) *kmsg.FetchResponse {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(11)
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = 100, 1, 1<<20
	req.SessionID, req.SessionEpoch = sessionID, epoch
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = "sessions"
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes, rp.CurrentLeaderEpoch, rp.LogStartOffset = 1<<20, -1, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	body := rawRequest(t, b.Addr().String(), 1, 11, req.AppendTo(nil), false)
	resp := kmsg.NewPtrFetchResponse()
	resp.SetVersion(11)
	if err := resp.ReadFrom(body); err != nil {
		t.Fatalf("decoding the v11 answer: %v", err)
	}
	return resp
}
