package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
)

func newGroupDeleteCmd(gf *groupFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete GROUP...",
		Short: "Delete consumer groups and their committed offsets",
		Long: `Delete consumer groups with DeleteGroups, committed offsets included. Kafka
deletes only groups without members: stop a group's consumers first.`,
		Example: "  weir group delete orders-app\n  weir group delete orders-app billing",
		Args:    needArgs("GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return gf.withAdmin(cmd.Context(), func(ctx context.Context, adm groupAdmin) error {
				return deleteGroups(ctx, adm, cmd.OutOrStdout(), args)
			})
		},
	}
}

func deleteGroups(ctx context.Context, adm groupAdmin, out io.Writer, names []string) error {
	resps, err := adm.DeleteGroups(ctx, names...)
	if err != nil && len(resps) == 0 {
		return fmt.Errorf("deleting groups: %w", err)
	}
	var errs []error
	for _, name := range names {
		resp, ok := resps[name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("deleting group %s: the response does not mention it", name))
		case errors.Is(resp.Err, kerr.NonEmptyGroup):
			errs = append(errs, fmt.Errorf("deleting group %s: %w: the group has active members; stop its consumers first", name, resp.Err))
		case resp.Err != nil:
			errs = append(errs, fmt.Errorf("deleting group %s: %w", name, withMessage(resp.Err, resp.ErrMessage)))
		default:
			fmt.Fprintf(out, "deleted group %s\n", name)
		}
	}
	return errors.Join(errs...)
}
