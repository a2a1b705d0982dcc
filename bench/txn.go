package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TxnOptions configure TxnCompare: the transactional produce benchmark of
// issue 13 on one fresh three-broker Weir cluster (RF=3,
// min.insync.replicas=2). The Compare fields used are Binary, WeirBinary,
// Client (partitions, linger, batch size, compression), WorkDir, Timeout
// and Progress.
type TxnOptions struct {
	Compare    CompareOptions
	Records    int64   // records of each run
	RecordSize int     // value bytes per record
	TxnSizes   []int64 // records per transaction, one run each (nil: 100 and 10,000)
	// TransactionVersion, when above 0, is finalized (UpdateFeatures)
	// before the runs; franz-go uses version 2 from its second
	// transaction, and each run's first is its unmeasured warm-up.
	TransactionVersion int16
	// Steps records each transactional run's client-side breakdown
	// (TxnSteps: request round trips, CONCURRENT_TRANSACTIONS backoffs).
	Steps bool
}

// TxnRun is one produce run of TxnCompare: idempotent (TxnRecords 0) or
// transactional with TxnRecords records per committed transaction.
type TxnRun struct {
	Mode         string `json:"mode"` // "idempotent", "txn-100", ...
	TxnRecords   int64  `json:"txn_records,omitempty"`
	Transactions int64  `json:"transactions,omitempty"`
	Result
	Steps *TxnSteps `json:"steps,omitempty"`
}

// TxnReport is what TxnCompare measured.
type TxnReport struct {
	Brokers            int         `json:"brokers"`
	TransactionVersion int16       `json:"transaction_version"`
	ReplicationFactor  int16       `json:"replication_factor"`
	Partitions         int32       `json:"partitions"`
	RecordSize         int         `json:"record_size"`
	Runs               []TxnRun    `json:"runs"`
	Logs               []LogDigest `json:"logs"`
}

// TxnCompare starts a three-broker Weir cluster and produces o.Records
// records three ways in the same run, each to a fresh topic: idempotent,
// then in committed transactions of each of o.TxnSizes records. A warm-up
// run that is not reported comes first.
func TxnCompare(ctx context.Context, o TxnOptions) (*TxnReport, error) {
	if o.Records <= 0 || o.RecordSize < 0 {
		return nil, fmt.Errorf("txn bench: %d records of %d B: want a positive count and a size of 0 or more", o.Records, o.RecordSize)
	}
	if o.TxnSizes == nil {
		o.TxnSizes = []int64{100, 10_000}
	}
	if o.Compare.Progress == nil {
		o.Compare.Progress = io.Discard
	}
	if o.Compare.WeirBinary == "" {
		o.Compare.WeirBinary = o.Compare.Binary
	}
	const brokers = 3
	c, err := o.Compare.startCluster(ctx, "weir", "weir-txn", brokers)
	if err != nil {
		return nil, fmt.Errorf("txn bench: %w", err)
	}
	rep := &TxnReport{Brokers: brokers, ReplicationFactor: brokers, Partitions: o.Compare.Client.Partitions,
		RecordSize: o.RecordSize, TransactionVersion: o.TransactionVersion}
	err = finalizeTransactionVersion(ctx, c.Bootstrap(), o.TransactionVersion, o.Compare.startTimeout())
	if err == nil {
		err = o.runAll(ctx, c.Bootstrap(), rep)
	}
	c.Stop()
	rep.Logs = DigestLogs(c.LogPaths())
	return rep, err
}

