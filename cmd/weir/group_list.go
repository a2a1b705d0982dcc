package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// groupRow is one line of `weir group list`.
type groupRow struct {
	Group        string `json:"group"`
	State        string `json:"state"`
	ProtocolType string `json:"protocol_type"`
	Members      int    `json:"members"`
}

// groupStates are the group states Kafka knows, for --state.
var groupStates = []string{"Stable", "Empty", "PreparingRebalance", "CompletingRebalance",
	"Assigning", "Reconciling", "Dead", "Unknown"}

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
in those states (any of ` + strings.Join(groupStates, ", ") + `; any case).`,
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
			return gf.withAdmin(cmd.Context(), func(ctx context.Context, adm groupAdmin) error {
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
		i := slices.IndexFunc(groupStates, func(k string) bool { return strings.EqualFold(k, s) })
		if i < 0 {
			return nil, fmt.Errorf("--state %q: want one of %s", s, strings.Join(groupStates, ", "))
		}
		out = append(out, groupStates[i])
	}
	return out, nil
}

func listGroups(ctx context.Context, adm groupAdmin, out io.Writer, states []string, output string) error {
	listed, err := adm.ListGroups(ctx, states...)
	if err != nil {
		return fmt.Errorf("listing groups: %w", err)
	}
	rows := []groupRow{}
	var errs []error
	if names := listed.Groups(); len(names) > 0 {
		descs, derrs, err := describeGroupStates(ctx, adm, names)
		if err != nil {
			return fmt.Errorf("listing groups: %w", err)
		}
		for _, l := range listed.Sorted() {
			row := groupRow{Group: l.Group, State: l.State, ProtocolType: l.ProtocolType}
			if d, ok := descs[l.Group]; ok {
				row.Members = len(d.Members)
			} else if derr := derrs[l.Group]; derr != nil {
				errs = append(errs, derr)
			}
			rows = append(rows, row)
		}
	}
	if err := writeGroupRows(out, rows, output); err != nil {
		return err
	}
	return errors.Join(errs...)
}

func writeGroupRows(out io.Writer, rows []groupRow, output string) error {
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
