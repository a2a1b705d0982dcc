package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	wlog "github.com/weirhq/weir/broker/log"
	"github.com/weirhq/weir/broker/protocol"
	poll "github.com/weirhq/weir/internal/await"
)

// valueBatch is a v2 batch of n records with values of size bytes.
func valueBatch(rng *rand.Rand, n, size int) []byte {
	var records []byte
	for i := range n {
		v := make([]byte, size)
		for j := range v {
			v[j] = byte(rng.IntN(256))
		}
		rec := kmsg.Record{OffsetDelta: int32(i), Value: v}
		body := rec.AppendTo(nil)[1:]
		records = binary.AppendVarint(records, int64(len(body)))
		records = append(records, body...)
	}
	b := kmsg.RecordBatch{PartitionLeaderEpoch: -1, Magic: 2, ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1,
		NumRecords: int32(n), LastOffsetDelta: int32(n - 1), Records: records, FirstTimestamp: 1000, MaxTimestamp: 1000}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

// fetchResult is what the fetching side made of one sendfile'd frame.
type fetchResult struct {
	next   int64 // the offset after the last valid batch received
	torn   bool  // invalid bytes followed the valid batches
	closed bool  // the connection ended instead
	err    error
}

// readFrames parses Fetch v12 frames from c, checking that each holds
// whole, CRC-valid batches, contiguous from the offset asked for.
func readFrames(c net.Conn, want <-chan int64, out chan<- fetchResult) {
	r := bufio.NewReader(c)
	for from := range want {
		frame, err := protocol.ReadFrame(r, nil, 64<<20)
		if err != nil {
			out <- fetchResult{closed: true}
			return
		}
		resp := kmsg.NewPtrFetchResponse()
		resp.SetVersion(12)
		if err := resp.ReadFrom(frame[5:]); err != nil { // correlation id, tagged header
			out <- fetchResult{err: fmt.Errorf("parse: %w", err)}
			return
		}
		data := resp.Topics[0].Partitions[0].RecordBatches
		hdrs, torn := validPrefix(data)
		if len(hdrs) == 0 && !torn {
			out <- fetchResult{err: fmt.Errorf("fetch at %d: no batch", from)}
			return
		}
		next := from
		for i, h := range hdrs {
			if (i == 0 && (h.BaseOffset > from || h.LastOffset() < from)) || (i > 0 && h.BaseOffset != next) {
				out <- fetchResult{err: fmt.Errorf("fetch at %d: batch %d-%d after offset %d", from, h.BaseOffset, h.LastOffset(), next)}
				return
			}
			next = h.LastOffset() + 1
		}
		out <- fetchResult{next: next, torn: torn}
	}
}

// validPrefix returns the headers of the CRC-valid batches data starts
// with, and whether anything follows them.
func validPrefix(data []byte) ([]wlog.BatchHeader, bool) {
	var hdrs []wlog.BatchHeader
	pos := 0
	for pos < len(data) {
		h, err := wlog.ParseBatchHeader(data[pos:])
		if err != nil || h.TotalSize() > len(data)-pos {
			return hdrs, true
		}
		if _, err := wlog.ValidateBatches(data[pos:pos+h.TotalSize()], 0); err != nil {
			return hdrs, true
		}
		hdrs = append(hdrs, h)
		pos += h.TotalSize()
	}
	return hdrs, false
}

// A reader sending record sets straight from segment files while the log
// rolls, deletes old segments, truncates and rewrites its tail gets whole,
// valid, contiguous batches, or a connection closed before the frame was
// whole (a truncation began while it was sent), or, only when a truncation
// began after the send, valid batches followed by bytes truncated away.
func TestSendfileFetchWhileLogRollsDeletesAndTruncates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "t-0")
	cfg := wlog.Config{SegmentBytes: 16 << 10, IndexIntervalBytes: 1024, RetentionMs: -1, RetentionBytes: 64 << 10}
	l, err := wlog.Open(dir, cfg, wlog.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Files: wlog.NewFileCache(2)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var truncations, deletions int
	wg.Add(1)
	go func() { // the writer: appends, truncations, retention
		defer wg.Done()
		rng := rand.New(rand.NewPCG(1, 1))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			b := valueBatch(rng, 1+rng.IntN(3), 50+rng.IntN(400))
			hdrs, err := wlog.ValidateBatches(b, 0)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := l.Append(b, hdrs, wlog.AppendOptions{LeaderEpoch: 1}); err != nil {
				t.Error(err)
				return
			}
			if i%40 == 39 {
				to := max(l.LogStartOffset(), l.LogEndOffset()-int64(1+rng.IntN(30)))
				if err := l.Truncate(to); err != nil {
					t.Error(err)
					return
				}
				truncations++
			}
			if i%100 == 99 {
				if n, err := l.EnforceRetention(time.Now()); err != nil {
					t.Error(err)
					return
				} else if n > 0 {
					deletions++
				}
			}
		}
	}()

	var sent, changed, torn int
	var server net.Conn
	var want chan int64
	var got chan fetchResult
	connect := func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		server, err = ln.Accept()
		ln.Close()
		if err != nil {
			t.Fatal(err)
		}
		want, got = make(chan int64, 1), make(chan fetchResult, 1)
		go func(c net.Conn, want <-chan int64, got chan<- fetchResult) {
			defer c.Close()
			readFrames(c, want, got)
		}(client, want, got)
	}
	connect()
	offset := int64(0)
	for sent < 1500 {
		sl, err := l.ReadSlice(offset, 4096+int(offset%5)*8192, math.MaxInt64, true)
		switch {
		case errors.Is(err, wlog.ErrOffsetOutOfRange):
			offset = max(l.LogStartOffset(), min(offset, l.LogEndOffset()))
			continue
		case errors.Is(err, wlog.ErrNoSlice) || sl == nil:
			continue // mid-truncation, or caught up: ask again
		case err != nil:
			t.Fatal(err)
		}
		resp := kmsg.NewPtrFetchResponse()
		resp.SetVersion(12)
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic = "t"
		rp := kmsg.NewFetchResponseTopicPartition()
		rp.RecordBatches = protocol.FileMarker(0)
		rt.Partitions = append(rt.Partitions, rp)
		resp.Topics = append(resp.Topics, rt)
		want <- offset
		err = protocol.WriteFetch(server.(*net.TCPConn), 1, resp, []protocol.FileRecords{sl})
		if err != nil {
			sl.Release()
		}
		if errors.Is(err, protocol.ErrRecordsChanged) {
			changed++
			server.Close()
			if r := <-got; !r.closed {
				t.Fatalf("a frame cut short was read as whole: %+v", r)
			}
			connect()
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		r := <-got
		// sendfile hands the socket references to page-cache pages, not
		// copies: a truncation that begins after the send (so after the
		// Intact check) but before the receiver has read the bytes zeroes
		// the tail of the page at the new end in place, and appends
		// rewrite it. Only bytes truncated away are affected, so what the
		// receiver's CRC check keeps is whole, contiguous and was in the
		// log; the rest is dropped, as Kafka's followers and clients do
		// (Kafka's FileRecords.writeTo has the same exposure).
		if r.torn && sl.Intact() {
			t.Fatalf("after %d fetches: invalid bytes sent with no truncation since the slice was made", sent)
		}
		sl.Release()
		if r.err != nil || r.closed {
			t.Fatalf("after %d fetches (%d truncations): closed %v: %v", sent, truncations, r.closed, r.err)
		}
		if r.torn {
			torn++
		}
		sent++
		offset = r.next
	}
	close(stop)
	wg.Wait()
	close(want)
	server.Close()
	t.Logf("%d fetches sent whole (%d with a tail truncated in flight), %d cut short by a truncation; %d truncations, %d retention passes deleting segments", sent, torn, changed, truncations, deletions)
	if truncations == 0 || deletions == 0 {
		t.Fatalf("the log was not truncated (%d) and trimmed (%d) while fetched", truncations, deletions)
	}
}

