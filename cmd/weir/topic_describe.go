package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicDescription is what `weir topic describe` prints of one topic.
type topicDescription struct {
	Name              string            `json:"name"`
	ID                string            `json:"id"`
	Internal          bool              `json:"internal"`
	ReplicationFactor int               `json:"replication_factor"`
	Configs           map[string]string `json:"configs"` // the ones that are not defaults
	Partitions        []partitionRow    `json:"partitions"`
}

type partitionRow struct {
	Partition      int32   `json:"partition"`
	Leader         int32   `json:"leader"`
	LeaderEpoch    int32   `json:"leader_epoch"`
	Replicas       []int32 `json:"replicas"`
	ISR            []int32 `json:"isr"`
	LogStartOffset int64   `json:"log_start_offset"`
	LogEndOffset   int64   `json:"log_end_offset"`
	Error          string  `json:"error,omitempty"`
}

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
				descs, err := describeTopics(ctx, adm, args)
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

// describeTopics gathers the descriptions of names; topics that could not
// be described are left out and their errors joined.
func describeTopics(ctx context.Context, adm *kadm.Client, names []string) ([]topicDescription, error) {
	topics, err := adm.ListTopicsWithInternal(ctx, names...)
	if err != nil {
		return nil, fmt.Errorf("describing topics: %w", err)
	}
	var errs []error
	var found []string
	for _, name := range names {
		t, ok := topics[name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("describing topic %s: not in the metadata response", name))
		case t.Err != nil:
			errs = append(errs, fmt.Errorf("describing topic %s: %w", name, t.Err))
		default:
			found = append(found, name)
		}
	}
	if len(found) == 0 {
		return nil, errors.Join(errs...)
	}
	configs, err := adm.DescribeTopicConfigs(ctx, found...)
	if err != nil {
		return nil, fmt.Errorf("describing topic configs: %w", err)
	}
	starts, err := adm.ListStartOffsets(ctx, found...)
	if err != nil {
		return nil, fmt.Errorf("listing start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, found...)
	if err != nil {
		return nil, fmt.Errorf("listing end offsets: %w", err)
	}
	descs := make([]topicDescription, 0, len(found))
	for _, name := range found {
		d := describeTopic(topics[name], starts, ends)
		rc, err := configs.On(name, nil)
		if err == nil {
			err = rc.Err
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("describing configs of topic %s: %w", name, err))
		}
		d.Configs = nonDefaultConfigs(rc.Configs)
		descs = append(descs, d)
	}
	return descs, errors.Join(errs...)
}

func describeTopic(t kadm.TopicDetail, starts, ends kadm.ListedOffsets) topicDescription {
	d := topicDescription{Name: t.Topic, ID: t.ID.String(), Internal: t.IsInternal, ReplicationFactor: t.Partitions.NumReplicas()}
	for _, p := range t.Partitions.Sorted() {
		row := partitionRow{Partition: p.Partition, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch,
			Replicas: p.Replicas, ISR: p.ISR, LogStartOffset: -1, LogEndOffset: -1}
		if s, ok := starts.Lookup(t.Topic, p.Partition); ok && s.Err == nil {
			row.LogStartOffset = s.Offset
		}
		if e, ok := ends.Lookup(t.Topic, p.Partition); ok && e.Err == nil {
			row.LogEndOffset = e.Offset
		}
		if p.Err != nil {
			row.Error = p.Err.Error()
		}
		d.Partitions = append(d.Partitions, row)
	}
	return d
}

// nonDefaultConfigs keeps the configs set on the topic or dynamically on
// the cluster, dropping built-in defaults and static broker settings.
func nonDefaultConfigs(cs []kadm.Config) map[string]string {
	out := map[string]string{}
	for _, c := range cs {
		switch c.Source {
		case kmsg.ConfigSourceDefaultConfig, kmsg.ConfigSourceStaticBrokerConfig, kmsg.ConfigSourceUnknown:
			continue
		}
		v := c.MaybeValue()
		if c.Sensitive {
			v = "(sensitive)"
		}
		out[c.Key] = v
	}
	return out
}

func writeDescriptions(out io.Writer, descs []topicDescription, output string) error {
	if output == "json" {
		if descs == nil {
			descs = []topicDescription{}
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

func writeDescription(out io.Writer, d topicDescription) error {
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
