package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// weir txn: Kafka's kafka-transactions.sh over kadm (KIP-664).

type txnFlags struct {
	*globals
	timeout time.Duration
}

func newTxnCmd(g *globals) *cobra.Command {
	tf := &txnFlags{globals: g}
	cmd := &cobra.Command{
		Use:   "txn",
		Short: "List and describe transactions, abort a hanging one",
		Long: `Inspect the transactions of a Kafka cluster (Weir or any other) the way
Kafka's kafka-transactions.sh does: list the transactional ids the
coordinators know, describe their state (producer id and epoch, timeout,
start time, partitions of the ongoing transaction), describe the active
producers of partitions, and abort a hanging transaction on one
partition by writing its abort marker there.`,
		Example: `  weir txn list
  weir txn list --state Ongoing -o json
  weir txn describe my-app-txn-1
  weir txn producers --topic orders --partition 3
  weir txn abort --topic orders --partition 3 --start-offset 1200`,
	}
	cmd.PersistentFlags().DurationVar(&tf.timeout, "timeout", 30*time.Second, "give up on the cluster after this long (0: never)")
	cmd.AddCommand(newTxnListCmd(tf), newTxnDescribeCmd(tf), newTxnProducersCmd(tf), newTxnAbortCmd(tf))
	return cmd
}

func (tf *txnFlags) withAdmin(ctx context.Context, fn func(context.Context, *kadm.Client) error) error {
	cl, err := tf.client()
	if err != nil {
		return err
	}
	adm := kadm.NewClient(cl)
	defer adm.Close()
	ctx, cancel := withTimeout(ctx, tf.timeout)
	defer cancel()
	return fn(ctx, adm)
}

// TxnRow is one listed transactional id.
type TxnRow struct {
	TransactionalID string `json:"transactional_id"`
	State           string `json:"state"`
	ProducerID      int64  `json:"producer_id"`
	Coordinator     int32  `json:"coordinator"`
}

func newTxnListCmd(tf *txnFlags) *cobra.Command {
	var (
		output string
		states []string
		pids   []int64
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List transactional ids with their state and producer id",
		Long: `List the transactional ids every transaction coordinator knows
(ListTransactions), with their state (Empty, Ongoing, PrepareCommit,
PrepareAbort, CompleteCommit, CompleteAbort, Dead), producer id and
coordinator broker. --state and --producer-id filter on the brokers.`,
		Example: `  weir txn list
  weir txn list --state Ongoing,PrepareAbort
  weir txn list --producer-id 4001 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			return tf.withAdmin(cmd.Context(), func(ctx context.Context, adm *kadm.Client) error {
				listed, err := adm.ListTransactions(ctx, pids, states)
				if err != nil {
					return fmt.Errorf("listing transactions: %w", err)
				}
				var rows []TxnRow
				for _, l := range listed.Sorted() {
					rows = append(rows, TxnRow{l.TxnID, l.State, l.ProducerID, l.Coordinator})
				}
				return writeTxnRows(cmd.OutOrStdout(), rows, output)
			})
		},
	}
	cmd.Flags().StringSliceVar(&states, "state", nil, "only transactions in these states, comma separated")
	cmd.Flags().Int64SliceVar(&pids, "producer-id", nil, "only these producer ids, comma separated")
	outputFlag(cmd, &output)
	return cmd
}

func writeTxnRows(out io.Writer, rows []TxnRow, output string) error {
	if output == "json" {
		if rows == nil {
			rows = []TxnRow{}
		}
		return writeJSON(out, rows)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TRANSACTIONAL-ID\tSTATE\tPRODUCER-ID\tCOORDINATOR")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", r.TransactionalID, r.State, r.ProducerID, r.Coordinator)
	}
	return tw.Flush()
}

// TxnDescription is one described transactional id.
type TxnDescription struct {
	TransactionalID string   `json:"transactional_id"`
	State           string   `json:"state"`
	ProducerID      int64    `json:"producer_id"`
	ProducerEpoch   int16    `json:"producer_epoch"`
	TimeoutMs       int32    `json:"timeout_ms"`
	StartTimestamp  int64    `json:"start_timestamp_ms"` // -1: no transaction
	Coordinator     int32    `json:"coordinator"`
	Partitions      []string `json:"partitions"` // topic-partition, of the ongoing transaction
	Error           string   `json:"error,omitempty"`
}

func newTxnDescribeCmd(tf *txnFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "describe TRANSACTIONAL-ID...",
		Short: "Describe transactional ids: state, producer, timeout, partitions",
		Long: `Describe transactional ids (DescribeTransactions): their state, producer id
and epoch, transaction timeout, when the ongoing transaction started, its
coordinator and the partitions in it. An id the coordinators do not know
is reported with its error and makes the command fail.`,
		Example: `  weir txn describe my-app-txn-1
  weir txn describe my-app-txn-1 my-app-txn-2 -o json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, ids []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			return tf.withAdmin(cmd.Context(), func(ctx context.Context, adm *kadm.Client) error {
				described, err := adm.DescribeTransactions(ctx, ids...)
				if err != nil && len(described) == 0 {
					return fmt.Errorf("describing transactions: %w", err)
				}
				var out []TxnDescription
				var failed []string
				for _, id := range ids {
					d, ok := described[id]
					td := TxnDescription{TransactionalID: id, State: d.State, ProducerID: d.ProducerID, ProducerEpoch: d.ProducerEpoch,
						TimeoutMs: d.TimeoutMillis, StartTimestamp: d.StartTimestamp, Coordinator: d.Coordinator, Partitions: []string{}}
					switch {
					case !ok:
						td.Error = "no answer"
					case d.Err != nil:
						td.Error = d.Err.Error()
					}
					if td.Error != "" {
						failed = append(failed, id+": "+td.Error)
					}
					d.Topics.Each(func(t string, p int32) { td.Partitions = append(td.Partitions, fmt.Sprintf("%s-%d", t, p)) })
					sort.Strings(td.Partitions)
					out = append(out, td)
				}
				if werr := writeTxnDescriptions(cmd.OutOrStdout(), out, output); werr != nil {
					return werr
				}
				if len(failed) > 0 {
					return fmt.Errorf("describing transactions: %s", strings.Join(failed, "; "))
				}
				return nil
			})
		},
	}
	outputFlag(cmd, &output)
	return cmd
}

