package main

import (
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/weirhq/weir/collector/ccclient"
)

func (rf *rebalanceFlags) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the running execution's progress (or the last one's result)",
		Long: `Show the executor's state: the running execution's partitions and data moved
and left, or the last execution's result.`,
		Example: "  weir rebalance status\n  weir rebalance status -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st ccclient.State
			var raw json.RawMessage
			if err := rf.plainClient().Do(cmd.Context(), "GET", "state", url.Values{"substates": {"executor,monitor"}}, &raw); err != nil {
				return fmt.Errorf("%s: %w", cmdName(cmd), err)
			}
			if rf.output == "json" {
				fmt.Fprintln(cmd.OutOrStdout(), string(raw))
				return nil
			}
			if err := json.Unmarshal(raw, &st); err != nil {
				return fmt.Errorf("%s: %w", cmdName(cmd), err)
			}
			e := st.Executor
			fmt.Fprintf(cmd.OutOrStdout(), "executor: %s\n%s\n", e.State, progressLine(e, e.Idle()))
			if e.LastResult != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "last: %s\n", e.LastResult)
			}
			return nil
		},
	}
}

func (rf *rebalanceFlags) stopCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "Stop the running execution: cancel in-flight moves, remove throttles",
		Long: `Stop the running execution (Cruise Control's stop_proposal_execution): the
reassignments in flight are cancelled, none is started, and the replication
throttles the execution set are removed.`,
		Example: "  weir rebalance stop",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var m struct {
				Message string `json:"message"`
			}
			if err := rf.plainClient().Do(cmd.Context(), "POST", "stop_proposal_execution", nil, &m); err != nil {
				return fmt.Errorf("%s: %w", cmdName(cmd), err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), m.Message)
			return nil
		},
	}
}
