package txn

// State is a transaction's state, with Kafka's ids (the byte stored in
// __transaction_state) and names (what DescribeTransactions and
// ListTransactions show).
type State int8

const (
	Empty             State = 0 // no transaction; after InitProducerId
	Ongoing           State = 1 // partitions added, EndTxn not yet received
	PrepareCommit     State = 2 // EndTxn(commit) stored; markers being written
	PrepareAbort      State = 3 // EndTxn(abort) or a fence stored; markers being written
	CompleteCommit    State = 4 // every commit marker written
	CompleteAbort     State = 5 // every abort marker written
	Dead              State = 6 // the transactional id expired; its tombstone is being written
	PrepareEpochFence State = 7 // never stored: an Ongoing transaction being fenced (Kafka's pending state)
)

var stateNames = [...]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence"}

func (s State) String() string {
	if s.valid() {
		return stateNames[s]
	}
	return "Unknown"
}

func (s State) valid() bool { return s >= 0 && int(s) < len(stateNames) }

// StateNamed is the state with Kafka's name name.
func StateNamed(name string) (State, bool) {
	for i, n := range stateNames {
		if n == name {
			return State(i), true
		}
	}
	return 0, false
}

// validPrevious is Kafka's TransactionState.validPreviousStates: the
// states each state may be entered from. Empty, CompleteCommit and
// CompleteAbort go to PrepareAbort only under transaction version 2 (an
// EndTxn(abort) without partitions).
var validPrevious = [...][]State{
	Empty:             {Empty, CompleteCommit, CompleteAbort},
	Ongoing:           {Ongoing, Empty, CompleteCommit, CompleteAbort},
	PrepareCommit:     {Ongoing},
	PrepareAbort:      {Ongoing, PrepareEpochFence, Empty, CompleteCommit, CompleteAbort},
	CompleteCommit:    {PrepareCommit},
	CompleteAbort:     {PrepareAbort},
	Dead:              {Empty, CompleteAbort, CompleteCommit},
	PrepareEpochFence: {Ongoing},
}

// CanTransition reports whether Kafka allows moving from one state to another.
func CanTransition(from, to State) bool {
	if !to.valid() {
		return false
	}
	for _, s := range validPrevious[to] {
		if s == from {
			return true
		}
	}
	return false
}

// expirable says whether a transactional id in s may expire
// (transactional.id.expiration.ms): no transaction is in flight.
func (s State) expirable() bool {
	return s == Empty || s == CompleteCommit || s == CompleteAbort
}

// complete is the state a Prepare state ends in once its markers are written.
func (s State) complete() State {
	if s == PrepareCommit {
		return CompleteCommit
	}
	return CompleteAbort
}
