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
	"github.com/weirhq/weir/internal/groupadmin"
)

func newGroupDescribeCmd(gf *groupFlags) *cobra.Command {
	var (
		output  string
		members bool
	)
	cmd := &cobra.Command{
		Use:   "describe GROUP...",
		Short: "Show a group's members, committed offsets and lag per partition",
		Long: `Describe consumer groups. For each group a header line (group, coordinator
broker, state, protocol, member count), then one row per partition the group
is assigned or has committed offsets for:

  TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID

CURRENT-OFFSET is the group's committed offset, LAG is LOG-END-OFFSET minus
it; both are - for a partition with no committed offset. The consumer
columns are - for partitions no member is assigned, as when the group is
Empty. --members lists the members and their assignments instead.`,
		Example: `  weir group describe orders-app
  weir group describe orders-app billing --members
  weir group describe orders-app -o json`,
		Args: needArgs("GROUP"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			return gf.withAdmin(cmd.Context(), func(ctx context.Context, adm groupadmin.Admin) error {
				descs, err := adm.Describe(ctx, args)
				if werr := writeGroupDescriptions(cmd.OutOrStdout(), descs, output, members); werr != nil {
					return werr
				}
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&members, "members", false, "list the members and their assignments instead of the partitions")
	outputFlag(cmd, &output)
	return cmd
}

func writeGroupDescriptions(out io.Writer, descs []groupadmin.Description, output string, members bool) error {
	if output == "json" {
		if descs == nil {
			descs = []groupadmin.Description{}
		}
		return writeJSON(out, descs)
	}
	for i, d := range descs {
		if i > 0 {
			fmt.Fprintln(out)
		}
		write := writeGroupPartitions
		if members {
			write = writeGroupMembers
		}
		writeGroupHeader(out, d)
		if err := write(out, d); err != nil {
			return err
		}
	}
	return nil
}

func writeGroupHeader(out io.Writer, d groupadmin.Description) {
	protocol := d.ProtocolType
	if d.Protocol != "" {
		protocol += "/" + d.Protocol
	}
	fmt.Fprintf(out, "Group: %s\tCoordinator: %d\tState: %s\tProtocol: %s\tMembers: %d\n",
		d.Group, d.Coordinator, d.State, orDash(protocol), len(d.Members))
}

func writeGroupPartitions(out io.Writer, d groupadmin.Description) error {
	withErrors := slices.ContainsFunc(d.Partitions, func(r groupadmin.PartitionRow) bool { return r.Error != "" })
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "TOPIC\tPARTITION\tCURRENT-OFFSET\tLOG-END-OFFSET\tLAG\tCONSUMER-ID\tHOST\tCLIENT-ID")
	if withErrors {
		fmt.Fprint(tw, "\tERROR")
	}
	fmt.Fprintln(tw)
	for _, r := range d.Partitions {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s", r.Topic, r.Partition, offsetOrDash(r.CurrentOffset),
			offsetOrDash(nonNegative(r.LogEndOffset)), offsetOrDash(r.Lag), orDash(r.ConsumerID), orDash(r.Host), orDash(r.ClientID))
		if withErrors {
			fmt.Fprintf(tw, "\t%s", r.Error)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func writeGroupMembers(out io.Writer, d groupadmin.Description) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONSUMER-ID\tINSTANCE-ID\tHOST\tCLIENT-ID\t#PARTITIONS\tASSIGNMENT")
	for _, m := range d.Members {
		n, assignment := formatAssignment(m.Assignment)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", m.ConsumerID, orDash(m.InstanceID), m.Host, m.ClientID, n, assignment)
	}
	return tw.Flush()
}

// formatAssignment writes an assignment as orders(0,1),payments(3) and
// counts its partitions.
func formatAssignment(a map[string][]int32) (int, string) {
	n := 0
	var parts []string
	for _, t := range slices.Sorted(maps.Keys(a)) {
		n += len(a[t])
		parts = append(parts, fmt.Sprintf("%s(%s)", t, joinInt32(a[t])))
	}
	return n, orDash(strings.Join(parts, ","))
}
