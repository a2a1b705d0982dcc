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
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicFlags are shared by the topic subcommands.
type topicFlags struct {
	*globals
	timeout time.Duration
}

func newTopicCmd(g *globals) *cobra.Command {
	tf := &topicFlags{globals: g}
	cmd := &cobra.Command{
		Use:   "topic",
		Short: "Create, list, describe, alter and delete topics",
		Long: `Manage the topics of a Kafka cluster (Weir or any other) through the Kafka
admin API. Kafka errors are shown by their protocol names, for example
UNKNOWN_TOPIC_OR_PARTITION.`,
		Example: `  weir topic create orders --partitions 6 --config retention.ms=86400000
  weir topic list
  weir topic describe orders
  weir topic alter-config orders --set retention.ms=3600000 --delete cleanup.policy
  weir topic delete orders`,
	}
	cmd.PersistentFlags().DurationVar(&tf.timeout, "timeout", 30*time.Second, "give up on the cluster after this long (0: never)")
	cmd.AddCommand(
		newTopicCreateCmd(tf),
		newTopicListCmd(tf),
		newTopicDescribeCmd(tf),
		newTopicDeleteCmd(tf),
		newTopicAlterConfigCmd(tf),
	)
	return cmd
}

// withAdmin runs fn with an admin client and a context bounded by --timeout.
func (tf *topicFlags) withAdmin(ctx context.Context, fn func(context.Context, *kadm.Client) error) error {
	adm, err := tf.admin()
	if err != nil {
		return err
	}
	defer adm.Close()
	ctx, cancel := withTimeout(ctx, tf.timeout)
	defer cancel()
	return fn(ctx, adm)
}

func newTopicCreateCmd(tf *topicFlags) *cobra.Command {
	var (
		partitions   int32
		rf           int16
		configs      []string
		validateOnly bool
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a topic",
		Long: `Create a topic. Partitions and replication factor default to the cluster's
(num.partitions, default.replication.factor). Topic configs take Kafka's
names, e.g. retention.ms, segment.bytes, cleanup.policy.`,
		Example: `  weir topic create orders
  weir topic create orders --partitions 12 --replication-factor 3 --config cleanup.policy=compact
  weir topic create orders --partitions 12 --validate-only`,
		Args: oneArg("topic NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := parseKV(configs, "--config")
			if err != nil {
				return fmt.Errorf("creating topic %s: %w", args[0], err)
			}
			return tf.withAdmin(cmd.Context(), func(ctx context.Context, adm *kadm.Client) error {
				return createTopic(ctx, adm, cmd.OutOrStdout(), args[0], partitions, rf, cfg, validateOnly)
			})
		},
	}
	cmd.Flags().Int32Var(&partitions, "partitions", -1, "number of partitions (-1: the cluster's num.partitions)")
	cmd.Flags().Int16Var(&rf, "replication-factor", -1, "replicas per partition (-1: the cluster's default.replication.factor)")
	cmd.Flags().StringArrayVar(&configs, "config", nil, "topic config key=value (repeatable)")
	cmd.Flags().BoolVar(&validateOnly, "validate-only", false, "only ask the cluster whether the topic could be created")
	return cmd
}

func createTopic(ctx context.Context, adm *kadm.Client, out io.Writer, name string, partitions int32, rf int16, cfg map[string]string, validateOnly bool) error {
	configs := make(map[string]*string, len(cfg))
	for k, v := range cfg {
		configs[k] = kadm.StringPtr(v)
	}
	create := adm.CreateTopics
	if validateOnly {
		create = adm.ValidateCreateTopics
	}
	resps, err := create(ctx, partitions, rf, configs, name)
	if err != nil {
		return fmt.Errorf("creating topic %s: %w", name, err)
	}
	resp, ok := resps[name]
	if !ok {
		return fmt.Errorf("creating topic %s: the response does not mention it", name)
	}
	if resp.Err != nil {
		return fmt.Errorf("creating topic %s: %w", name, withMessage(resp.Err, resp.ErrMessage))
	}
	verb := "created"
	if validateOnly {
		verb = "validated"
	}
	_, err = fmt.Fprintf(out, "%s topic %s (%d partitions, replication factor %d)\n", verb, name, resp.NumPartitions, resp.ReplicationFactor)
	return err
}

// withMessage appends a broker's error message to its error code, when it
// says more than the code.
func withMessage(err error, msg string) error {
	if msg == "" || strings.Contains(err.Error(), msg) {
		return err
	}
	return fmt.Errorf("%w (%s)", err, msg)
}

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

