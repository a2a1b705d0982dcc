package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// The replication trace's analysis: the brokers' traces (broker/replication
// trace.go, WEIR_TRACE_REPLICATION=1, served at /debug/replication/trace)
// joined per leader append into the steps an acks=all batch goes through,
// each step's durations in a histogram. The steps, for a batch that made
// the leader's log end E and that an acks=all produce waited for:
//
//	wake      leader append → the follower's fetch answered with E
//	          (a parked long poll woken, or the next fetch's read)
//	apply     answered → the follower appended E (the network back and
//	          the follower's validation and write)
//	refetch   follower appended → its next fetch sent from E
//	report    sent → that fetch read by the leader
//	hw        the last ISR follower's report → the high watermark at E
//	ack       high watermark at E → the produce completed
//	total     leader append → the produce completed
//	consume   high watermark at E → a consumer's fetch answered through E
//	write     leader: the produce read → its append done (before total)
//
// The first four are per follower; total is what the producer waited, less
// its request's trip.

// TraceEvent is one step as a broker recorded it (replication.TraceEvent's
// JSON form).
type TraceEvent struct {
	T      int64  `json:"t"`
	Kind   string `json:"k"`
	Topic  string `json:"topic"`
	Part   int32  `json:"p"`
	Offset int64  `json:"o"`
	End    int64  `json:"end"`
	Peer   int32  `json:"peer"`
	Node   int32  `json:"node"`
}

