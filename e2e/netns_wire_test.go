package e2e

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// wireAcks records, from the bytes on the producer's connections, which
// broker acknowledged which batch: a kgo.Dialer wraps every connection,
// splits the request and response frames, and decodes Produce requests
// (the batches sent, to count retries) and Produce responses (the base
// offset each partition acknowledged). kgo does not say which broker
// acknowledged a record, and the leader-epoch check needs it.
type wireAcks struct {
	nodes map[string]int32 // broker address -> node id

	mu    sync.Mutex
	sends map[batchKey]int // batches by how many times they were sent
	acks  []wireAck
}

// batchKey names a producer batch: its partition and first sequence.
type batchKey struct {
	topic     string // name, or hex topic id from Produce v13
	partition int32
	pid       int64
	seq       int32
}

type wireAck struct {
	node       int32
	batch      batchKey
	baseOffset int64
	at         time.Time // when the response was read
}

func newWireAcks(nodes map[string]int32) *wireAcks {
	return &wireAcks{nodes: nodes, sends: map[batchKey]int{}}
}

// dial is the kgo.Dialer.
func (w *wireAcks) dial(ctx context.Context, network, host string) (net.Conn, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, network, host)
	if err != nil {
		return nil, err
	}
	node, ok := w.nodes[host]
	if !ok {
		node = -1
	}
	wc := &wireConn{Conn: c, w: w, node: node, pending: map[int32]pendingReq{}}
	wc.out.onFrame, wc.in.onFrame = wc.request, wc.response
	return wc, nil
}

func (w *wireAcks) snapshot() ([]wireAck, map[batchKey]int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	sends := make(map[batchKey]int, len(w.sends))
	for k, v := range w.sends {
		sends[k] = v
	}
	return append([]wireAck(nil), w.acks...), sends
}

type pendingReq struct {
	key, version int16
	batches      map[string]batchKey // "topic/partition" -> the batch sent
}

type wireConn struct {
	net.Conn
	w       *wireAcks
	node    int32
	out, in frameSplitter

	mu      sync.Mutex
	pending map[int32]pendingReq // by correlation id
}

func (c *wireConn) Write(p []byte) (int, error) {
	c.out.feed(p)
	return c.Conn.Write(p)
}

func (c *wireConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.feed(p[:n])
	return n, err
}

// request notes a request's key, version and, for Produce, its batches.
func (c *wireConn) request(f []byte) {
	if len(f) < 8 {
		return
	}
	key, version := int16(binary.BigEndian.Uint16(f)), int16(binary.BigEndian.Uint16(f[2:]))
	corr := int32(binary.BigEndian.Uint32(f[4:]))
	pr := pendingReq{key: key, version: version}
	if key == 0 {
		body := f[8:]
		if len(body) < 2 {
			return
		}
		idLen := int(int16(binary.BigEndian.Uint16(body)))
		body = body[2+max(idLen, 0):]
		if version >= 9 {
			var err error
			if body, err = skipTags(body); err != nil {
				return
			}
		}
		req := kmsg.NewProduceRequest()
		req.Version = version
		if err := req.ReadFrom(body); err == nil {
			pr.batches = map[string]batchKey{}
			c.w.mu.Lock()
			for _, t := range req.Topics {
				for _, p := range t.Partitions {
					k, ok := batchOf(topicKey(t.Topic, t.TopicID), p.Partition, p.Records)
					if ok {
						pr.batches[fmt.Sprintf("%s/%d", k.topic, k.partition)] = k
						c.w.sends[k]++
					}
				}
			}
			c.w.mu.Unlock()
		}
	}
	c.mu.Lock()
	c.pending[corr] = pr
	c.mu.Unlock()
}

// response records the partitions a Produce response acknowledged.
func (c *wireConn) response(f []byte) {
	if len(f) < 4 {
		return
	}
	corr := int32(binary.BigEndian.Uint32(f))
	c.mu.Lock()
	pr, ok := c.pending[corr]
	delete(c.pending, corr)
	c.mu.Unlock()
	if !ok || pr.key != 0 {
		return
	}
	body := f[4:]
	if pr.version >= 9 {
		var err error
		if body, err = skipTags(body); err != nil {
			return
		}
	}
	resp := kmsg.NewProduceResponse()
	resp.Version = pr.version
	if err := resp.ReadFrom(body); err != nil {
		return
	}
	now := time.Now()
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			k, ok := pr.batches[fmt.Sprintf("%s/%d", topicKey(t.Topic, t.TopicID), p.Partition)]
			if ok && p.ErrorCode == 0 {
				c.w.acks = append(c.w.acks, wireAck{node: c.node, batch: k, baseOffset: p.BaseOffset, at: now})
			}
		}
	}
}

func topicKey(name string, id [16]byte) string {
	if name != "" {
		return name
	}
	return hex.EncodeToString(id[:])
}

// batchOf reads the producer id and base sequence of the first v2 batch in
// records: producerId sits at byte 43, baseSequence at 53.
func batchOf(topic string, partition int32, records []byte) (batchKey, bool) {
	if len(records) < 61 {
		return batchKey{}, false
	}
	return batchKey{
		topic: topic, partition: partition,
		pid: int64(binary.BigEndian.Uint64(records[43:])),
		seq: int32(binary.BigEndian.Uint32(records[53:])),
	}, true
}

// frameSplitter cuts a byte stream into size-prefixed Kafka frames.
type frameSplitter struct {
	buf     []byte
	onFrame func([]byte)
}

func (s *frameSplitter) feed(p []byte) {
	s.buf = append(s.buf, p...)
	for len(s.buf) >= 4 {
		n := int(binary.BigEndian.Uint32(s.buf))
		if len(s.buf) < 4+n {
			return
		}
		s.onFrame(s.buf[4 : 4+n])
		s.buf = s.buf[4+n:]
	}
	if len(s.buf) == 0 {
		s.buf = nil
	}
}

// longestGap is, for each partition, the longest stretch of [from, to]
// without an acknowledgement: how long the partition took no writes.
// firstAckAfter is, for each partition, how long after from the first
// produce acknowledgement for it was read off the wire (false: none yet).
func (w *wireAcks) firstAckAfter(partitions int32, from time.Time) ([]time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]time.Duration, partitions)
	seen := make([]bool, partitions)
	for _, a := range w.acks {
		p := a.batch.partition
		if p < 0 || p >= partitions || a.at.Before(from) {
			continue
		}
		if d := a.at.Sub(from); !seen[p] || d < out[p] {
			out[p], seen[p] = d, true
		}
	}
	for _, ok := range seen {
		if !ok {
			return out, false
		}
	}
	return out, true
}

func (w *wireAcks) longestGap(partitions int32, from, to time.Time) []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]time.Duration, partitions)
	last := make([]time.Time, partitions)
	for p := range last {
		last[p] = from
	}
	for _, a := range w.acks { // in the order read, near enough to time order
		p := a.batch.partition
		if p < 0 || p >= partitions || a.at.Before(from) || a.at.After(to) {
			continue
		}
		if a.at.After(last[p]) {
			out[p] = max(out[p], a.at.Sub(last[p]))
			last[p] = a.at
		}
	}
	for p := range out {
		out[p] = max(out[p], to.Sub(last[p]))
	}
	return out
}
