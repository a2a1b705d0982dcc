package server

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"maps"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirhq/weir/broker/config"
	"github.com/weirhq/weir/broker/protocol"
	poll "github.com/weirhq/weir/internal/await"
)

// testBroker runs a broker in-process on ephemeral ports; it is stopped,
// and its goroutines waited for, at cleanup.
type testBroker struct {
	*Broker
	dir  string
	stop func() // stops the broker and waits; safe to call twice
}

func startBroker(t testing.TB, props map[string]string) *testBroker {
	t.Helper()
	dir := t.TempDir()
	return startBrokerIn(t, dir, props)
}

func startBrokerIn(t testing.TB, dir string, props map[string]string) *testBroker {
	t.Helper()
	return startBrokerOpts(t, dir, props, Options{})
}

// fastQuorum are the raft timers of the tests' brokers: a single broker
// elects itself after the fetch timeout, and failover tests want it short;
// the defaults are Kafka's (election 1 s, fetch 2 s).
var fastQuorum = map[string]string{
	"controller.quorum.election.timeout.ms": "500",
	"controller.quorum.fetch.timeout.ms":    "500",
}

func startBrokerOpts(t testing.TB, dir string, props map[string]string, opts Options) *testBroker {
	t.Helper()
	over := map[string]string{
		"listeners":           "PLAINTEXT://127.0.0.1:0",
		"log.dirs":            dir + "/data",
		"weir.admin.listener": "127.0.0.1:0",
	}
	maps.Copy(over, fastQuorum)
	for k, v := range props {
		over[k] = v
	}
	cfg, err := config.Load("", over)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	opts.Logger = logger
	b, err := New(cfg, opts)
	if err != nil {
		t.Fatalf("new broker: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("broker run: %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Errorf("broker did not stop within 15s")
			}
		})
	}
	t.Cleanup(stop)
	poll.True(t, 20*time.Second, "the broker ready", func() bool { return b.ready.Load() })
	return &testBroker{Broker: b, dir: dir, stop: stop}
}

func (b *testBroker) client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(b.Addr().String())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// rawRequest writes one request frame with the given header fields and
// body and returns the response frame (without its size prefix).
func rawRequest(t *testing.T, addr string, key, version int16, body []byte, flexibleHeader bool) []byte {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var hdr []byte
	hdr = binary.BigEndian.AppendUint16(hdr, uint16(key))
	hdr = binary.BigEndian.AppendUint16(hdr, uint16(version))
	hdr = binary.BigEndian.AppendUint32(hdr, 77)
	hdr = binary.BigEndian.AppendUint16(hdr, 4)
	hdr = append(hdr, "test"...)
	if flexibleHeader {
		hdr = append(hdr, 0)
	}
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(hdr)+len(body)))
	frame = append(append(frame, hdr...), body...)
	if _, err := c.Write(frame); err != nil {
		t.Fatal(err)
	}
	resp, err := protocol.ReadFrame(c, nil, 1<<20)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	if got := int32(binary.BigEndian.Uint32(resp)); got != 77 {
		t.Fatalf("correlation id %d, want 77", got)
	}
	return resp[4:]
}

func TestApiVersionsNewerThanOursGetsV0UnsupportedVersion(t *testing.T) {
	b := startBroker(t, nil)
	// A v127 request: the body is whatever a future version holds; the
	// answer must be a v0 body with UNSUPPORTED_VERSION and our ranges.
	body := rawRequest(t, b.Addr().String(), 18, 127, []byte{0, 0, 0, 0, 0, 0}, true)
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(0)
	if err := resp.ReadFrom(body); err != nil {
		t.Fatalf("decoding v0 answer: %v", err)
	}
	if resp.ErrorCode != 35 {
		t.Fatalf("error code %d, want 35 (UNSUPPORTED_VERSION)", resp.ErrorCode)
	}
	if len(resp.ApiKeys) != len(protocol.Ranges()) {
		t.Fatalf("%d api keys, want %d", len(resp.ApiKeys), len(protocol.Ranges()))
	}
}

func TestApiVersionsV3HasV0ResponseHeader(t *testing.T) {
	b := startBroker(t, nil)
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(3)
	req.ClientSoftwareName, req.ClientSoftwareVersion = "weir-test", "1.0"
	body := rawRequest(t, b.Addr().String(), 18, 3, req.AppendTo(nil), true)
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(3)
	// No tagged-field byte after the correlation id: the body starts at once.
	if err := resp.ReadFrom(body); err != nil {
		t.Fatalf("decoding v3 body right after a v0 header: %v", err)
	}
	if resp.ErrorCode != 0 || len(resp.ApiKeys) == 0 {
		t.Fatalf("error %d, %d keys", resp.ErrorCode, len(resp.ApiKeys))
	}
}

func TestProduceConsumeRoundTrip(t *testing.T) {
	b := startBroker(t, nil)
	ctx := context.Background()
	adm := kadm.NewClient(b.client(t))
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, "orders"); err != nil {
		t.Fatal(err)
	}
	pr := b.client(t, kgo.DefaultProduceTopic("orders"), kgo.RequiredAcks(kgo.AllISRAcks()))
	const n = 3000
	for i := 0; i < n; i++ {
		pr.Produce(ctx, &kgo.Record{Key: []byte{byte(i % 7)}, Value: []byte(time.Duration(i).String())}, nil)
	}
	if err := pr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cl := b.client(t, kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := 0
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	last := map[int32]int64{}
	for got < n {
		fs := cl.PollFetches(cctx)
		if err := cctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d: %v", got, n, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if prev, ok := last[r.Partition]; ok && r.Offset != prev+1 {
				t.Fatalf("partition %d: offset %d after %d", r.Partition, r.Offset, prev)
			}
			last[r.Partition] = r.Offset
			got++
		})
	}
}

func TestLongPollFetchWakesOnAppend(t *testing.T) {
	b := startBroker(t, nil)
	ctx := context.Background()
	cl := b.client(t)
	ct, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "lp")
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrFetchRequest() // the client picks the version: 16, by topic id
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = 10000, 1, 1<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = "lp", ct.ID
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = 1<<20, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)

	// Topic creation is asynchronous (the controller commits, then the
	// broker applies the image): fetch once the partition is led here.
	poll.True(t, 10*time.Second, "leadership of lp-0", func() bool { p := b.lookup("lp", 0); return p != nil && p.isLeader() })

	type result struct {
		resp *kmsg.FetchResponse
		err  error
		at   time.Time
	}
	done := make(chan result, 1)
	go func() {
		resp, err := req.RequestWith(ctx, cl)
		done <- result{resp, err, time.Now()}
	}()
	// Produce once the fetch is parked on the partition.
	p := b.lookup("lp", 0)
	poll.True(t, 5*time.Second, "the fetch parked as a waiter", func() bool {
		return p.rep.Watched() > 0
	})
	producedAt := time.Now()
	pr := b.client(t, kgo.DefaultProduceTopic("lp"))
	if err := pr.ProduceSync(ctx, &kgo.Record{Value: []byte("wake")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if sp := r.resp.Topics[0].Partitions[0]; sp.ErrorCode != 0 || len(sp.RecordBatches) == 0 {
		t.Fatalf("long poll returned error %d with %d bytes", sp.ErrorCode, len(sp.RecordBatches))
	}
	if waited := r.at.Sub(producedAt); waited > 5*time.Second {
		t.Fatalf("fetch returned %v after the produce; the max wait is 10s, it should wake at once", waited)
	}
}