// finalizeTransactionVersion sets transaction.version to level through
// UpdateFeatures and waits until every broker advertises it.
func finalizeTransactionVersion(ctx context.Context, brokers []string, level int16, timeout time.Duration) error {
	if level <= 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return fmt.Errorf("txn bench: creating admin client: %w", err)
	}
	defer cl.Close()
	req := kmsg.NewPtrUpdateFeaturesRequest()
	u := kmsg.NewUpdateFeaturesRequestFeatureUpdate()
	u.Feature, u.MaxVersionLevel, u.UpgradeType = "transaction.version", level, 1
	req.FeatureUpdates = append(req.FeatureUpdates, u)
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
		for _, r := range resp.Results {
			err = errors.Join(err, kerr.ErrorForCode(r.ErrorCode))
		}
	}
	if err != nil {
		return fmt.Errorf("txn bench: finalizing transaction.version %d: %w", level, err)
	}
	deadline := time.Now().Add(timeout)
	for _, addr := range brokers {
		for finalized(ctx, addr) != level {
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("txn bench: %s does not advertise transaction.version %d", addr, level)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// finalized is the transaction.version the broker at addr advertises (-1
// when it cannot be asked).
func finalized(ctx context.Context, addr string) int16 {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return -1
	}
	defer cl.Close()
	req := kmsg.NewPtrApiVersionsRequest()
	req.ClientSoftwareName, req.ClientSoftwareVersion = "weir-bench", "1"
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return -1
	}
	for _, f := range resp.FinalizedFeatures {
		if f.Name == "transaction.version" {
			return f.MaxVersionLevel
		}
	}
	return 0
}

// runAll runs the warm-up, the idempotent run and one transactional run per
// size, in that order.
func (o TxnOptions) runAll(ctx context.Context, brokers []string, rep *TxnReport) error {
	warm := min(max(o.Records/10, 1), 20_000)
	if _, err := o.run(ctx, brokers, "warmup", warm, 100); err != nil {
		return fmt.Errorf("txn bench: warming up: %w", err)
	}
	modes := []int64{0}
	modes = append(modes, o.TxnSizes...)
	for _, size := range modes {
		name := "idempotent"
		if size > 0 {
			name = "txn-" + strconv.FormatInt(size, 10)
		}
		run, err := o.run(ctx, brokers, name, o.Records, size)
		if err != nil {
			return fmt.Errorf("txn bench: %s: %w", name, err)
		}
		rep.Runs = append(rep.Runs, run)
	}
	return nil
}

// run produces records to a fresh topic, in transactions of txnSize
// records (0: idempotent, no transactions), and deletes the topic after.
func (o TxnOptions) run(ctx context.Context, brokers []string, name string, records, txnSize int64) (TxnRun, error) {
	po := o.Compare.Client
	po.Brokers, po.Topic = brokers, "weir-bench-"+name
	po.RecordSize, po.Records, po.Duration = o.RecordSize, records, 0
	po.ReplicationFactor, po.Acks, po.Idempotent, po.Clients = 3, "all", true, 1
	fmt.Fprintf(o.Compare.Progress, "weir-txn: %s: producing %d x %d B records to %s\n", name, records, o.RecordSize, po.Topic)
	run := TxnRun{Mode: name, TxnRecords: txnSize}
	var err error
	if txnSize == 0 {
		run.Result, err = boundedRun(ctx, o.Compare.Timeout, func(ctx context.Context) (Result, error) { return Produce(ctx, po) })
	} else {
		var rec *stepRecorder
		if o.Steps {
			rec = newStepRecorder()
		}
		run.Result, err = boundedRun(ctx, o.Compare.Timeout, func(ctx context.Context) (Result, error) { return produceTxns(ctx, po, txnSize, rec) })
		run.Transactions = (records + txnSize - 1) / txnSize
		if rec != nil {
			run.Steps = rec.steps()
		}
	}
	if err != nil {
		return run, err
	}
	fmt.Fprintf(o.Compare.Progress, "weir-txn: %s: produced %s\n", name, run.Result)
	if err := DeleteTopic(ctx, po.Brokers, po.Topic); err != nil {
		fmt.Fprintf(o.Compare.Progress, "weir-txn: %v (continuing)\n", err)
	}
	return run, nil
}

