package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/weirhq/weir/internal/groupadmin"
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
			return gf.withAdmin(cmd.Context(), func(ctx context.Context, adm groupadmin.Admin) error {
				return deleteGroups(ctx, adm, cmd.OutOrStdout(), args)
			})
		},
	}
}

func deleteGroups(ctx context.Context, adm groupadmin.Admin, out io.Writer, names []string) error {
	deleted, err := adm.Delete(ctx, names)
	for _, name := range deleted {
		fmt.Fprintf(out, "deleted group %s\n", name)
	}
	return err
}
