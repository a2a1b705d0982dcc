package bench

import (
	"strings"
	"testing"
	"time"
)

// One batch through a leader (1) and two followers (2, 3), in
// milliseconds: the steps are the differences the path names, hw waits
// for the later follower, and a batch whose produce was never acked is not
// joined.
func TestAnalyzeTrace(t *testing.T) {
	ms := func(n int64) int64 { return n * int64(time.Millisecond) }
	ev := func(node int32, kind string, at, off, end int64, peer int32) TraceEvent {
		return TraceEvent{T: ms(at), Kind: kind, Topic: "t", Part: 0, Offset: off, End: end, Peer: peer, Node: node}
	}
	evs := []TraceEvent{
		ev(1, "produce_in", 0, 0, 0, -1),
		ev(1, "append", 1, 10, 0, -1),
		ev(1, "fetch_out", 2, 5, 10, 2),
		ev(1, "fetch_out", 3, 5, 10, 3),
		ev(2, "appended", 5, 10, 0, 1),
		ev(3, "appended", 9, 10, 0, 1),
		ev(2, "fetch_send", 6, 10, 0, 1),
		ev(3, "fetch_send", 10, 10, 0, 1),
		ev(1, "fetch_in", 7, 10, 0, 2),
		ev(1, "fetch_in", 12, 10, 0, 3),
		ev(1, "hw", 12, 10, 0, 3),
		ev(1, "acked", 14, 10, 0, -1),
		ev(1, "cfetch_out", 15, 5, 10, -1),
		// A second batch, never acknowledged: not joined.
		ev(1, "append", 20, 11, 0, -1),
	}
	res := AnalyzeTrace(evs)
	if res.Batches != 1 {
		t.Fatalf("%d batches joined, want 1", res.Batches)
	}
	for step, want := range map[string][2]int64{ // min, max over followers
		"write": {1, 1}, "wake": {1, 2}, "apply": {3, 6}, "refetch": {1, 1}, "report": {1, 2},
		"hw": {0, 0}, "ack": {2, 2}, "total": {13, 13}, "consume": {3, 3},
	} {
		h := res.Steps[step]
		lo, hi := h.Quantile(0.01), h.Max() // the histogram's buckets are within 1 %
		if near := func(d time.Duration, w int64) bool {
			return d >= time.Duration(ms(w)) && d <= time.Duration(ms(w))*101/100
		}; !near(lo, want[0]) || !near(hi, want[1]) {
			t.Errorf("%s: min %v max %v, want %v–%v ms", step, lo, hi, want[0], want[1])
		}
	}
	if !strings.Contains(res.String(), "1 batches traced end to end") {
		t.Errorf("report:\n%s", res)
	}
}

func TestReadTraceRejectsGarbage(t *testing.T) {
	if _, err := ReadTrace(strings.NewReader("{\"t\":1}\nnot json\n")); err == nil || !strings.Contains(err.Error(), "not json") {
		t.Fatalf("err %v, want one naming the bad line", err)
	}
}
