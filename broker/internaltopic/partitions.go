package internaltopic

import "github.com/twmb/franz-go/pkg/kerr"

// State is where one internal-topic partition stands on a coordinator.
type State int8

const (
	// Unowned: not this coordinator's (absent from Partitions).
	Unowned State = iota
	// Loading: becoming this coordinator's; its records are being
	// replayed (or are about to be).
	Loading
	// Owned: loaded and served.
	Owned
)

// Partition is one partition's state and the epoch it was loaded at (the
// partition's leader epoch where the coordinator uses one, such as the
// transaction coordinator's coordinator epoch; else 0).
type Partition struct {
	State State
	Epoch int32
}

// Partitions is the ownership of a coordinator's internal-topic
// partitions; an absent partition is Unowned. It has no lock: its
// coordinator's mutex guards it, as it guards the coordinator's map of
// groups or transactional ids.
type Partitions map[int32]Partition

// State returns p's state.
func (ps Partitions) State(p int32) State { return ps[p].State }

// Owned reports whether p is loaded and served.
func (ps Partitions) Owned(p int32) bool { return ps[p].State == Owned }

// MarkLoading marks p Loading unless it is Owned already.
func (ps Partitions) MarkLoading(p int32) {
	if ps[p].State != Owned {
		ps[p] = Partition{State: Loading}
	}
}

// StartLoad marks p Loading for a load at epoch and reports true, or
// reports false when p is Owned at that epoch already (nothing to load).
func (ps Partitions) StartLoad(p, epoch int32) bool {
	if cur := ps[p]; cur.State == Owned && cur.Epoch == epoch {
		return false
	}
	ps[p] = Partition{State: Loading}
	return true
}

// Loading reports whether p is Loading: a load that finds it no longer
// so was overtaken by an unload and must drop what it read.
func (ps Partitions) Loading(p int32) bool { return ps[p].State == Loading }

// Loaded marks p Owned at epoch.
func (ps Partitions) Loaded(p, epoch int32) { ps[p] = Partition{State: Owned, Epoch: epoch} }

// Err is what a request for a key of partition p is told: nil when p is
// Owned, COORDINATOR_LOAD_IN_PROGRESS while it loads, else
// NOT_COORDINATOR.
func (ps Partitions) Err(p int32) *kerr.Error {
	switch ps[p].State {
	case Loading:
		return kerr.CoordinatorLoadInProgress
	case Owned:
		return nil
	}
	return kerr.NotCoordinator
}

// AnyLoading reports whether some partition is Loading (a listing of
// every key is then incomplete).
func (ps Partitions) AnyLoading() bool {
	for _, cur := range ps {
		if cur.State == Loading {
			return true
		}
	}
	return false
}
