package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/weirhq/weir/internal/groupadmin"
)

func newGroupListCmd(gf *groupFlags) *cobra.Command {
	var (
		output string
		states []string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List consumer groups with their state and member count",
		Long: `List the consumer groups of the cluster: name, state, protocol type (consumer
for Kafka consumers, connect for Kafka Connect, empty for groups that only
hold committed offsets) and the number of members. --state keeps only groups
in those states (any of ` + strings.Join(groupadmin.States, ", ") + `; any case).`,
		Example: `  weir group list
  weir group list --state Stable,PreparingRebalance
  weir group list --state empty -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			filter, err := canonicalStates(states)
			if err != nil {
				return fmt.Errorf("listing groups: %w", err)
			}
			return gf.withAdmin(cmd.Context(), func(ctx context.Context, adm groupadmin.Admin) error {
				return listGroups(ctx, adm, cmd.OutOrStdout(), filter, output)
			})
		},
	}
	cmd.Flags().StringSliceVar(&states, "state", nil, "only groups in these states, comma separated")
	outputFlag(cmd, &output)
	return cmd
}

// canonicalStates spells --state values the way the protocol does.
func canonicalStates(states []string) ([]string, error) {
	out := make([]string, 0, len(states))
	for _, s := range states {
		i := slices.IndexFunc(groupadmin.States, func(k string) bool { return strings.EqualFold(k, s) })
		if i < 0 {
			return nil, fmt.Errorf("--state %q: want one of %s", s, strings.Join(groupadmin.States, ", "))
		}
		out = append(out, groupadmin.States[i])
	}
	return out, nil
}

// listGroups prints the groups in states; groups that could not be
// described are printed with 0 members and their errors returned.
func listGroups(ctx context.Context, adm groupadmin.Admin, out io.Writer, states []string, output string) error {
	rows, err := adm.List(ctx, states)
	if rows == nil {
		return err
	}
	if werr := writeGroupRows(out, rows, output); werr != nil {
		return werr
	}
	return err
}

func writeGroupRows(out io.Writer, rows []groupadmin.ListRow, output string) error {
	if output == "json" {
		return writeJSON(out, rows)
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tSTATE\tPROTOCOL-TYPE\tMEMBERS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", r.Group, r.State, orDash(r.ProtocolType), r.Members)
	}
	return tw.Flush()
}
