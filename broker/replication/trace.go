package replication

import (
	"encoding/json"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// The replication trace: wall-clock timestamps of each step an acks=all
// append goes through, on the leader and on its followers, for finding
// where the latency goes (issue 14; bench.ReplTrace joins the brokers'
// traces per batch). It is off unless the broker runs with
// WEIR_TRACE_REPLICATION=1 (then each step costs one ring write under a
// mutex); the admin listener serves it at /debug/replication/trace as JSON
// lines. The steps, in order for one batch ending at offset E:
//
//	append     leader: appended, the log end is now E (Offset)
//	fetch_out  leader: answered follower Peer with records from Offset up
//	           to End (the log end as read)
//	recv       follower: that response arrived (Offset: fetch offset)
//	appended   follower: appended, its log end is now Offset
//	fetch_send follower: asked again from Offset
//	fetch_in   leader: a follower fetch arrived from Offset (also each
//	           re-read of a parked one)
//	hw         leader: the high watermark moved to Offset
//	acked      leader: a parked acks=all produce completed (Offset: the
//	           high watermark it waited for)
//
// park and wake (leader, Peer set, no partition) bound a follower fetch's
// long poll.

// TraceEvent is one step.
type TraceEvent struct {
	T      int64  `json:"t"` // Unix nanoseconds, the wall clock
	Kind   string `json:"k"`
	Topic  string `json:"topic,omitempty"`
	Part   int32  `json:"p"`
	Offset int64  `json:"o"`
	End    int64  `json:"end,omitempty"`
	Peer   int32  `json:"peer"`
	Node   int32  `json:"node"`
}

const traceSize = 1 << 18

var trace struct {
	on   atomic.Bool
	node int32
	mu   sync.Mutex
	ring []TraceEvent
	next int
	full bool
}

// EnableTraceFromEnv turns the trace on when WEIR_TRACE_REPLICATION=1,
// recording node as this broker.
func EnableTraceFromEnv(node int32) bool {
	if os.Getenv("WEIR_TRACE_REPLICATION") != "1" {
		return false
	}
	trace.mu.Lock()
	trace.node, trace.ring = node, make([]TraceEvent, traceSize)
	trace.mu.Unlock()
	trace.on.Store(true)
	return true
}

// Tracing reports whether the trace is on.
func Tracing() bool { return trace.on.Load() }

// Trace records one step when the trace is on.
func Trace(kind, topic string, part int32, offset, end int64, peer int32) {
	if !trace.on.Load() {
		return
	}
	t := time.Now().UnixNano() // a wall latency across processes
	trace.mu.Lock()
	trace.ring[trace.next] = TraceEvent{T: t, Kind: kind, Topic: topic, Part: part, Offset: offset, End: end, Peer: peer, Node: trace.node}
	trace.next++
	if trace.next == len(trace.ring) {
		trace.next, trace.full = 0, true
	}
	trace.mu.Unlock()
}

// WriteTrace writes the recorded steps, oldest first, as JSON lines.
func WriteTrace(w io.Writer) error {
	trace.mu.Lock()
	var evs []TraceEvent
	if trace.full {
		evs = append(evs, trace.ring[trace.next:]...)
	}
	evs = append(evs, trace.ring[:trace.next]...)
	trace.mu.Unlock()
	enc := json.NewEncoder(w)
	for _, e := range evs {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}