func writeTxnDescriptions(out io.Writer, ds []TxnDescription, output string) error {
	if output == "json" {
		return writeJSON(out, ds)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TRANSACTIONAL-ID\tSTATE\tPRODUCER-ID\tEPOCH\tTIMEOUT-MS\tSTARTED\tCOORDINATOR\tPARTITIONS")
	for _, d := range ds {
		started := "-"
		if d.StartTimestamp >= 0 && d.State == "Ongoing" {
			started = time.UnixMilli(d.StartTimestamp).UTC().Format(time.RFC3339)
		}
		state := d.State
		if d.Error != "" {
			state = "error: " + d.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%d\t%s\n", d.TransactionalID, state, d.ProducerID, d.ProducerEpoch,
			d.TimeoutMs, started, d.Coordinator, orDash(strings.Join(d.Partitions, ",")))
	}
	return tw.Flush()
}

func newTxnAbortCmd(tf *txnFlags) *cobra.Command {
	var (
		topic       string
		partition   int32
		startOffset int64
		spec        abortSpec
	)
	cmd := &cobra.Command{
		Use:   "abort",
		Short: "Abort a hanging transaction on one partition",
		Long: `Abort a hanging transaction on one partition: write an abort marker for the
producer there (WriteTxnMarkers to the partition leader), as
kafka-transactions.sh abort does, so the partition's last stable offset
moves on and read_committed consumers are no longer held back. Use it only
for a transaction its coordinator no longer knows (a hanging transaction);
an ongoing one is aborted through its producer or its timeout.

Name the transaction by the offset it starts at (--start-offset, the
CurrentTxnStartOffset DescribeProducers reports; the producer id, epoch
and coordinator epoch are then found with DescribeProducers), or, for
brokers before Kafka 2.8, by --producer-id, --producer-epoch and
--coordinator-epoch. The coordinator epoch must be at least the epoch of
the markers already written for the producer (the leader epoch of its
__transaction_state partition), or the marker is fenced; a producer with
no marker yet (-1) is aborted with 0, as Kafka's tool does.`,
		Example: `  weir txn abort --topic orders --partition 3 --start-offset 1200
  weir txn abort --topic orders --partition 3 --producer-id 4001 --producer-epoch 2 --coordinator-epoch 5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			byPID := f.Changed("producer-id") || f.Changed("producer-epoch") || f.Changed("coordinator-epoch")
			switch {
			case topic == "" || !f.Changed("partition"):
				return fmt.Errorf("abort: --topic and --partition are required")
			case f.Changed("start-offset") == byPID:
				return fmt.Errorf("abort: name the transaction either with --start-offset or with --producer-id, --producer-epoch and --coordinator-epoch")
			case byPID && !(f.Changed("producer-id") && f.Changed("producer-epoch") && f.Changed("coordinator-epoch")):
				return fmt.Errorf("abort: --producer-id, --producer-epoch and --coordinator-epoch go together")
			}
			return tf.withAdmin(cmd.Context(), func(ctx context.Context, adm *kadm.Client) error {
				if !byPID {
					var err error
					if spec, err = findHanging(ctx, adm, topic, partition, startOffset); err != nil {
						return err
					}
				}
				spec.coordEpoch = max(spec.coordEpoch, 0)
				if err := writeAbortMarker(ctx, adm, topic, partition, spec); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "aborted the transaction of producer %d (epoch %d, coordinator epoch %d) on %s-%d\n",
					spec.pid, spec.epoch, spec.coordEpoch, topic, partition)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&topic, "topic", "", "the partition's topic")
	cmd.Flags().Int32Var(&partition, "partition", 0, "the partition (required)")
	cmd.Flags().Int64Var(&startOffset, "start-offset", -1, "the offset the hanging transaction starts at (found with DescribeProducers)")
	cmd.Flags().Int64Var(&spec.pid, "producer-id", -1, "the hanging transaction's producer id (instead of --start-offset)")
	cmd.Flags().Int16Var(&spec.epoch, "producer-epoch", 0, "the producer's epoch (with --producer-id)")
	cmd.Flags().Int32Var(&spec.coordEpoch, "coordinator-epoch", 0, "the coordinator epoch the marker carries (with --producer-id)")
	return cmd
}

// abortSpec is the producer whose transaction an abort marker ends.
type abortSpec struct {
	pid        int64
	epoch      int16
	coordEpoch int32
}

// findHanging asks the partition's leader for its active producers
// (DescribeProducers) and returns the one whose open transaction starts
// at startOffset.
func findHanging(ctx context.Context, adm *kadm.Client, topic string, partition int32, startOffset int64) (abortSpec, error) {
	described, err := adm.DescribeProducers(ctx, kadm.TopicsSet{topic: {partition: struct{}{}}})
	if err != nil {
		return abortSpec{}, fmt.Errorf("abort: describing the producers of %s-%d: %w", topic, partition, err)
	}
	dp, ok := described[topic].Partitions[partition]
	switch {
	case !ok:
		return abortSpec{}, fmt.Errorf("abort: no answer for %s-%d", topic, partition)
	case dp.Err != nil:
		return abortSpec{}, fmt.Errorf("abort: describing the producers of %s-%d: %w", topic, partition, dp.Err)
	}
	return hangingAt(dp.ActiveProducers, startOffset, fmt.Sprintf("%s-%d", topic, partition))
}

// hangingAt picks the producer whose open transaction starts at
// startOffset (Kafka's TransactionsCommand.buildAbortSpec).
func hangingAt(producers kadm.DescribedProducers, startOffset int64, where string) (abortSpec, error) {
	for _, p := range producers.Sorted() {
		if p.CurrentTxnStartOffset >= 0 && p.CurrentTxnStartOffset == startOffset {
			return abortSpec{pid: p.ProducerID, epoch: p.ProducerEpoch, coordEpoch: p.CoordinatorEpoch}, nil
		}
	}
	return abortSpec{}, fmt.Errorf("abort: no open transaction starts at offset %d on %s", startOffset, where)
}

// writeAbortMarker writes the abort marker through WriteTxnMarkers, which
// the client sends to the partition's leader.
func writeAbortMarker(ctx context.Context, adm *kadm.Client, topic string, partition int32, spec abortSpec) error {
	resps, err := adm.WriteTxnMarkers(ctx, kadm.TxnMarkers{
		ProducerID: spec.pid, ProducerEpoch: spec.epoch, Commit: false, CoordinatorEpoch: spec.coordEpoch,
		Topics: kadm.TopicsSet{topic: {partition: struct{}{}}},
	})
	if err != nil {
		return fmt.Errorf("abort %s-%d: %w", topic, partition, err)
	}
	rp, ok := resps[spec.pid].Topics[topic].Partitions[partition]
	switch {
	case !ok:
		return fmt.Errorf("abort %s-%d: no answer for the partition", topic, partition)
	case rp.Err != nil:
		return fmt.Errorf("abort %s-%d: %w", topic, partition, rp.Err)
	}
	return nil
}