// produceTxns produces o.Records records with one transactional producer,
// committing every txnSize records: begin, produce, flush, commit. The
// elapsed time covers every transaction, from the first begin to the last
// commit; a one-record transaction before it
// initializes the producer ID. rec, when not nil, records the client's
// steps after that warm-up.
func produceTxns(ctx context.Context, o Options, txnSize int64, rec *stepRecorder) (Result, error) {
	if err := o.validate(); err != nil {
		return Result{}, err
	}
	kopts, err := o.producerOpts()
	if err != nil {
		return Result{}, err
	}
	kopts = append(kopts, kgo.TransactionalID("weir-bench-"+o.Topic+"-"+newClusterID()))
	if rec != nil {
		kopts = append(kopts, kgo.WithHooks(rec), kgo.WithLogger(rec))
	}
	if err := EnsureTopic(ctx, o.Brokers, o.Topic, o.Partitions, o.ReplicationFactor); err != nil {
		return Result{}, err
	}
	ps, err := newProducers(o, kopts)
	if err != nil {
		return Result{}, err
	}
	p := ps[0]
	defer p.cl.Close()
	// Warm up as Produce does: one committed record fetches metadata and
	// the producer ID outside the measured time.
	if err := p.warmTransaction(ctx); err != nil {
		return Result{}, fmt.Errorf("producing to %s: %w", o.Topic, err)
	}
	if rec != nil {
		rec.reset()
	}
	start := time.Now()
	for done := int64(0); done < o.Records; done += txnSize {
		if err := p.transaction(ctx, min(txnSize, o.Records-done)); err != nil {
			return Result{}, fmt.Errorf("producing to %s after %d records: %w", o.Topic, done, err)
		}
	}
	res := Result{Elapsed: time.Since(start), Records: p.hist.Count(), Bytes: p.bytes, Latency: p.hist.Summary()}
	res.RecordsPerSec, res.MBPerSec = throughput(res.Records, res.Bytes, res.Elapsed)
	return res, nil
}

// transaction produces n records in one transaction and commits it; a
// failed record fails the transaction, which is then aborted.
func (p *producer) transaction(ctx context.Context, n int64) error {
	if err := p.cl.BeginTransaction(); err != nil {
		return fmt.Errorf("beginning a transaction: %w", err)
	}
	for range n {
		p.cl.Produce(ctx, &kgo.Record{Value: p.value, Timestamp: time.Now()}, p.promise)
	}
	if err := p.cl.Flush(ctx); err != nil {
		return fmt.Errorf("flushing a transaction: %w", err)
	}
	p.mu.Lock()
	failed := p.firstErr
	p.mu.Unlock()
	commit := kgo.TryCommit
	if failed != nil {
		commit = kgo.TryAbort
	}
	err := p.cl.EndTransaction(ctx, commit)
	return errors.Join(failed, err)
}

func (p *producer) warmTransaction(ctx context.Context) error {
	if err := p.cl.BeginTransaction(); err != nil {
		return fmt.Errorf("beginning a transaction: %w", err)
	}
	err := p.cl.ProduceSync(ctx, &kgo.Record{Value: p.value}).FirstErr()
	commit := kgo.TryCommit
	if err != nil {
		commit = kgo.TryAbort
	}
	return errors.Join(err, p.cl.EndTransaction(ctx, commit))
}

// WriteTable prints the runs side by side with their ratio to the
// idempotent run.
func (r *TxnReport) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "transactional produce: %d Weir brokers, RF=%d, min.insync.replicas=2, %d partitions, %d B records, acks=all, one producer, transaction.version %d\n",
		r.Brokers, r.ReplicationFactor, r.Partitions, r.RecordSize, r.TransactionVersion)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\trecords\ttxns\trecords/s\tMB/s\tp50\tp99\tvs idempotent\t")
	var base float64
	for _, run := range r.Runs {
		if run.TxnRecords == 0 {
			base = run.RecordsPerSec
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.2f\t%s\t%s\t%s\t\n", run.Mode, run.Records, run.Transactions,
			run.RecordsPerSec, run.MBPerSec, fmtLatency(run.Latency.P50), fmtLatency(run.Latency.P99), ratio(run.RecordsPerSec, base))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if slices.ContainsFunc(r.Runs, func(run TxnRun) bool { return run.Steps != nil }) {
		if err := writeSteps(w, r.Runs); err != nil {
			return err
		}
	}
	return writeSectionEnd(w, "", r.Logs)
}
