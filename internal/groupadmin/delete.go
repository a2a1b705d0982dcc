package groupadmin

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Delete deletes groups with DeleteGroups, committed offsets included, and
// returns the names it deleted, in the order given, with the errors of the
// others joined. Kafka deletes only groups without members.
func (adm Admin) Delete(ctx context.Context, names []string) ([]string, error) {
	resps, err := adm.DeleteGroups(ctx, names...)
	if err != nil && len(resps) == 0 {
		return nil, fmt.Errorf("deleting groups: %w", err)
	}
	var deleted []string
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
			deleted = append(deleted, name)
		}
	}
	return deleted, errors.Join(errs...)
}
