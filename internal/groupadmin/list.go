package groupadmin

import (
	"context"
	"errors"
	"fmt"
)

// ListRow is one group as listed.
type ListRow struct {
	Group        string `json:"group"`
	State        string `json:"state"`
	ProtocolType string `json:"protocol_type"`
	Members      int    `json:"members"`
}

// States are the group states Kafka knows, spelled as the protocol does.
var States = []string{"Stable", "Empty", "PreparingRebalance", "CompletingRebalance",
	"Assigning", "Reconciling", "Dead", "Unknown"}

// List lists the groups in states (all groups without states), sorted,
// with their member counts. Groups that could not be described are listed
// with 0 members and their errors joined.
func (adm Admin) List(ctx context.Context, states []string) ([]ListRow, error) {
	listed, err := adm.ListGroups(ctx, states...)
	if err != nil {
		return nil, fmt.Errorf("listing groups: %w", err)
	}
	rows := []ListRow{}
	names := listed.Groups()
	if len(names) == 0 {
		return rows, nil
	}
	descs, derrs, err := adm.DescribeStates(ctx, names)
	if err != nil {
		return nil, fmt.Errorf("listing groups: %w", err)
	}
	var errs []error
	for _, l := range listed.Sorted() {
		row := ListRow{Group: l.Group, State: l.State, ProtocolType: l.ProtocolType}
		if d, ok := descs[l.Group]; ok {
			row.Members = len(d.Members)
		} else if derr := derrs[l.Group]; derr != nil {
			errs = append(errs, derr)
		}
		rows = append(rows, row)
	}
	return rows, errors.Join(errs...)
}
