package e2e

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirhq/weir/broker/brokertest"
	"github.com/weirhq/weir/internal/await"
)

// TestKillNineDuringAcksAllProduce kills the broker with SIGKILL three times
// while an idempotent acks=all producer is sending: after the last restart
// every acknowledged record is in the log once, at the offset its ack gave,
// and each partition holds the records in the order they were sent.
func TestKillNineDuringAcksAllProduce(t *testing.T) {
	t.Parallel()
	b := startBroker(t, nil)
	const topic, partitions = "kill-nine", 3
	createTopic(t, admin(t, b), topic, partitions, nil)

	p := startNumberedProducer(t, b.Client(t,
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond }),
		kgo.MaxBufferedRecords(2000), // a small in-flight window: the test is about acks, not volume
	), topic, partitions)

	for round := 1; round <= 3; round++ {
		target := p.ackedCount() + 2000
		await.For(t, 60*time.Second, fmt.Sprintf("round %d: %d acked records", round, target), func() error {
			if n := p.ackedCount(); n < target {
				return fmt.Errorf("%d acked, %d produce errors", n, p.errorCount())
			}
			return nil
		})
		b.Kill()
		t.Logf("round %d: killed with %d records acked", round, p.ackedCount())
		b.Restart(t)
	}
	target := p.ackedCount() + 1000
	await.For(t, 60*time.Second, "the producer to go on after the last restart", func() error {
		if n := p.ackedCount(); n < target {
			return fmt.Errorf("%d acked, want %d", n, target)
		}
		return nil
	})
	p.stop(t)

	got := consumeAll(t, b, topic)
	checkAcked(t, p, got)
}

// numberedProducer sends records numbered 0, 1, 2, … to partition i%n until
// stopped, remembering the offset of every record that was acknowledged.
type numberedProducer struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	acked  map[int]int64 // record number -> offset
	errors map[string]int
}

func startNumberedProducer(t *testing.T, cl *kgo.Client, topic string, partitions int) *numberedProducer {
	ctx, cancel := context.WithCancel(context.Background())
	p := &numberedProducer{cl: cl, cancel: cancel, done: make(chan struct{}),
		acked: map[int]int64{}, errors: map[string]int{}}
	go func() { // owned by p: stop cancels ctx and waits for done
		defer close(p.done)
		for i := 0; ctx.Err() == nil; i++ {
			r := &kgo.Record{Topic: topic, Partition: int32(i % partitions), Value: []byte(strconv.Itoa(i))}
			cl.Produce(ctx, r, p.onAck(i))
		}
	}()
	t.Cleanup(func() { p.stop(t) })
	return p
}

func (p *numberedProducer) onAck(i int) func(*kgo.Record, error) {
	return func(r *kgo.Record, err error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if err != nil {
			p.errors[err.Error()]++
			return
		}
		p.acked[i] = r.Offset
	}
}

// stop ends production and waits for every buffered record to be acked or failed.
func (p *numberedProducer) stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	p.cancel()
	<-p.done
	ctx := testContext(t, 30*time.Second)
	if err := p.cl.Flush(ctx); err != nil {
		t.Errorf("flush after stopping the producer: %v", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for msg, n := range p.errors {
		if !strings.Contains(msg, "context canceled") {
			t.Logf("producer: %d records failed: %s", n, msg)
		}
	}
}

func (p *numberedProducer) ackedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.acked)
}

// failures counts the records that failed for a reason other than the
// producer being stopped (its buffered records end with context canceled).
func (p *numberedProducer) failures() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for msg, c := range p.errors {
		if !strings.Contains(msg, "context canceled") {
			n += c
		}
	}
	return n
}

func (p *numberedProducer) errorCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.errors {
		n += c
	}
	return n
}

// checkAcked checks the log against the acks: each acked record at its
// offset, no record twice, each partition in send order. It returns the
// tallies, which are all zero but Acked and Stored when it passes.
func checkAcked(t *testing.T, p *numberedProducer, got map[int32][]*kgo.Record) ackTally {
	t.Helper()
	type at struct {
		p   int32
		off int64
	}
	var n ackTally
	stored := map[int]at{}
	for part, recs := range got {
		last := -1
		for _, r := range recs {
			i, err := strconv.Atoi(string(r.Value))
			if err != nil {
				t.Fatalf("partition %d offset %d: unexpected value %q", part, r.Offset, r.Value)
			}
			if prev, dup := stored[i]; dup {
				n.Duplicated++
				t.Errorf("record %d stored twice: partition %d offsets %d and %d", i, part, prev.off, r.Offset)
			}
			if i <= last {
				n.Reordered++
				t.Errorf("partition %d offset %d: record %d after record %d", part, r.Offset, i, last)
			}
			last = i
			stored[i] = at{part, r.Offset}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var lost []int
	for i, off := range p.acked {
		s, ok := stored[i]
		if !ok {
			lost = append(lost, i)
			continue
		}
		if s.off != off {
			n.Moved++
			t.Errorf("record %d acked at offset %d, stored at %d", i, off, s.off)
		}
	}
	sort.Ints(lost)
	if len(lost) > 0 {
		t.Errorf("%d acknowledged records lost, first ones: %v", len(lost), lost[:min(len(lost), 20)])
	}
	n.Acked, n.Stored, n.Lost = len(p.acked), len(stored), len(lost)
	t.Logf("%d records acked, %d stored", len(p.acked), len(stored))
	return n
}

// ackTally is what checkAcked counted.
type ackTally struct {
	Acked, Stored int
	Lost          int // acknowledged, not in the log
	Duplicated    int // in the log twice
	Reordered     int // after a record sent later, in one partition
	Moved         int // at another offset than its ack gave
}

// TestTruncatedSegmentRecovery tears the last batch of the active segment,
// as a crash during a write would, once after a clean stop and once after
// SIGKILL: the broker recovers to the end of the last whole batch, serves
// every record before it (from the start and through the offset index from
// the middle), and appends new records from there.
func TestTruncatedSegmentRecovery(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		down func(*brokertest.Broker)
	}{
		{"after SIGTERM", (*brokertest.Broker).Stop},
		{"after SIGKILL", (*brokertest.Broker).Kill},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tornTail(t, c.down)
		})
	}
}

