package anomaly

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/weirhq/weir/collector/model"
)

// finding is what a detector reports for one round: the condition seen
// (one finding per type and round), when it may be alerted and healed,
// and how, or why it cannot be.
type finding struct {
	typ         Type
	key         string // the same condition gives the same key round after round
	description string
	failed      map[int32]time.Time
	brokers     []int32
	goals       []string
	partitions  []string
	full        bool      // DISK_FAILURE: a disk above the threshold
	alertAt     time.Time // zero: at once
	dueAt       time.Time // zero: at once
	fix         *Fix      // nil: report only, noFix says why
	noFix       string
}

// Fix is a self-healing action the detector decided on: a plan over the
// current model with these broker states and goals, executed by the loop.
type Fix struct {
	AnomalyID string
	Type      Type
	// States are broker states applied to the model before planning
	// (Removing for a broker whose log dirs are all offline, Demoted for
	// a metric anomaly); Dead brokers are the model's own.
	States map[int32]model.BrokerState
	Goals  []string
}

// TaskID is the executor task id of the fix's execution.
func (f *Fix) TaskID() string { return "self-healing-" + f.AnomalyID }

func (f *Fix) String() string {
	var parts []string
	for _, id := range slices.Sorted(maps.Keys(f.States)) {
		parts = append(parts, fmt.Sprintf("broker %d %s", id, f.States[id]))
	}
	parts = append(parts, "goals "+strings.Join(f.Goals, ","))
	return strings.Join(parts, "; ")
}

func brokerList(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ",")
}
