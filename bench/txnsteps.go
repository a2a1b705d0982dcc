package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The client's view of a transactional run (weir bench txn --steps):
// each request kind's round trips, from kgo's HookBrokerE2E (written to
// response read, so a request the broker holds counts its hold), and the
// CONCURRENT_TRANSACTIONS backoffs franz-go took, counted from its debug
// log. A transaction's time is roughly its requests' round trips (the
// AddPartitionsToTxn of each sink, Produce, EndTxn) plus those backoffs.

// TxnStep is one request kind's round trips in a run.
type TxnStep struct {
	Request string        `json:"request"`
	Count   int64         `json:"count"`
	P50     time.Duration `json:"p50_ns"`
	P99     time.Duration `json:"p99_ns"`
	Mean    time.Duration `json:"mean_ns"`
}

// TxnSteps is a run's client-side breakdown.
type TxnSteps struct {
	Requests []TxnStep `json:"requests"`
	// ConcurrentBackoffs is how many times franz-go backed off after a
	// CONCURRENT_TRANSACTIONS answer (20 ms each at first).
	ConcurrentBackoffs int64 `json:"concurrent_backoffs"`
}

// stepRecorder is a kgo hook and logger that records TxnSteps; the
// warm-up's requests are dropped by reset.
type stepRecorder struct {
	mu         sync.Mutex
	hists      map[string]*Histogram
	concurrent int64
}

func newStepRecorder() *stepRecorder { return &stepRecorder{hists: map[string]*Histogram{}} }

// OnBrokerE2E is kgo.HookBrokerE2E.
func (s *stepRecorder) OnBrokerE2E(_ kgo.BrokerMetadata, key int16, e kgo.BrokerE2E) {
	if e.Err() != nil {
		return
	}
	name := kmsg.NameForKey(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hists[name]
	if h == nil {
		h = NewHistogram()
		s.hists[name] = h
	}
	h.Record(e.DurationE2E())
}

// Level and Log make the recorder franz-go's logger at debug level, which
// is where it reports a CONCURRENT_TRANSACTIONS backoff.
func (s *stepRecorder) Level() kgo.LogLevel { return kgo.LogLevelDebug }

func (s *stepRecorder) Log(_ kgo.LogLevel, msg string, _ ...any) {
	if strings.Contains(msg, "CONCURRENT_TRANSACTIONS") && strings.Contains(msg, "backing off") {
		s.mu.Lock()
		s.concurrent++
		s.mu.Unlock()
	}
}

func (s *stepRecorder) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hists, s.concurrent = map[string]*Histogram{}, 0
}

func (s *stepRecorder) steps() *TxnSteps {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &TxnSteps{ConcurrentBackoffs: s.concurrent}
	for name, h := range s.hists {
		out.Requests = append(out.Requests, TxnStep{Request: name, Count: h.Count(),
			P50: h.Quantile(0.5), P99: h.Quantile(0.99), Mean: h.Mean()})
	}
	slices.SortFunc(out.Requests, func(a, b TxnStep) int { return strings.Compare(a.Request, b.Request) })
	return out
}

// writeSteps prints each run's breakdown, per transaction.
func writeSteps(w io.Writer, runs []TxnRun) error {
	fmt.Fprintln(w, "client steps: requests per transaction and their round trips (kgo's written to read)")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\trequest\tper txn\tp50\tp99\tmean\t")
	for _, run := range runs {
		if run.Steps == nil || run.Transactions == 0 {
			continue
		}
		perTxn := run.Elapsed / time.Duration(run.Transactions)
		fmt.Fprintf(tw, "%s\ttransaction\t1\t\t\t%s\t\n", run.Mode, fmtLatency(perTxn))
		for _, st := range run.Steps.Requests {
			fmt.Fprintf(tw, "%s\t%s\t%.2f\t%s\t%s\t%s\t\n", run.Mode, st.Request, float64(st.Count)/float64(run.Transactions),
				fmtLatency(st.P50), fmtLatency(st.P99), fmtLatency(st.Mean))
		}
		fmt.Fprintf(tw, "%s\tCONCURRENT_TRANSACTIONS backoffs\t%.2f\t\t\t\t\n", run.Mode,
			float64(run.Steps.ConcurrentBackoffs)/float64(run.Transactions))
	}
	return tw.Flush()
}
