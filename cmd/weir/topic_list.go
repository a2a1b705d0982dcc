package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

// topicRow is one line of `weir topic list`.
type topicRow struct {
	Name              string `json:"name"`
	Partitions        int    `json:"partitions"`
	ReplicationFactor int    `json:"replication_factor"`
	Internal          bool   `json:"internal"`
}

func newTopicListCmd(tf *topicFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List topics",
		Long:    `List every topic, internal ones included, with its partition count and replication factor.`,
		Example: "  weir topic list\n  weir topic list -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			return tf.withAdmin(cmd.Context(), func(ctx context.Context, adm *kadm.Client) error {
				return listTopics(ctx, adm, cmd.OutOrStdout(), output)
			})
		},
	}
	outputFlag(cmd, &output)
	return cmd
}

func listTopics(ctx context.Context, adm *kadm.Client, out io.Writer, output string) error {
	topics, err := adm.ListTopicsWithInternal(ctx)
	if err != nil {
		return fmt.Errorf("listing topics: %w", err)
	}
	rows := []topicRow{}
	for _, t := range topics.Sorted() {
		rows = append(rows, topicRow{t.Topic, len(t.Partitions), t.Partitions.NumReplicas(), t.IsInternal})
	}
	if output == "json" {
		return writeJSON(out, rows)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPARTITIONS\tRF\tINTERNAL")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%t\n", r.Name, r.Partitions, r.ReplicationFactor, r.Internal)
	}
	return tw.Flush()
}
