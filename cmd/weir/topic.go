package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
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

// withMessage appends a broker's error message to its error code, when it
// says more than the code.
func withMessage(err error, msg string) error {
	if msg == "" || strings.Contains(err.Error(), msg) {
		return err
	}
	return fmt.Errorf("%w (%s)", err, msg)
}

// withMessageIf is withMessage for a possibly nil error.
func withMessageIf(err error, msg string) error {
	if err == nil {
		return nil
	}
	return withMessage(err, msg)
}

func joinInt32(xs []int32) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}
