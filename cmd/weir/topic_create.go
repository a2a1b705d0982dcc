package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

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