func joinInt32(xs []int32) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

func newTopicDeleteCmd(tf *topicFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME...",
		Short:   "Delete topics",
		Long:    `Delete topics and all their records. This cannot be undone.`,
		Example: "  weir topic delete orders\n  weir topic delete orders payments",
		Args:    needArgs("topic NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return tf.withAdmin(cmd.Context(), func(ctx context.Context, adm *kadm.Client) error {
				return deleteTopics(ctx, adm, cmd.OutOrStdout(), args)
			})
		},
	}
}

func deleteTopics(ctx context.Context, adm *kadm.Client, out io.Writer, names []string) error {
	resps, err := adm.DeleteTopics(ctx, names...)
	if err != nil {
		return fmt.Errorf("deleting topics: %w", err)
	}
	var errs []error
	for _, name := range names {
		resp, ok := resps[name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("deleting topic %s: the response does not mention it", name))
		case resp.Err != nil:
			errs = append(errs, fmt.Errorf("deleting topic %s: %w", name, withMessage(resp.Err, resp.ErrMessage)))
		default:
			fmt.Fprintf(out, "deleted topic %s\n", name)
		}
	}
	return errors.Join(errs...)
}

func newTopicAlterConfigCmd(tf *topicFlags) *cobra.Command {
	var (
		sets, deletes []string
		validateOnly  bool
	)
	cmd := &cobra.Command{
		Use:   "alter-config NAME... (--set KEY=VALUE | --delete KEY)...",
		Short: "Set or remove topic configs (IncrementalAlterConfigs)",
		Long: `Set or remove configs of topics with IncrementalAlterConfigs: only the named
keys change; a deleted key falls back to the cluster's default.`,
		Example: `  weir topic alter-config orders --set retention.ms=3600000
  weir topic alter-config orders --set cleanup.policy=compact --delete retention.bytes`,
		Args: needArgs("topic NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			alters, err := configAlterations(sets, deletes)
			if err != nil {
				return fmt.Errorf("altering configs: %w", err)
			}
			return tf.withAdmin(cmd.Context(), func(ctx context.Context, adm *kadm.Client) error {
				return alterTopicConfigs(ctx, adm, cmd.OutOrStdout(), args, alters, validateOnly)
			})
		},
	}
	cmd.Flags().StringArrayVar(&sets, "set", nil, "config key=value to set (repeatable)")
	cmd.Flags().StringArrayVar(&deletes, "delete", nil, "config key to remove, back to its default (repeatable)")
	cmd.Flags().BoolVar(&validateOnly, "validate-only", false, "only ask the cluster whether the change is valid")
	return cmd
}

// configAlterations turns --set and --delete into incremental alterations.
func configAlterations(sets, deletes []string) ([]kadm.AlterConfig, error) {
	kv, err := parseKV(sets, "--set")
	if err != nil {
		return nil, err
	}
	if len(kv) == 0 && len(deletes) == 0 {
		return nil, errors.New("nothing to change: give --set key=value or --delete key")
	}
	var alters []kadm.AlterConfig
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kadm.StringPtr(kv[k])})
	}
	for _, k := range deletes {
		if _, both := kv[k]; both {
			return nil, fmt.Errorf("%s is both set and deleted", k)
		}
		alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
	}
	return alters, nil
}

func alterTopicConfigs(ctx context.Context, adm *kadm.Client, out io.Writer, names []string, alters []kadm.AlterConfig, validateOnly bool) error {
	alter, verb := adm.AlterTopicConfigs, "altered"
	if validateOnly {
		alter, verb = adm.ValidateAlterTopicConfigs, "validated"
	}
	resps, err := alter(ctx, alters, names...)
	if err != nil {
		return fmt.Errorf("altering topic configs: %w", err)
	}
	var errs []error
	for _, name := range names {
		resp, err := resps.On(name, nil)
		if err == nil {
			err = withMessageIf(resp.Err, resp.ErrMessage)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("altering configs of topic %s: %w", name, err))
			continue
		}
		fmt.Fprintf(out, "%s configs of topic %s\n", verb, name)
	}
	return errors.Join(errs...)
}

// withMessageIf is withMessage for a possibly nil error.
func withMessageIf(err error, msg string) error {
	if err == nil {
		return nil
	}
	return withMessage(err, msg)
}