// franz-go consumes, through sendfile, a topic whose segments roll and are
// deleted by retention between and while it reads: each record it gets is
// the one stored at its offset, in order, and a new consumer from the
// start begins at the log start offset retention left.
func TestSendfileConsumeAcrossRollsAndRetention(t *testing.T) {
	b := startBroker(t, map[string]string{"log.retention.check.interval.ms": "50"})
	ctx := context.Background()
	adm := kadm.NewClient(b.client(t))
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{
		"segment.bytes": kmsg.StringPtr("20000"), "retention.bytes": kmsg.StringPtr("200000"),
	}, "rolls"); err != nil {
		t.Fatal(err)
	}
	pr := b.client(t, kgo.DefaultProduceTopic("rolls"), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	const chunk = 10000
	produce := func(from int) {
		for i := from; i < from+chunk; i++ {
			pr.Produce(cctx, &kgo.Record{Value: []byte(strconv.Itoa(i) + ":" + string(make([]byte, 100)))}, nil)
		}
		if err := pr.Flush(cctx); err != nil {
			t.Error(err) // on its own goroutine
		}
	}
	// consume reads up to value last; it returns the first value read.
	consume := func(cl *kgo.Client, next *int, last int) int {
		first := -1
		for *next < last {
			fs := cl.PollFetches(cctx)
			if err := cctx.Err(); err != nil {
				t.Fatalf("consumed up to %d of %d: %v", *next, last, err)
			}
			fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", topic, p, err) })
			fs.EachRecord(func(r *kgo.Record) {
				v, _, _ := bytes.Cut(r.Value, []byte(":"))
				i, err := strconv.Atoi(string(v))
				// Retention may delete records before they are read (the
				// client then resets to the log start), so gaps are
				// allowed; what is read must be the record stored at its
				// offset.
				if err != nil || int64(i) != r.Offset || i <= *next {
					t.Fatalf("record at offset %d holds %q after %d", r.Offset, v, *next)
				}
				if first < 0 {
					first = i
				}
				*next = i
			})
		}
		return first
	}
	cl := b.client(t, kgo.ConsumeTopics("rolls"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxPartitionBytes(30000))
	next := -1
	go produce(0)
	consume(cl, &next, chunk-1)
	p := b.lookup("rolls", 0)
	poll.True(t, 20*time.Second, "retention deleting segments", func() bool { return p.log.LogStartOffset() > 0 })
	go produce(chunk)
	consume(cl, &next, 2*chunk-1)
	start := p.log.LogStartOffset()
	fresh := b.client(t, kgo.ConsumeTopics("rolls"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	next = -1
	if first := consume(fresh, &next, 2*chunk-1); int64(first) < start {
		t.Fatalf("a new consumer began at %d, below the log start %d", first, start)
	}
	if b.sentFromFiles.Load() == 0 {
		t.Fatal("no record set was sent from a file: the sendfile path was not taken")
	}
}

// BenchmarkFetchServe serves Fetch answers (v12, 1 KiB records, 4 a
// batch) from a log over loopback TCP, read into memory and written with
// writev (the TLS path) against through WriteFetch (sendfile, or for a
// small answer, one pread and one writev), and reports the process's CPU
// (getrusage: both ends; the receiving copy is the same in both) per MB
// served and per answer. Answers are 1 MiB (a follower catching up) or one
// 4 KiB batch (a tailing follower or consumer at a low rate).
func BenchmarkFetchServe(b *testing.B) {
	l, err := wlog.Open(filepath.Join(b.TempDir(), "t-0"), wlog.DefaultConfig(), wlog.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	rng := rand.New(rand.NewPCG(1, 1))
	for range 64 << 10 { // 64 MiB of 1 KiB records, 4 a batch
		bt := valueBatch(rng, 4, 1000)
		hdrs, _ := wlog.ValidateBatches(bt, 0)
		if _, err := l.Append(bt, hdrs, wlog.AppendOptions{LeaderEpoch: 1}); err != nil {
			b.Fatal(err)
		}
		if l.Size() >= 64<<20 {
			break
		}
	}
	for _, size := range []int{4 << 10, 1 << 20} {
		for _, mode := range []string{"pread", "sendfile"} {
			b.Run(fmt.Sprintf("%s/%dKiB", mode, size>>10), func(b *testing.B) { serveFetches(b, l, mode, size) })
		}
	}
}

func serveFetches(b *testing.B, l *wlog.Log, mode string, size int) {
	{
		{
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			client, _ := net.Dial("tcp", ln.Addr().String())
			sc, _ := ln.Accept()
			ln.Close()
			server := sc.(*net.TCPConn)
			defer server.Close()
			done := make(chan struct{})
			go func() {
				defer close(done)
				buf := make([]byte, 1<<20)
				for {
					if _, err := client.Read(buf); err != nil {
						return
					}
				}
			}()
			// The sending goroutine keeps one thread, whose CPU is its own
			// (RUSAGE_THREAD: the sender's syscalls, loopback delivery
			// included); the process's adds the receiver's copy.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var ru0, ru1, rt0, rt1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			syscall.Getrusage(rusageThread, &rt0)
			served, offset := 0, int64(0)
			b.SetBytes(int64(size))
			b.ResetTimer()
			for range b.N {
				if offset >= l.LogEndOffset() {
					offset = 0
				}
				resp := kmsg.NewPtrFetchResponse()
				resp.SetVersion(12)
				rt := kmsg.NewFetchResponseTopic()
				rp := kmsg.NewFetchResponseTopicPartition()
				var sl *wlog.FileSlice
				if mode == "sendfile" {
					sl, err = l.ReadSlice(offset, size, math.MaxInt64, true)
					rp.RecordBatches = protocol.FileMarker(0)
					served += sl.Len()
				} else {
					rp.RecordBatches, err = l.Read(offset, size, math.MaxInt64, true)
					served += len(rp.RecordBatches)
				}
				if err != nil {
					b.Fatal(err)
				}
				rt.Partitions = append(rt.Partitions, rp)
				resp.Topics = append(resp.Topics, rt)
				offset += int64(max(size/1024, 4)) // about the records of size bytes
				if sl != nil {
					err = protocol.WriteFetch(server, 1, resp, []protocol.FileRecords{sl})
					sl.Release()
				} else {
					set := rp.RecordBatches
					bufs := protocol.FetchFrame(1, resp)
					_, err = bufs.WriteTo(server)
					wlog.ReleaseRead(set)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			syscall.Getrusage(rusageThread, &rt1)
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			mb := float64(served) / 1e6
			b.ReportMetric(cpuMs(ru0, ru1)/mb, "cpu-ms/MB")
			b.ReportMetric(cpuMs(rt0, rt1)/mb, "sender-cpu-ms/MB")
			b.ReportMetric(cpuMs(ru0, ru1)*1000/float64(b.N), "cpu-µs/answer")
			server.Close()
			<-done
		}
	}
}

const rusageThread = 1 // RUSAGE_THREAD (Linux)

// cpuMs is the user and system CPU between two rusage readings, in ms.
func cpuMs(a, b syscall.Rusage) float64 {
	ns := syscall.TimevalToNsec(b.Utime) - syscall.TimevalToNsec(a.Utime) + syscall.TimevalToNsec(b.Stime) - syscall.TimevalToNsec(a.Stime)
	return float64(ns) / 1e6
}

// TestSendfileOff: weir.fetch.sendfile=false answers every Fetch from
// memory, and the records read are the ones produced.
func TestSendfileOff(t *testing.T) {
	b := startBroker(t, map[string]string{"weir.fetch.sendfile": "false"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(b.client(t)).CreateTopic(ctx, 1, 1, nil, "mem"); err != nil {
		t.Fatal(err)
	}
	pr := b.client(t, kgo.DefaultProduceTopic("mem"))
	const n = 500
	for i := range n {
		pr.Produce(ctx, &kgo.Record{Value: []byte(strconv.Itoa(i))}, nil)
	}
	if err := pr.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cl := b.client(t, kgo.ConsumeTopics("mem"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	for read := 0; read < n; {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %d of %d records: %v", read, n, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s-%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Value) != strconv.Itoa(read) || r.Offset != int64(read) {
				t.Fatalf("record %d at offset %d holds %q", read, r.Offset, r.Value)
			}
			read++
		})
	}
	if got := b.sentFromFiles.Load(); got != 0 {
		t.Fatalf("%d record sets were sent from files with weir.fetch.sendfile=false", got)
	}
}