// ReadTrace parses one broker's trace (JSON lines).
func ReadTrace(r io.Reader) ([]TraceEvent, error) {
	var out []TraceEvent
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e TraceEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("parsing a trace line %q: %w", sc.Text(), err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// ReplSteps is the histogram of each step, by name, over the traced
// batches; Batches is how many were joined end to end.
type ReplSteps struct {
	Batches int
	Steps   map[string]*Histogram
	slow    []slowBatch // the ten slowest batches' paths, slowest first
}

type slowBatch struct {
	total time.Duration
	desc  string
}

// ReplStepNames are the steps in path order.
var ReplStepNames = []string{"write", "wake", "apply", "refetch", "report", "hw", "ack", "total", "consume"}

type traceKey struct {
	node  int32
	kind  string
	topic string
	part  int32
	peer  int32
}

// AnalyzeTrace joins every broker's events (all brokers' traces merged).
func AnalyzeTrace(evs []TraceEvent) ReplSteps {
	idx := map[traceKey][]TraceEvent{}
	for _, e := range evs {
		k := traceKey{e.Node, e.Kind, e.Topic, e.Part, e.Peer}
		switch e.Kind {
		case "append", "hw", "acked", "appended", "fetch_send", "produce_in", "cfetch_out":
			k.peer = 0 // the leader's steps name no follower; a follower's one leader
		}
		idx[k] = append(idx[k], e)
	}
	for _, l := range idx {
		slices.SortFunc(l, func(a, b TraceEvent) int { return int(a.T - b.T) })
	}
	followers := map[traceKey]map[int32]bool{} // (leader, topic, part) → follower ids
	for k := range idx {
		if k.kind == "fetch_in" {
			fk := traceKey{node: k.node, topic: k.topic, part: k.part}
			if followers[fk] == nil {
				followers[fk] = map[int32]bool{}
			}
			followers[fk][k.peer] = true
		}
	}
	res := ReplSteps{Steps: map[string]*Histogram{}}
	for _, n := range ReplStepNames {
		res.Steps[n] = NewHistogram()
	}
	for k, appends := range idx {
		if k.kind != "append" {
			continue
		}
		fs := followers[traceKey{node: k.node, topic: k.topic, part: k.part}]
		for _, a := range appends {
			res.join(idx, k, a, fs)
		}
	}
	return res
}

// first is the earliest event at or after t whose offset (or end, for
// fetch_out) reaches off.
func first(l []TraceEvent, t, off int64) (TraceEvent, bool) {
	i := sort.Search(len(l), func(i int) bool { return l[i].T >= t })
	for ; i < len(l); i++ {
		o := l[i].Offset
		if l[i].Kind == "fetch_out" || l[i].Kind == "cfetch_out" {
			o = l[i].End
		}
		if o >= off {
			return l[i], true
		}
	}
	return TraceEvent{}, false
}

// join records one append's steps if the whole path was traced.
func (res *ReplSteps) join(idx map[traceKey][]TraceEvent, k traceKey, a TraceEvent, followers map[int32]bool) {
	leader, E := k.node, a.Offset
	ack, ok := first(idx[traceKey{leader, "acked", k.topic, k.part, 0}], a.T, E)
	if pin := idx[traceKey{leader, "produce_in", k.topic, k.part, 0}]; ok {
		i := sort.Search(len(pin), func(i int) bool { return pin[i].T > a.T })
		if i > 0 {
			res.Steps["write"].Record(time.Duration(a.T - pin[i-1].T))
		}
	}
	if !ok || len(followers) == 0 {
		return
	}
	hw, ok := first(idx[traceKey{leader, "hw", k.topic, k.part, 0}], a.T, E)
	if !ok {
		return
	}
	type path struct {
		f                  int32
		out, app, send, in int64
	}
	var paths []path
	lastIn := int64(0)
	for f := range followers {
		out, ok1 := first(idx[traceKey{leader, "fetch_out", k.topic, k.part, f}], a.T, E)
		app, ok2 := first(idx[traceKey{f, "appended", k.topic, k.part, 0}], a.T, E)
		send, ok3 := first(idx[traceKey{f, "fetch_send", k.topic, k.part, 0}], a.T, E)
		in, ok4 := first(idx[traceKey{leader, "fetch_in", k.topic, k.part, f}], a.T, E)
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return
		}
		paths = append(paths, path{f, out.T, app.T, send.T, in.T})
		lastIn = max(lastIn, in.T)
	}
	ns := func(d int64) time.Duration { return time.Duration(d) }
	for _, p := range paths {
		res.Steps["wake"].Record(ns(p.out - a.T))
		res.Steps["apply"].Record(ns(p.app - p.out))
		res.Steps["refetch"].Record(ns(p.send - p.app))
		res.Steps["report"].Record(ns(p.in - p.send))
	}
	res.Steps["hw"].Record(ns(hw.T - lastIn))
	res.Steps["ack"].Record(ns(ack.T - hw.T))
	res.Steps["total"].Record(ns(ack.T - a.T))
	if c, ok := first(idx[traceKey{leader, "cfetch_out", k.topic, k.part, 0}], hw.T, E); ok {
		res.Steps["consume"].Record(ns(c.T - hw.T))
	}
	res.Batches++
	var d strings.Builder
	fmt.Fprintf(&d, "%s-%d@%d leader %d t0=%d:", k.topic, k.part, E, leader, a.T%1e11/1e3)
	for _, p := range paths {
		fmt.Fprintf(&d, " [f%d wake %s apply %s refetch %s report %s]", p.f, ns(p.out-a.T), ns(p.app-p.out), ns(p.send-p.app), ns(p.in-p.send))
	}
	fmt.Fprintf(&d, " hw %s ack %s total %s", ns(hw.T-lastIn), ns(ack.T-hw.T), ns(ack.T-a.T))
	res.slow = append(res.slow, slowBatch{ns(ack.T - a.T), d.String()})
	slices.SortFunc(res.slow, func(x, y slowBatch) int { return int(y.total - x.total) })
	if len(res.slow) > 10 {
		res.slow = res.slow[:10]
	}
}

// Gaps are each broker's longest silences in its trace while the run went
// on: a process descheduled or stopped for GC records nothing, so a gap on
// one broker while the others record is that broker stalled.
func Gaps(evs []TraceEvent, n int) map[int32][]string {
	byNode := map[int32][]int64{}
	for _, e := range evs {
		byNode[e.Node] = append(byNode[e.Node], e.T)
	}
	out := map[int32][]string{}
	for node, ts := range byNode {
		slices.Sort(ts)
		type gap struct{ at, d int64 }
		var gs []gap
		for i := 1; i < len(ts); i++ {
			gs = append(gs, gap{ts[i-1], ts[i] - ts[i-1]})
		}
		slices.SortFunc(gs, func(a, b gap) int { return int(b.d - a.d) })
		for _, g := range gs[:min(n, len(gs))] {
			out[node] = append(out[node], fmt.Sprintf("t0=%d %s", g.at%1e11/1e3, time.Duration(g.d)))
		}
	}
	return out
}

// String is the steps' distribution, one line each.
func (res ReplSteps) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d batches traced end to end\n", res.Batches)
	fmt.Fprintf(&b, "%-8s %9s %9s %9s %9s %9s\n", "step", "p50", "p90", "p99", "max", "mean")
	for _, n := range ReplStepNames {
		h := res.Steps[n]
		fmt.Fprintf(&b, "%-8s %9s %9s %9s %9s %9s\n", n, fmtLatency(h.Quantile(0.5)), fmtLatency(h.Quantile(0.9)),
			fmtLatency(h.Quantile(0.99)), fmtLatency(h.Max()), fmtLatency(h.Mean()))
	}
	for _, sb := range res.slow {
		fmt.Fprintf(&b, "slow: %s\n", sb.desc)
	}
	return b.String()
}
