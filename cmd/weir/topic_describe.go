package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/weirhq/weir/internal/topicadmin"
)

func newTopicDescribeCmd(tf *topicFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "describe NAME...",
		Short: "Describe topics: configs, leaders, replicas, ISR, offsets",
		Long: `Describe topics: the configs set on the topic (those that are not defaults)
and, per partition, the leader, replicas, in-sync replicas and the log start
and end offsets.`,
		Example: "  weir topic describe orders\n  weir topic describe orders payments -o json",
		Args:    needArgs("topic NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			return tf.withAdmin(cmd.Context(), func(ctx context.Context, adm *kadm.Client) error {
				descs, err := topicadmin.Describe(ctx, adm, args)
				if werr := writeDescriptions(cmd.OutOrStdout(), descs, output); werr != nil {
					return werr
				}
				return err
			})
		},
	}
	outputFlag(cmd, &output)
	return cmd
}

func writeDescriptions(out io.Writer, descs []topicadmin.Description, output string) error {
	if output == "json" {
		if descs == nil {
			descs = []topicadmin.Description{}
		}
		return writeJSON(out, descs)
	}
	for i, d := range descs {
		if i > 0 {
			fmt.Fprintln(out)
		}
		if err := writeDescription(out, d); err != nil {
			return err
		}
	}
	return nil
}

func writeDescription(out io.Writer, d topicadmin.Description) error {
	fmt.Fprintf(out, "Topic: %s\tID: %s\tPartitions: %d\tReplicationFactor: %d\tInternal: %t\n",
		d.Name, d.ID, len(d.Partitions), d.ReplicationFactor, d.Internal)
	var cfgs []string
	for _, k := range slices.Sorted(maps.Keys(d.Configs)) {
		cfgs = append(cfgs, k+"="+d.Configs[k])
	}
	fmt.Fprintf(out, "Configs: %s\n", strings.Join(cfgs, ","))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PARTITION\tLEADER\tEPOCH\tREPLICAS\tISR\tLOG-START\tLOG-END\tERROR")
	for _, p := range d.Partitions {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%d\t%d\t%s\n", p.Partition, p.Leader, p.LeaderEpoch,
			joinInt32(p.Replicas), joinInt32(p.ISR), p.LogStartOffset, p.LogEndOffset, p.Error)
	}
	return tw.Flush()
}
