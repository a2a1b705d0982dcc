package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
)

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
