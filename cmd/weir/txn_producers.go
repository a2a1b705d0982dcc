package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// ProducerRow is one active producer of a partition (DescribeProducers).
type ProducerRow struct {
	Topic            string `json:"topic"`
	Partition        int32  `json:"partition"`
	Leader           int32  `json:"leader"`
	ProducerID       int64  `json:"producer_id"`
	ProducerEpoch    int16  `json:"producer_epoch"`
	LastSequence     int32  `json:"last_sequence"`
	LastTimestamp    int64  `json:"last_timestamp_ms"`
	CoordinatorEpoch int32  `json:"coordinator_epoch"`
	TxnStartOffset   int64  `json:"current_txn_start_offset"` // -1: no open transaction
}

func newTxnProducersCmd(tf *txnFlags) *cobra.Command {
	var (
		output string
		topic  string
		parts  []int32
	)
	cmd := &cobra.Command{
		Use:   "producers",
		Short: "Describe the active producers of a topic's partitions",
		Long: `Describe the producers each partition leader keeps state for
(DescribeProducers, KIP-664), as kafka-transactions.sh describe-producers
does: producer id and epoch, last sequence and timestamp, the coordinator
epoch of its last transaction marker, and the first offset of its open
transaction (-1: none). An open transaction whose producer is gone is a
hanging one: abort it with 'weir txn abort --start-offset'. A partition
that cannot be described is reported and makes the command fail.`,
		Example: `  weir txn producers --topic orders
  weir txn producers --topic orders --partition 3 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			if topic == "" {
				return fmt.Errorf("producers: --topic is required")
			}
			set := kadm.TopicsSet{topic: {}}
			for _, p := range parts {
				set[topic][p] = struct{}{}
			}
			return tf.withAdmin(cmd.Context(), func(ctx context.Context, adm *kadm.Client) error {
				described, err := adm.DescribeProducers(ctx, set)
				if err != nil && len(described) == 0 {
					return fmt.Errorf("describing producers: %w", err)
				}
				rows, failed := producerRows(described)
				if err != nil {
					failed = append(failed, err.Error())
				}
				if werr := writeProducerRows(cmd.OutOrStdout(), rows, output); werr != nil {
					return werr
				}
				if len(failed) > 0 {
					return fmt.Errorf("describing producers: %s", strings.Join(failed, "; "))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&topic, "topic", "", "the topic")
	cmd.Flags().Int32SliceVar(&parts, "partition", nil, "only these partitions, comma separated (default: all)")
	outputFlag(cmd, &output)
	return cmd
}

// producerRows flattens DescribeProducers' answer, by partition and
// producer id, and lists the partitions that failed.
func producerRows(described kadm.DescribedProducersTopics) ([]ProducerRow, []string) {
	rows := []ProducerRow{}
	var failed []string
	for _, dt := range described.Sorted() {
		for _, dp := range dt.Partitions.Sorted() {
			if dp.Err != nil {
				failed = append(failed, fmt.Sprintf("%s-%d: %v", dp.Topic, dp.Partition, dp.Err))
				continue
			}
			for _, p := range dp.ActiveProducers.Sorted() {
				rows = append(rows, ProducerRow{p.Topic, p.Partition, p.Leader, p.ProducerID, p.ProducerEpoch,
					p.LastSequence, p.LastTimestamp, p.CoordinatorEpoch, p.CurrentTxnStartOffset})
			}
		}
	}
	return rows, failed
}

func writeProducerRows(out io.Writer, rows []ProducerRow, output string) error {
	if output == "json" {
		return writeJSON(out, rows)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tLEADER\tPRODUCER-ID\tEPOCH\tLAST-SEQUENCE\tLAST-TIMESTAMP\tCOORDINATOR-EPOCH\tTXN-START-OFFSET")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", r.Topic, r.Partition, r.Leader, r.ProducerID, r.ProducerEpoch,
			r.LastSequence, r.LastTimestamp, r.CoordinatorEpoch, noneIfNegative(r.TxnStartOffset))
	}
	return tw.Flush()
}

func noneIfNegative(v int64) string {
	if v < 0 {
		return "None"
	}
	return strconv.FormatInt(v, 10)
}