func tornTail(t *testing.T, down func(*brokertest.Broker)) {
	b := startBroker(t, nil)
	const topic = "torn-tail"
	createTopic(t, admin(t, b), topic, 1, nil)
	cl := b.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for batch := range 20 { // one ProduceSync per batch of 10 records
		var recs []*kgo.Record
		for j := range 10 {
			recs = append(recs, &kgo.Record{Topic: topic, Value: []byte(fmt.Sprintf("%04d-%s", batch*10+j, strings.Repeat("x", 50)))})
		}
		produceSync(t, cl, recs...)
	}
	down(b)

	seg := activeSegment(t, filepath.Join(b.DataDir, topic+"-0"))
	info, err := os.Stat(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(seg, info.Size()-37); err != nil {
		t.Fatalf("truncate %s: %v", seg, err)
	}
	wantEnd := wholeBatchesEnd(t, seg)
	t.Logf("%s: %d -> %d bytes; whole batches end at offset %d", seg, info.Size(), info.Size()-37, wantEnd)
	if wantEnd >= 200 || wantEnd <= 0 {
		t.Fatalf("truncation left whole batches up to offset %d; the test wants to tear the last batch", wantEnd)
	}

	b.Restart(t)
	adm := admin(t, b)
	if got := endOffsets(t, adm, topic)[0]; got != wantEnd {
		t.Fatalf("after recovery the log end offset is %d, want %d (end of the last whole batch)", got, wantEnd)
	}
	recs := consumeAll(t, b, topic)[0]
	if int64(len(recs)) != wantEnd {
		t.Errorf("read %d records after recovery, want %d", len(recs), wantEnd)
	}
	for i, r := range recs {
		if r.Offset != int64(i) || !strings.HasPrefix(string(r.Value), fmt.Sprintf("%04d-", i)) {
			t.Fatalf("record %d: offset %d value %.10q", i, r.Offset, r.Value)
		}
	}
	from := wantEnd - 15
	if r := consumeOne(t, b, topic, from); r.Offset != from || !strings.HasPrefix(string(r.Value), fmt.Sprintf("%04d-", from)) {
		t.Errorf("fetch from offset %d after recovery: offset %d value %.10q", from, r.Offset, r.Value)
	}

	cl2 := b.Client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	r := &kgo.Record{Topic: topic, Value: []byte("after-recovery")}
	produceSync(t, cl2, r)
	if r.Offset != wantEnd {
		t.Errorf("first record after recovery got offset %d, want %d", r.Offset, wantEnd)
	}
}

// consumeOne returns the first record at or after offset in partition 0.
func consumeOne(t *testing.T, b *brokertest.Broker, topic string, offset int64) *kgo.Record {
	t.Helper()
	cl := b.Client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
		topic: {0: kgo.NewOffset().At(offset)},
	}))
	ctx := testContext(t, 30*time.Second)
	for {
		fetches := cl.PollRecords(ctx, 1)
		if ctx.Err() != nil {
			t.Fatalf("fetch %s/0 from %d: %v", topic, offset, ctx.Err())
		}
		fetches.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch %s/0 from %d: %v", topic, offset, err) })
		if recs := fetches.Records(); len(recs) > 0 {
			return recs[0]
		}
	}
}

// activeSegment returns the .log file with the highest base offset in dir.
func activeSegment(t *testing.T, dir string) string {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(logs) == 0 {
		entries, _ := os.ReadDir(dir)
		t.Fatalf("no segment in %s (%v); it holds %v", dir, err, entries)
	}
	sort.Strings(logs) // names are zero-padded base offsets
	return logs[len(logs)-1]
}

// wholeBatchesEnd walks the v2 record batches in a segment file and returns
// the offset after the last batch that is wholly in the file.
//
// A batch starts with baseOffset int64, batchLength int32 (bytes after this
// field); lastOffsetDelta int32 sits 23 bytes into the batch.
func wholeBatchesEnd(t *testing.T, path string) int64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	end := int64(-1)
	for pos := 0; pos+27 <= len(data); {
		base := int64(binary.BigEndian.Uint64(data[pos:]))
		size := int(binary.BigEndian.Uint32(data[pos+8:])) + 12
		if pos+size > len(data) {
			break
		}
		end = base + int64(binary.BigEndian.Uint32(data[pos+23:])) + 1
		pos += size
	}
	return end
}
