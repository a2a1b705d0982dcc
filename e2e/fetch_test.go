package e2e

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestLongPollFetch checks the delayed fetch: a Fetch with MinBytes=1 on an
// empty partition is held until a record arrives and then answered at once,
// and one that no record satisfies is answered after about MaxWaitMillis.
func TestLongPollFetch(t *testing.T) {
	t.Parallel()
	b := startBroker(t, nil)
	adm := admin(t, b)
	const topic = "long-poll"
	createTopic(t, adm, topic, 1, nil)
	topics, err := adm.ListTopics(testContext(t, 10*time.Second), topic)
	if err != nil {
		t.Fatalf("ListTopics: %v", err)
	}
	id := topics[topic].ID

	t.Run("returns when a record arrives", func(t *testing.T) {
		const maxWait = 5 * time.Second
		type result struct {
			resp    *kmsg.FetchResponse
			elapsed time.Duration
		}
		done := make(chan result, 1)
		fetcher := b.Client(t)
		go func() { // owned by the test: it always receives from done below
			resp, elapsed := fetchAt(t, fetcher, b.NodeID, topic, id, 0, maxWait)
			done <- result{resp, elapsed}
		}()
		// The fetch must be parked, not answered empty, while nothing is there.
		select {
		case r := <-done:
			t.Fatalf("Fetch with MinBytes=1 on an empty partition returned after %v without waiting: %+v", r.elapsed, r.resp)
		case <-time.After(500 * time.Millisecond):
		}
		produced := time.Now()
		produceSync(t, b.Client(t), &kgo.Record{Topic: topic, Value: []byte("wake up")})
		r := <-done
		returned := time.Since(produced)
		if r.resp == nil {
			return
		}
		if n := recordsIn(t, r.resp); n != 1 {
			t.Errorf("Fetch returned %d records, want the 1 produced", n)
		}
		if r.elapsed >= maxWait*9/10 {
			t.Errorf("Fetch returned after %v (%v after the produce), want well before MaxWait %v: the produce did not wake it",
				r.elapsed, returned, maxWait)
		}
		t.Logf("fetch returned %v after the produce was acked", returned)
	})

	t.Run("waits MaxWait when nothing arrives", func(t *testing.T) {
		const maxWait = 1500 * time.Millisecond
		// Fetch from the log end: nothing there to return.
		ends := endOffsets(t, adm, topic)
		resp, elapsed := fetchAt(t, b.Client(t), b.NodeID, topic, id, ends[0], maxWait)
		if resp == nil {
			return
		}
		if n := recordsIn(t, resp); n != 0 {
			t.Errorf("Fetch at the log end returned %d records", n)
		}
		if elapsed < maxWait*9/10 {
			t.Errorf("Fetch with nothing to return came back after %v, want about MaxWait %v", elapsed, maxWait)
		}
		if elapsed > maxWait+5*time.Second {
			t.Errorf("Fetch with MaxWait %v came back after %v", maxWait, elapsed)
		}
	})
}

// fetchAt sends one Fetch (MinBytes=1) for partition 0 of topic from offset.
func fetchAt(t *testing.T, cl *kgo.Client, node int32, topic string, id [16]byte, offset int64, maxWait time.Duration) (*kmsg.FetchResponse, time.Duration) {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID = -1
	req.MaxWaitMillis = int32(maxWait.Milliseconds())
	req.MinBytes = 1
	req.MaxBytes = 1 << 20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic, ft.TopicID = topic, id // the name up to v12, the ID from v13: the client picks the version
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.Partition, fp.FetchOffset, fp.PartitionMaxBytes = 0, offset, 1<<20
	ft.Partitions = append(ft.Partitions, fp)
	req.Topics = append(req.Topics, ft)
	start := time.Now()
	resp, err := cl.Broker(int(node)).Request(testContext(t, maxWait+30*time.Second), req)
	if err != nil {
		t.Errorf("Fetch %s/0 at %d: %v", topic, offset, err)
		return nil, time.Since(start)
	}
	return resp.(*kmsg.FetchResponse), time.Since(start)
}

// recordsIn counts the records in a fetch response, failing on error codes.
func recordsIn(t *testing.T, resp *kmsg.FetchResponse) int {
	t.Helper()
	if resp.ErrorCode != 0 {
		t.Errorf("Fetch error code %d", resp.ErrorCode)
	}
	n := 0
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if rp.ErrorCode != 0 {
				t.Errorf("Fetch partition %d error code %d", rp.Partition, rp.ErrorCode)
			}
			fp, _ := kgo.ProcessFetchPartition(kgo.ProcessFetchPartitionOpts{Topic: rt.Topic, Partition: rp.Partition}, &rp, kgo.DefaultDecompressor(), nil)
			if fp.Err != nil {
				t.Errorf("Fetch partition %d: %v", rp.Partition, fp.Err)
			}
			n += len(fp.Records)
		}
	}
	return n
}
