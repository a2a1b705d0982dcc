package main

import (
	"context"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/weirhq/weir/internal/groupadmin"
)

// groupFlags are shared by the group subcommands.
type groupFlags struct {
	*globals
	timeout time.Duration
}

func newGroupCmd(g *globals) *cobra.Command {
	gf := &groupFlags{globals: g}
	cmd := &cobra.Command{
		Use:   "group",
		Short: "List, describe, delete consumer groups and reset their offsets",
		Long: `Inspect and manage the consumer groups of a Kafka cluster (Weir or any other),
the way Kafka's kafka-consumer-groups.sh does: list groups, show each
partition's committed offset, log end offset and lag, delete groups, and
move a group's committed offsets.

Both protocols are understood: classic groups (JoinGroup/SyncGroup) and
KIP-848 consumer groups (ConsumerGroupHeartbeat).`,
		Example: `  weir group list
  weir group describe orders-app
  weir group reset-offsets orders-app --topic orders --to-earliest --execute
  weir group delete orders-app`,
	}
	cmd.PersistentFlags().DurationVar(&gf.timeout, "timeout", 30*time.Second, "give up on the cluster after this long (0: never)")
	cmd.AddCommand(
		newGroupListCmd(gf),
		newGroupDescribeCmd(gf),
		newGroupDeleteCmd(gf),
		newGroupResetOffsetsCmd(gf),
	)
	return cmd
}

// withAdmin runs fn with an admin client and a context bounded by --timeout.
func (gf *groupFlags) withAdmin(ctx context.Context, fn func(context.Context, groupadmin.Admin) error) error {
	cl, err := gf.client()
	if err != nil {
		return err
	}
	adm := groupadmin.New(cl)
	defer adm.Close()
	ctx, cancel := withTimeout(ctx, gf.timeout)
	defer cancel()
	return fn(ctx, adm)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func offsetOrDash(o *int64) string {
	if o == nil {
		return "-"
	}
	return strconv.FormatInt(*o, 10)
}

func nonNegative(o int64) *int64 {
	if o < 0 {
		return nil
	}
	return &o
}
